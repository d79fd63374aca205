"""Consecutive luma frames at a reduced size, straight from the decoder.

Temporal measurements (how fine detail changes from one frame to the next) need a run of
consecutive frames but neither colour nor full resolution. Asking swscale for the Y plane at the
working size skips the RGB conversion and the resize in numpy: on a 720p clip, 24 frames come
back in about two thirds of the time ``read_clip`` takes for the same frames in RGB.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Interpolation

from reelproof.core.errors import InputError
from reelproof.core.io._safety import av_errors
from reelproof.core.io.limits import DEFAULT_LIMITS, MediaLimits
from reelproof.core.io.probe import open_and_probe
from reelproof.core.io.reader import (
    DecodeCounter,
    check_positive,
    first_frame_checks,
    iter_decoded,
    no_frame_error,
)

LumaArray = npt.NDArray[np.uint8]


def read_luma(
    path: str | os.PathLike[str],
    max_frames: int,
    max_short_side: int | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
    skip_frames: int = 0,
) -> LumaArray:
    """``max_frames`` consecutive frames of a video, after the first ``skip_frames`` (decoded
    but not converted), as full-range luma shrunk (area averaging) so that the short side is
    at most ``max_short_side`` pixels.

    The file is probed (every limit checked) before decoding, as ``read_clip`` does; frames are
    in stored orientation. Sizes are rounded to even numbers of pixels.

    Returns:
        (T, h, w) uint8, T <= ``max_frames``: fewer when the video ends first, none when it
        ends before ``skip_frames``.

    Raises:
        MediaDecodeError / LimitExceededError / UnsupportedMediaError: as ``read_clip``.
    """
    check_positive("max_frames", max_frames)
    if max_short_side is not None:
        check_positive("max_short_side", max_short_side)
    if skip_frames < 0:
        raise InputError(f"skip_frames must be >= 0, got {skip_frames}")
    container, stream, info = open_and_probe(path, limits)
    width, height = _working_size(info.coded_width, info.coded_height, max_short_side)
    planes: list[LumaArray] = []
    decoded = False
    try:
        with av_errors(info.path, "decode"):
            counter = DecodeCounter()
            for frame, index, _stamp in iter_decoded(container, stream, info, limits, counter):
                if not decoded:
                    first_frame_checks(frame, info, limits)
                    decoded = True
                if index < skip_frames:
                    continue
                planes.append(_small_luma(frame, width, height))
                if len(planes) >= max_frames:
                    break
    finally:
        container.close()
    if not decoded:
        raise no_frame_error(info)
    if not planes:  # the video ended before skip_frames
        return np.zeros((0, height, width), dtype=np.uint8)
    return np.stack(planes)


def _small_luma(frame: Any, width: int, height: int) -> LumaArray:
    gray = frame.reformat(
        width=width,
        height=height,
        format="gray",
        interpolation=Interpolation.AREA,
        dst_color_range=ColorRange.JPEG,
    )
    return np.array(gray.to_ndarray(), dtype=np.uint8)


def _working_size(width: int, height: int, max_short_side: int | None) -> tuple[int, int]:
    short = min(width, height)
    if max_short_side is None or short <= max_short_side:
        return width, height
    scale = max_short_side / short
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
