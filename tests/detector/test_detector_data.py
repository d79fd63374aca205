"""Dataset layouts and the decoder families used to build the offline corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from reelproof.core import ConfigError
from reelproof.detector import discover
from reelproof.detector.corpus import resample
from reelproof.detector.decoders import (
    FAMILIES,
    DecoderTrainConfig,
    build_decoder_model,
    reconstruct,
    train_decoder,
)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_real_fake_layout(tmp_path: Path) -> None:
    _touch(tmp_path / "real" / "a__0.mp4")
    _touch(tmp_path / "fake" / "sora" / "a__1.mp4")
    _touch(tmp_path / "fake" / "b.mp4")
    layout, items = discover(tmp_path)
    assert layout == "real+fake"
    assert {(v.family, v.label, v.source) for v in items} == {
        ("real", 0, "a"),
        ("sora", 1, "a"),
        ("fake", 1, "b"),
    }


def test_per_generator_layout(tmp_path: Path) -> None:
    _touch(tmp_path / "real" / "x.mp4")
    _touch(tmp_path / "svd" / "y.mov")
    _touch(tmp_path / "animatediff" / "sub" / "z.mkv")
    layout, items = discover(tmp_path)
    assert layout == "per-generator"
    assert sorted(v.family for v in items if v.label) == ["animatediff", "svd"]


def test_faceforensics_layout_groups_by_target_video(tmp_path: Path) -> None:
    _touch(tmp_path / "original_sequences" / "youtube" / "c23" / "videos" / "000.mp4")
    _touch(tmp_path / "manipulated_sequences" / "Deepfakes" / "c23" / "videos" / "000_003.mp4")
    layout, items = discover(tmp_path)
    assert layout == "faceforensics++"
    assert {v.source for v in items} == {"000"}
    assert {v.family for v in items} == {"real", "Deepfakes"}


def test_missing_or_one_class_folders_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        discover(tmp_path / "nope")
    _touch(tmp_path / "real" / "a.mp4")
    with pytest.raises(ConfigError, match="both real and fake"):
        discover(tmp_path)


@pytest.mark.parametrize("family", FAMILIES)
def test_decoder_families_reconstruct_at_input_size(family: str) -> None:
    torch.manual_seed(0)
    cfg = DecoderTrainConfig(width=8, steps=2, batch=2, crop=32)
    frames = [np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)]
    model = train_decoder(family, frames, seed=0, cfg=cfg)
    out = reconstruct(model, np.stack(frames), multiple=4)
    assert out.shape == (1, 48, 64, 3) and out.dtype == np.uint8
    assert sum(p.numel() for p in build_decoder_model(family, cfg).parameters()) > 0


def test_resample_keeps_even_sizes() -> None:
    frames = np.zeros((2, 100, 60, 3), np.uint8)
    assert resample(frames, 0.75, "area").shape == (2, 76, 44, 3)
    assert resample(frames, 1.5, "bicubic").shape == (2, 150, 90, 3)
