"""``sample_frames``: the same frames as a full decode, spread evenly, with the reader's safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.core.errors import InputError, LimitExceededError, MediaDecodeError
from reelproof.core.io import DEFAULT_LIMITS, probe, read_clip, sample_frame_sets, sample_frames


@pytest.mark.parametrize("skip_nonref", [True, False])
def test_sampled_frames_equal_full_decode(bikes_mp4: Path, skip_nonref: bool) -> None:
    clip = read_clip(bikes_mp4)
    chunk = sample_frames(bikes_mp4, 16, skip_nonref=skip_nonref)
    assert len(chunk) == 16
    assert chunk.fps == clip.fps
    idx = chunk.source_indices
    assert idx[0] == 0 and idx[-1] == len(clip.frames) - 1
    assert np.all(np.diff(idx) > 0)
    # Skipped non-reference frames change nothing in the frames that are decoded.
    assert np.array_equal(chunk.frames, clip.frames[idx])
    assert np.allclose(chunk.timestamps, clip.timestamps[idx])


def test_sampling_is_uniform(bikes_mp4: Path) -> None:
    chunk = sample_frames(bikes_mp4, 16)
    wanted = np.linspace(0, 249, 16)
    # Each sample is the decoded frame nearest its target: a few frames off at most.
    assert np.max(np.abs(chunk.source_indices - wanted)) <= 3


def test_720p_without_skipping_is_exact(cgi_mp4: Path) -> None:
    info = probe(cgi_mp4)
    assert (info.width, info.height) == (1280, 720)
    chunk = sample_frames(cgi_mp4, 8, skip_nonref=False)
    expected = np.linspace(0, info.frames - 1, 8).round().astype(int)
    assert chunk.source_indices.tolist() == expected.tolist()
    clip = read_clip(cgi_mp4)
    assert np.array_equal(chunk.frames, clip.frames[expected])


def test_count_larger_than_clip_gives_each_frame_once(make_video: object) -> None:
    path = make_video()  # type: ignore[operator]
    chunk = sample_frames(path, 100)
    clip = read_clip(path)
    assert len(chunk) <= len(clip.frames)
    assert len(set(chunk.source_indices.tolist())) == len(chunk)
    assert np.array_equal(chunk.frames, clip.frames[chunk.source_indices])


def test_within_frames_limits_the_span(bikes_mp4: Path) -> None:
    chunk = sample_frames(bikes_mp4, 5, within_frames=50)
    assert chunk.source_indices[-1] <= 52
    assert chunk.frames.shape[1:] == (272, 640, 3) and chunk.frames.dtype == np.uint8


def test_bad_arguments_and_inputs(bikes_mp4: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        sample_frames(bikes_mp4, 0)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    with pytest.raises((MediaDecodeError, InputError)):
        sample_frames(junk, 4)
    import dataclasses

    small = dataclasses.replace(DEFAULT_LIMITS, max_frames=100)
    with pytest.raises(LimitExceededError):
        sample_frames(bikes_mp4, 4, limits=small)


def test_truncated_file_is_reported(bikes_mp4: Path, tmp_path: Path) -> None:
    data = bikes_mp4.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaDecodeError):
        sample_frames(cut, 16)


def test_frame_sets_equal_separate_samplings(bikes_mp4: Path) -> None:
    both = sample_frame_sets(bikes_mp4, (16, 32))
    for count, chunk in zip((16, 32), both, strict=True):
        alone = sample_frames(bikes_mp4, count)
        assert chunk.source_indices.tolist() == alone.source_indices.tolist()
        assert np.array_equal(chunk.frames, alone.frames)
        assert np.array_equal(chunk.timestamps, alone.timestamps)
    with pytest.raises(InputError):
        sample_frame_sets(bikes_mp4, ())
