"""Clip: shape/dtype validation, read-only frames, exact frame rates, timestamps."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from reelproof.core import Audio, Clip, InputError


def _frames(n: int = 3, h: int = 4, w: int = 5) -> np.ndarray:
    return np.arange(n * h * w * 3, dtype=np.uint32).reshape(n, h, w, 3).astype(np.uint8)


def test_clip_exposes_shape_and_duration() -> None:
    clip = Clip(_frames(10, 4, 6), fps=Fraction(25))
    assert (clip.num_frames, clip.height, clip.width) == (10, 4, 6)
    assert clip.duration == pytest.approx(0.4)


def test_frames_are_read_only_and_caller_array_is_not_aliased_for_writes() -> None:
    source = _frames()
    clip = Clip(source)
    assert not clip.frames.flags.writeable
    with pytest.raises(ValueError):
        clip.frames[0, 0, 0, 0] = 1


def test_fps_stays_an_exact_fraction() -> None:
    clip = Clip(_frames(), fps=Fraction(30000, 1001))
    assert clip.fps == Fraction(30000, 1001)
    assert isinstance(Clip(_frames(), fps=24).fps, Fraction)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((3, 4, 5), np.uint8),  # no time axis
        np.zeros((3, 4, 5, 4), np.uint8),  # RGBA
        np.zeros((3, 4, 5, 3), np.float32),  # not uint8
        np.zeros((0, 4, 5, 3), np.uint8),  # empty
    ],
)
def test_malformed_frames_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(InputError):
        Clip(bad)


@pytest.mark.parametrize("fps", [0, -25, Fraction(-1, 2)])
def test_non_positive_fps_is_refused(fps: object) -> None:
    with pytest.raises(InputError):
        Clip(_frames(), fps=fps)  # type: ignore[arg-type]


def test_timestamps_need_one_per_frame_and_become_read_only() -> None:
    clip = Clip(_frames(3), timestamps=np.array([0.0, 0.04, 0.2]))
    assert clip.timestamps is not None and not clip.timestamps.flags.writeable
    with pytest.raises(InputError):
        Clip(_frames(3), timestamps=np.array([0.0, 0.04]))


def test_with_frames_keeps_rate_and_audio() -> None:
    audio = Audio(samples=np.zeros((2, 100), np.float32), sample_rate=48000)
    clip = Clip(_frames(), fps=Fraction(30), audio=audio)
    other = clip.with_frames(_frames(5))
    assert other.num_frames == 5 and other.fps == 30 and other.audio is audio
