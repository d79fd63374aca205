"""``read_luma``: consecutive frames as small full-range luma, with the reader's safety."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from reelproof.core.errors import InputError, LimitExceededError, ReelProofError
from reelproof.core.io import DEFAULT_LIMITS, read_clip
from reelproof.core.io.luma import iter_luma, read_luma


def test_luma_matches_the_rgb_frames_shrunk(cgi_mp4: Path) -> None:
    luma = read_luma(cgi_mp4, 6, max_short_side=180)
    assert luma.dtype == np.uint8 and luma.shape == (6, 180, 320)  # 1280x720 -> 320x180
    rgb = np.asarray(read_clip(cgi_mp4, max_frames=6).frames)
    weights = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # the clip's BT.709 luma
    for plane, frame in zip(luma, rgb, strict=True):
        y = (frame.astype(np.float32) @ weights).astype(np.float32)
        small = cv2.resize(y, (320, 180), interpolation=cv2.INTER_AREA)
        assert np.mean(np.abs(small - plane)) < 2.0
        # Full range like the RGB path: video range would shrink the spread to 219/255.
        assert 0.98 < float(np.std(small)) / float(np.std(plane)) < 1.02


def test_small_pictures_keep_their_size_and_the_frame_count_is_bounded(
    make_video: object,
) -> None:
    path = make_video()  # type: ignore[operator]  # 12 frames of 96x64
    luma = read_luma(path, 5, max_short_side=360)
    assert luma.shape == (5, 64, 96)
    assert read_luma(path, 100).shape[0] == 12


def test_bad_arguments_and_files_get_clear_errors(bikes_mp4: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_luma(bikes_mp4, 0)
    with pytest.raises(InputError):
        read_luma(bikes_mp4, 4, max_short_side=0)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(ReelProofError) as err:
        read_luma(junk, 4)
    assert err.value.hint  # says what to do
    small = DEFAULT_LIMITS.__class__(max_pixels_per_frame=1000)
    with pytest.raises(LimitExceededError):
        read_luma(bikes_mp4, 4, limits=small)  # refused before decoding


def test_iter_luma_streams_the_same_frames_and_opens_nothing_until_asked(
    bikes_mp4: Path, tmp_path: Path
) -> None:
    whole = read_luma(bikes_mp4, 6, max_short_side=120)
    frames = iter_luma(bikes_mp4, 120)
    try:
        streamed = [next(frames) for _ in range(6)]
    finally:
        frames.close()
    assert np.array_equal(np.stack(streamed), whole)
    missing = iter_luma(tmp_path / "nowhere.mp4")  # no error yet: nothing is opened
    with pytest.raises(ReelProofError):
        next(missing)
