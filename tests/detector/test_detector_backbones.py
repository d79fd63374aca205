"""Contract suite over every registered backbone, plus the forensic features themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.core import ConfigError, UnknownNameError
from reelproof.detector import create_backbone, list_backbones
from reelproof.detector.backbones import FeatureExtractor

from .conftest import camera_like_frames, decoder_like

EXPECTED = {
    "forensic",
    "residual",
    "spectrum",
    "upsampling",
    "traces",
    "resnet18",
    "efficientnet_b0",
    "convnext_atto",
}


def test_registry_lists_every_expected_backbone() -> None:
    assert set(list_backbones()) >= EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_backbone_contract(name: str) -> None:
    frames = camera_like_frames(seed=1, n=2, size=64)  # smallest size every extractor judges
    a = create_backbone(name)
    assert isinstance(a, FeatureExtractor)
    feats = a.extract(frames)
    assert feats.shape == (2, a.dim) and feats.dtype == np.float32
    assert np.isfinite(feats).all()
    # Deterministic: a second instance (seeded from-scratch weights) gives the same rows.
    again = create_backbone(name).extract(frames)
    np.testing.assert_allclose(feats, again, rtol=1e-4, atol=1e-5)
    # Frames too small for the extractor give NaN rows instead of garbage.
    tiny = a.extract(np.zeros((2, 16, 16, 3), dtype=np.uint8))
    assert tiny.shape == (2, a.dim) and np.isnan(tiny).all()


def test_unknown_backbone_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match="resnet18"):
        create_backbone("resnet-18")


def test_forensic_backbone_refuses_weights(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no weights"):
        create_backbone("forensic", pretrained_path=tmp_path / "w.pth")


def test_timm_backbone_loads_a_user_checkpoint_and_rejects_a_bad_one(tmp_path: Path) -> None:
    import torch

    src = create_backbone("convnext_atto")
    state = {k: v + 0.01 for k, v in src.model.state_dict().items()}  # type: ignore[attr-defined]
    good = tmp_path / "atto.pth"
    torch.save(state, good)
    loaded = create_backbone("convnext_atto", pretrained_path=good)
    key = next(iter(state))
    assert torch.equal(loaded.model.state_dict()[key], state[key])  # type: ignore[attr-defined]
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError):
        create_backbone("convnext_atto", pretrained_path=bad)
    with pytest.raises(ConfigError, match="does not fit"):
        create_backbone("resnet18", pretrained_path=good)


def test_upsampling_traces_see_a_period_two_pattern() -> None:
    """The period-2 grid-phase feature rises when frames are nearest-upsampled."""
    real = camera_like_frames(seed=3, n=2, size=128)
    fake = decoder_like(real)
    ex = create_backbone("upsampling")
    period2_lap = 2 * 4 + 2  # index of the period-2 phase spread of the Laplacian residual
    assert (ex.extract(fake)[:, period2_lap] > 2 * ex.extract(real)[:, period2_lap]).all()


@pytest.mark.parametrize("side", [64, 63])
def test_mean_power_spectrum_equals_the_full_fft(side: int) -> None:
    """The real-FFT spectrum, completed by symmetry, is ``|fft2|**2`` averaged over patches."""
    from reelproof.detector.features import mean_power_spectrum

    patches = np.random.default_rng(side).normal(size=(5, side, side)).astype(np.float32)
    full = np.mean(np.abs(np.fft.fft2(patches)) ** 2, axis=0)
    np.testing.assert_allclose(mean_power_spectrum(patches), full, rtol=1e-4, atol=1e-3)


def test_letterbox_profile_of_uint8_frames_is_exact() -> None:
    """The summed-first row/column profile equals a per-frame float64 computation."""
    from reelproof.detector.frames import _profile

    frames = np.random.default_rng(7).integers(0, 256, size=(8, 36, 52), dtype=np.uint8)
    wide = frames.astype(np.float64)
    for dim, axes in ((1, (0, 2)), (0, (0, 1))):
        mean, std = _profile(frames, dim)
        np.testing.assert_array_equal(mean, wide.mean(axis=axes).astype(np.float32))
        np.testing.assert_allclose(std, wide.std(axis=axes), rtol=1e-6)
