"""Fixtures for the detector tests: a tiny real/fake video set built in code, and a detector
fitted on it (seconds, no corpus, no shipped weights needed)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from reelproof.core.io import VideoWriter

SIZE = 128
FRAMES = 20  # 0.8 s at 25 fps: long enough for a clip verdict (screening needs 0.75 s)


def camera_like_frames(seed: int, n: int = FRAMES, size: int = SIZE) -> np.ndarray:
    """(n, size, size, 3) uint8: multi-scale texture panning by whole pixels, plus sensor noise."""
    rng = np.random.default_rng(seed)
    big = size + 2 * n
    field = sum(
        ndimage.gaussian_filter(rng.normal(0, 1, (big, big)), sigma) * sigma
        for sigma in (1.0, 3.0, 8.0)
    )
    field = 128 + 40 * field / (np.abs(field).max() + 1e-6)
    tint = rng.uniform(0.8, 1.2, 3)
    frames = []
    for t in range(n):
        luma = field[t : t + size, t : t + size]
        rgb = luma[..., None] * tint + rng.normal(0, 3.0, (size, size, 3))
        frames.append(np.clip(rgb, 0, 255))
    return np.asarray(frames, dtype=np.uint8)


def decoder_like(frames: np.ndarray) -> np.ndarray:
    """A crude "generator": 2x block-average down, nearest up, light smoothing (period-2 trace)."""
    f = frames.astype(np.float32)
    n, h, w, c = f.shape
    small = f.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
    up = small.repeat(2, axis=1).repeat(2, axis=2)
    up = ndimage.uniform_filter(up, size=(1, 2, 2, 1))
    return np.clip(up, 0, 255).astype(np.uint8)


def write_mp4(path: Path, frames: np.ndarray, crf: int = 18) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(
        path,
        fps=Fraction(25),
        width=frames.shape[2],
        height=frames.shape[1],
        crf=crf,
        preset="ultrafast",
    ) as writer:
        writer.write(frames)
    return path


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """real/ + fake/<family>/ layout: 8 sources, one real and one fake clip each."""
    root = tmp_path_factory.mktemp("tiny-detector-data")
    for s in range(8):
        real = camera_like_frames(seed=s)
        write_mp4(root / "real" / f"src{s}__c0.mp4", real)
        family = "nearest2x" if s % 2 else "nearest2x_b"
        write_mp4(root / "fake" / family / f"src{s}__c0.mp4", decoder_like(real))
    return root


@pytest.fixture(scope="session")
def tiny_detector(tiny_dataset: Path):  # type: ignore[no-untyped-def]
    """A ClipDetector fitted on ``tiny_dataset`` (forensic features, logistic head)."""
    from reelproof.detector import DetectorConfig
    from reelproof.detector.training import train_from_folders

    return train_from_folders([tiny_dataset], DetectorConfig(folds=4, min_side=64))
