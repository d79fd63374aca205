"""Media helpers shared by the test packages (import: ``from reelproof_test_media import ...``).

Kept out of ``conftest.py`` on purpose: several test folders have their own ``conftest.py``, and
``from conftest import ...`` would pick whichever was imported last.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

VideoFactory = Callable[..., Path]
"""Signature of the ``make_video`` fixture (see ``tests/conftest.py``)."""


def synthetic_frames(n: int = 12, height: int = 64, width: int = 96, seed: int = 0) -> np.ndarray:
    """(n, H, W, 3) uint8 RGB: smooth colour gradients, a moving square and mild noise.

    Smooth content with some texture, like real footage (pure noise would not survive any
    lossy codec and says nothing about a pipeline).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((n, height, width, 3), np.uint8)
    for t in range(n):
        r = 128 + 100 * np.sin(xx / 11.0 + t / 3.0)
        g = 128 + 100 * np.cos(yy / 9.0 - t / 4.0)
        b = 128 + 90 * np.sin((xx + yy) / 15.0)
        img = np.stack([r, g, b], axis=-1)
        top, left = (4 + 2 * t) % (height - 16), (6 + 3 * t) % (width - 16)
        img[top : top + 16, left : left + 16] = (235, 40, 60)
        img += rng.normal(0, 2.0, img.shape)
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def write_tone(out: object, audio: object, seconds: float) -> None:
    """A stereo 440 Hz tone on ``audio`` (PyAV encodes with its own frame sizes)."""
    import av

    rate, block = 48000, 1024
    total = int(seconds * rate)
    t = np.arange(total, dtype=np.float32) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for start in range(0, total, block):
        chunk = tone[start : start + block]
        samples = np.stack([chunk, chunk])  # (2, n) planar float
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = rate
        frame.pts = start
        out.mux(audio.encode(frame))  # type: ignore[attr-defined]
    out.mux(audio.encode(None))  # type: ignore[attr-defined]
