"""The synchronisation's second search, at half the working resolution, for upscaled re-posts of
clips whose own content is periodic (a building's windows): there the working-resolution search
locks on the facade instead of the mark (found on the Open-Sora-Plan drone clip: 9:16 cuts and
2.5x zooms lost their id)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from reelproof.core import Clip
from reelproof.eval.attacks import create_attack
from reelproof.watermark import create_watermarker
from reelproof.watermark.accumulate import FoldAccumulator
from reelproof.watermark.rpss import RpSsConfig
from reelproof.watermark.scoring import hypotheses_per_geometry, n_tests
from reelproof.watermark.sync import coarse_measurable

from .conftest import PAYLOAD


def _facade_clip(frames: int, height: int, width: int) -> np.ndarray:
    """A static textured scene with a block of windows (period 17 x 22 px) in its middle third,
    panning 3 px right and 2 px down per frame; (frames, height, width, 3) uint8."""
    rng = np.random.default_rng(5)
    big_h, big_w = height + 2 * frames, width + 3 * frames
    fy, fx = np.fft.fftfreq(big_h)[:, None], np.fft.fftfreq(big_w)[None, :]
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0
    noise = rng.normal(size=(big_h, big_w)) + 1j * rng.normal(size=(big_h, big_w))
    texture = np.fft.ifft2(noise / radius).real
    texture = (texture - texture.mean()) / texture.std() * 50.0 + 128.0
    rows, cols = np.mgrid[0:big_h, 0:big_w]
    windows = np.where(((rows % 22) < 13) & ((cols % 17) < 10), 90.0, 200.0)
    middle = (cols > 0.3 * big_w) & (cols < 0.7 * big_w)
    scene = np.clip(np.where(middle, windows, texture), 0, 255).astype(np.uint8)
    crops = [scene[2 * i : 2 * i + height, 3 * i : 3 * i + width] for i in range(frames)]
    return np.ascontiguousarray(np.repeat(np.stack(crops)[..., None], 3, axis=3))


@pytest.fixture(scope="module")
def vertical_facade() -> np.ndarray:
    """The facade clip at 720p, marked, cut 9:16 and blown up 1.78x to a vertical frame."""
    marked = create_watermarker("rp-ss").embed(_facade_clip(8, 720, 1280), PAYLOAD)
    return create_attack("vertical_9:16")(Clip(frames=marked, fps=Fraction(25))).frames


def test_an_upscaled_repost_of_periodic_content_is_read(vertical_facade: np.ndarray) -> None:
    reading = create_watermarker("rp-ss").detect(vertical_facade)
    assert reading.detected and reading.payload == PAYLOAD.to_hex()
    assert abs(reading.scale - 1.78) < 0.02, reading.scale


def test_without_the_half_resolution_search_the_facade_wins(vertical_facade: np.ndarray) -> None:
    """The control: the working-resolution search alone measures the windows' lattice."""
    reading = create_watermarker("rp-ss", coarse_candidates=0).detect(vertical_facade)
    assert not reading.detected and reading.payload is None
    assert abs(reading.scale - 1.78) > 0.1, reading.scale


def test_the_p_value_counts_the_half_resolution_candidates() -> None:
    """Counted by frame size alone: 720p clips pay for one more geometry per tile, 360p ones
    (too small for the half-resolution search) do not."""
    for (height, width), searched in (((720, 1280), True), ((360, 640), False)):
        counts = []
        for coarse in (0, 1):
            acc = FoldAccumulator(RpSsConfig(coarse_candidates=coarse))
            acc.add_frame(_facade_clip(1, height, width)[0])
            assert acc.whitened is not None
            assert coarse_measurable(*acc.whitened.shape, acc.factor, acc.config) is (
                searched and coarse == 1
            )
            counts.append(n_tests(acc, flips=True))
        per_geometry = sum(hypotheses_per_geometry(t // 2, True) for t in acc.tiles())
        assert counts[1] - counts[0] == (per_geometry if searched else 0)
