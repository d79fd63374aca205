"""Small clips (from 64 px), the key-independent synchronisation, file reading from the luma
plane, and the sequential stopping rule."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from reelproof.core import Clip
from reelproof.core.errors import InputError
from reelproof.watermark import Keyring, WatermarkKey, create_watermarker, detect_file
from reelproof.watermark.accumulate import FoldAccumulator
from reelproof.watermark.rpss import RpSsConfig, futility_boundary, z_threshold
from reelproof.watermark.sync import synchronise

from .conftest import PAYLOAD


def test_min_side_is_64_and_smaller_frames_are_refused() -> None:
    wm = create_watermarker("rp-ss")
    assert wm.min_side == 64
    with pytest.raises(InputError, match="64"):
        wm.embed(np.zeros((1, 48, 96, 3), np.uint8), PAYLOAD)
    assert wm.embed(np.full((1, 64, 64, 3), 128, np.uint8), PAYLOAD).shape == (1, 64, 64, 3)


def test_a_64px_clip_is_marked_and_read(bikes_mp4: Path) -> None:
    from reelproof.core.io import read_clip

    frames = read_clip(bikes_mp4, max_frames=96).frames
    small = np.ascontiguousarray(frames[:, 100:164, 300:364])  # 64x64 of real footage
    reading = create_watermarker("rp-ss").detect(create_watermarker("rp-ss").embed(small, PAYLOAD))
    assert reading.detected and reading.payload == PAYLOAD.to_hex()


def test_synchronisation_measures_the_scale_whichever_key_marked_the_clip(
    bikes_frames: np.ndarray,
) -> None:
    """The lattice search never reads a key (the frequencies it looks for are every key's), so
    clips marked with different keys give the same measured geometry."""
    import cv2

    from reelproof.watermark.geometry import Geometry

    config = RpSsConfig()
    measured = []
    for key in (
        WatermarkKey.demo(),
        WatermarkKey.from_secret(b"another key, 32 bytes long!!!!"[:32]),
    ):
        marked = create_watermarker("rp-ss", key=key).embed(bikes_frames[:4], PAYLOAD)
        acc = FoldAccumulator(config)
        for frame in marked:
            acc.add_frame(cv2.resize(frame, (448, 190), interpolation=cv2.INTER_AREA))
        assert acc.whitened is not None
        lattices = synchronise(acc.whitened, acc.factor, config)
        assert lattices
        measured.append(Geometry.from_reciprocal(lattices[0][1], acc.factor, 64, 0.0).scale)
    assert all(abs(s - 0.7) < 0.005 for s in measured), measured


def test_file_detection_reads_the_luma_plane(tmp_path: Path, marked_bikes: np.ndarray) -> None:
    from reelproof.core.io import write_clip

    path = write_clip(Clip(frames=marked_bikes[:12], fps=Fraction(25)), tmp_path / "m.mp4", crf=18)
    from_file = detect_file(path, keyring=Keyring([WatermarkKey.demo()]))
    assert from_file.detected and from_file.payload == PAYLOAD.to_hex()
    assert from_file.frames_used == 1  # settled on the first folded frame


def test_sequential_boundary_keeps_its_error_bound() -> None:
    """Simulated marks of the weakest strength the budget can reveal: the boundary gives up on
    at most beta of them (Ville's inequality), while a stronger boundary would lose many."""
    budget, beta = 64, 0.05
    needed = z_threshold(1e-6, 2_000_000)
    mu = needed / math.sqrt(budget)  # the weakest mark the budget reveals on average
    rng = np.random.default_rng(3)
    walks = np.cumsum(rng.normal(mu, 1.0, (4000, budget)), axis=1)
    looks = [1, 4, 16, 64]
    z = walks[:, [n - 1 for n in looks]] / np.sqrt(looks)
    bounds = np.array([futility_boundary(n, budget, needed, beta) for n in looks])
    lost = np.mean(np.any(z < bounds, axis=1))
    assert lost <= beta
    doubled = np.array([futility_boundary(n, budget, needed, 0.5) + 1.5 for n in looks])
    assert np.mean(np.any(z < doubled, axis=1)) > 2 * beta  # the bound is not vacuous


def _bit_errors(soft: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.sign(soft) != truth))


def test_cross_talk_cancellation_reads_more_bits_of_64px_clips(bikes_mp4: Path) -> None:
    """A 64-px picture holds a quarter of the 128-px tile, so the plain spectral read of the
    payload mixes neighbouring bins; the windowed read cancels that cross-talk. Over 64-px
    crops of real footage it gets clearly fewer coded bits wrong, and every id it reads is
    the right one."""
    from reelproof.core.io import read_clip
    from reelproof.core.payload import Payload
    from reelproof.watermark.coding import encode_payload
    from reelproof.watermark.geometry import Geometry
    from reelproof.watermark.layout import make_layout
    from reelproof.watermark.scoring import score_key, windowed_soft

    frames = read_clip(bikes_mp4, max_frames=9).frames
    wm = create_watermarker("rp-ss", strength=3.0, mask_floor=1.8, min_psnr=33.0)
    layout = make_layout(WatermarkKey.demo(), 128, wm.config.r_lo, wm.config.r_hi)
    plain_errors, windowed_errors = [], []
    for index, (y, x) in enumerate([(20, 40), (100, 300), (150, 500), (200, 120), (60, 560)]):
        payload = Payload.from_hex(f"{index + 1:x}" * 16)
        marked = wm.embed(np.ascontiguousarray(frames[:, y : y + 64, x : x + 64]), payload)
        coded = encode_payload(payload.to_array(), layout.mac_key, layout.scramble)
        truth = 1.0 - 2.0 * coded
        acc = FoldAccumulator(wm.config)
        for frame in marked:
            acc.add_frame(frame)
        score = score_key(acc, layout, flips=True)
        assert score is not None
        geometry = score.geometry or Geometry.fixed(1.0, 0.0, acc.factor)
        tile, filled = acc.fold(geometry, period=64), acc.filled(geometry, 64)
        assert 0 < filled.sum() < filled.size  # a partial tile: the case the windowed read is for
        soft = windowed_soft(tile, filled, layout, score.flipped, score.offset)
        plain_errors.append(_bit_errors(score.soft, truth))
        windowed_errors.append(_bit_errors(soft, truth))
        assert wm.detect(marked).payload in (None, payload.to_hex())
    assert np.mean(windowed_errors) < 0.75 * np.mean(plain_errors), (plain_errors, windowed_errors)


def test_lattice_search_runs_at_the_first_look_then_from_16_frames(
    bikes_frames: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unmarked clip pays for every lattice search, so the look at 4 frames reuses the first
    look's lattices; the search runs again at 16 and 64 frames (fourfold growth)."""
    import reelproof.watermark.sync as sync

    counts: list[int] = []
    real = sync.synchronise

    def counting(image: np.ndarray, factor: int, config: RpSsConfig) -> list:  # type: ignore[type-arg]
        counts.append(-1)
        return real(image, factor, config)

    monkeypatch.setattr(sync, "synchronise", counting)
    frames = np.ascontiguousarray(np.concatenate([bikes_frames] * 3)[:70, :256, :320])
    detector = create_watermarker("rp-ss", futility_beta=0.0).stream_detector(max_frames=70)
    searched_at = []
    for frame in frames:
        before = len(counts)
        detector.update(frame[None])
        if len(counts) > before:
            searched_at.append(detector.acc.frames_used)
    assert not detector.reading().detected
    assert searched_at[:3] == [1, 16, 64], searched_at
