"""Temporal noise features: fresh sensor noise vs detail frozen with the picture, repeats,
stills, and the benchmark's feature sets built from them (real encoded files)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from reelproof.detector.datasets import LabeledVideo
from reelproof.detector.temporal import (
    MAX_INTRO_FRAMES,
    TEMPORAL_DIM,
    TEMPORAL_NAMES,
    after_intro,
    clip_temporal_features,
    temporal_features,
)
from reelproof.detector.temporal_data import (
    clip_vectors,
    join_vectors,
    set_vectors,
    vectors_by_path,
)
from reelproof.detector.training import VideoFeatures
from reelproof.eval.detector_ood import with_intro
from reelproof.eval.detector_temporal import temporal_sets

from .conftest import write_mp4

SIZE = 160
N = 16


def _texture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = sum(
        ndimage.gaussian_filter(rng.normal(0, 1, (SIZE, SIZE)), s) * s for s in (1.0, 3.0, 8.0)
    )
    out: np.ndarray = 128 + 40 * field / (np.abs(field).max() + 1e-6)
    return out


def _clip(fresh_noise: bool, seed: int = 0) -> np.ndarray:
    """A still scene with a slow brightness ramp (so no frame repeats) and noise that is either
    drawn anew per frame (a camera) or the same in every frame (detail fixed to the picture)."""
    rng = np.random.default_rng(seed + 1)
    scene = _texture(seed)
    frozen = rng.normal(0, 1.2, (SIZE, SIZE))
    frames = []
    for t in range(N):
        noise = rng.normal(0, 1.2, (SIZE, SIZE)) if fresh_noise else frozen
        luma = scene + noise + 0.5 * t
        frames.append(np.repeat(np.clip(luma, 0, 255)[..., None], 3, axis=2))
    return np.asarray(frames, dtype=np.uint8)


def test_fresh_sensor_noise_changes_still_detail_frozen_detail_does_not() -> None:
    camera = temporal_features(_clip(fresh_noise=True))
    frozen = temporal_features(_clip(fresh_noise=False))
    assert camera.shape == (TEMPORAL_DIM,) and np.isfinite(camera).all()
    # Independent noise in two frames: the difference of the detail is about as large as the
    # detail itself; detail fixed to the picture only changes by 8-bit rounding of the ramp.
    # (The features are on a log1p scale; expm1 gives the ratios back.)
    camera, frozen = np.expm1(camera), np.expm1(frozen)
    for name in ("still_detail_change", "compensated_change"):
        index = TEMPORAL_NAMES.index(name)
        assert camera[index] > 0.7
        assert frozen[index] < 0.4
        assert camera[index] > 2 * frozen[index]


def test_repeated_frames_are_left_out() -> None:
    clip = _clip(fresh_noise=True)
    doubled = np.repeat(clip, 2, axis=0)[:N]  # the first half, every frame shown twice
    assert np.allclose(temporal_features(doubled), temporal_features(clip[: N // 2]), atol=1e-5)


def test_a_still_has_no_temporal_features() -> None:
    still = np.repeat(_clip(fresh_noise=False)[:1], N, axis=0)
    assert np.isnan(temporal_features(still)).all()


def test_encoded_files_keep_the_difference_and_sets_are_built(tmp_path: Path) -> None:
    camera = write_mp4(tmp_path / "real" / "camera.mp4", _clip(True), crf=12)
    frozen = write_mp4(tmp_path / "fake" / "frozen.mp4", _clip(False, seed=3), crf=12)
    still = write_mp4(tmp_path / "fake" / "short.mp4", _clip(False)[:2])  # too short to measure
    index = TEMPORAL_NAMES.index("still_detail_change")
    assert clip_temporal_features(camera)[index] > 2 * clip_temporal_features(frozen)[index]

    videos = (
        LabeledVideo(camera, 0, "real", "cam"),
        LabeledVideo(frozen, 1, "frozen", "gen"),
        LabeledVideo(still, 1, "frozen", "gen"),
    )
    frames = VideoFeatures(
        X=np.arange(12, dtype=np.float32).reshape(6, 2),
        video=np.array([0, 0, 1, 1, 2, 2]),
        videos=videos,
    )
    tables = set_vectors({"orig": frames}, tmp_path / "cache")
    clips = temporal_sets({"orig": frames}, tables)
    assert [v.path for v in clips["orig"].videos] == [camera, frozen]
    assert [v.path for v, _ in clips["orig"].skipped] == [still]
    assert clips["orig"].X.shape == (2, TEMPORAL_DIM)
    joined = join_vectors({"orig": frames}, vectors_by_path({"orig": frames}, tables))["orig"]
    assert joined.X.shape == (6, 2 + TEMPORAL_DIM)
    assert joined.videos == frames.videos and np.array_equal(joined.video, frames.video)
    assert np.array_equal(joined.X[2, 2:], clips["orig"].X[1])  # frozen clip's rows
    assert np.isnan(joined.X[4:, 2:]).all()  # the short clip: no vector, rows kept
    assert np.array_equal(joined.X[:, :2], frames.X)


def test_the_cache_is_reused_and_refreshed_when_a_file_changes(tmp_path: Path) -> None:
    path = write_mp4(tmp_path / "a.mp4", _clip(True))
    videos = [LabeledVideo(path, 0, "real", "cam")]
    cache = tmp_path / "cache.npz"
    first = clip_vectors(videos, cache)
    stamp = cache.stat().st_mtime_ns
    assert np.array_equal(clip_vectors(videos, cache), first)
    assert cache.stat().st_mtime_ns == stamp  # read back, not recomputed
    write_mp4(path, _clip(False))
    assert not np.allclose(clip_vectors(videos, cache), first)


@pytest.mark.parametrize("frames", [1, 2])
def test_too_few_frames_give_nan(frames: int) -> None:
    assert np.isnan(temporal_features(_clip(True)[:frames])).all()


def test_the_report_section_compares_the_four_runs_per_family() -> None:
    from reelproof.eval.detector_temporal import temporal_section

    def rows(**aucs: float) -> dict[str, dict[str, float]]:
        return {family: {"auc": auc} for family, auc in aucs.items()}

    shipped = rows(a=0.6, b=0.4)
    lines = temporal_section(shipped, rows(a=0.5, b=0.5), rows(a=0.9, b=0.7), rows(a=0.8))
    assert any("frames only" in line and "temporal alone" in line for line in lines)
    assert "| a | 0.600 | 0.500 | 0.900 | 0.800 |" in lines
    assert "| b | 0.400 | 0.500 | 0.700 | n/a |" in lines
    mean = next(line for line in lines if line.startswith("| mean |"))
    assert "**0.500** (lowest 0.400)" in mean and "**0.800** (lowest 0.700)" in mean


def test_an_intro_is_skipped_before_measuring(tmp_path: Path) -> None:
    camera = np.concatenate([_clip(True), _clip(True, seed=5)])  # 32 frames
    plain = write_mp4(tmp_path / "plain.mp4", camera, crf=12)
    # 30 frames of intro, longer than the 24-frame run it precedes.
    opened = write_mp4(tmp_path / "intro.mp4", with_intro(camera, black=12, fade=18), crf=12)
    expected = clip_temporal_features(plain)
    got = clip_temporal_features(opened)
    assert np.isfinite(got).all()
    assert np.allclose(got, expected, rtol=0.1, atol=0.02)
    # Measured from the start instead, the frozen fade reads as detail that changes less.
    fade_only = temporal_features(with_intro(camera, black=0, fade=18)[:18])
    index = TEMPORAL_NAMES.index("compensated_change")
    assert np.expm1(fade_only[index]) < 0.7 * np.expm1(expected[index])


def test_after_intro_skips_blank_and_fading_frames_only() -> None:
    camera = _clip(True)[..., 0]  # (16, H, W) luma
    # A clip that opens on a picture is taken as it is.
    assert np.array_equal(np.stack(after_intro(camera, 10)), camera[:10])
    opened = with_intro(_clip(True), black=3, fade=4)[..., 0]
    assert np.array_equal(np.stack(after_intro(opened, 10)), camera[:10])
    assert after_intro(np.zeros((5, 32, 32), np.uint8), 10) == []  # all intro
    # Dark footage is not blank: its noise is detail.
    rng = np.random.default_rng(0)
    dark = np.clip(rng.normal(6, 2, (8, 32, 32)), 0, 255).astype(np.uint8)
    assert len(after_intro(dark, 8)) == 8
    # An endless intro is given up on: measuring starts at MAX_INTRO_FRAMES.
    endless = np.zeros((MAX_INTRO_FRAMES + 20, 32, 32), np.uint8)
    assert len(after_intro(endless, 5)) == 5


def test_after_intro_reads_no_further_than_it_needs() -> None:
    read: list[int] = []

    def planes() -> Iterator[np.ndarray]:
        for i, plane in enumerate(with_intro(_clip(True), black=3, fade=4)[..., 0]):
            read.append(i)
            yield plane

    assert len(after_intro(planes(), 5)) == 5
    assert len(read) == 3 + 4 + 5 + 1  # one frame read ahead to judge the last
