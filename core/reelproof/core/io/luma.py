"""Consecutive luma frames at a reduced size, straight from the decoder.

Temporal measurements (how fine detail changes from one frame to the next) need a run of
consecutive frames but neither colour nor full resolution. Asking swscale for the Y plane at the
working size skips the RGB conversion and the resize in numpy: on a 720p clip, 24 frames come
back in about two thirds of the time ``read_clip`` takes for the same frames in RGB.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Interpolation

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
) -> LumaArray:
    """The first ``max_frames`` frames of a video as full-range luma, shrunk (area averaging)
    so that the short side is at most ``max_short_side`` pixels.

    The file is probed (every limit checked) before decoding, as ``read_clip`` does; frames are
    in stored orientation. Sizes are rounded to even numbers of pixels.

    Returns:
        (T, h, w) uint8, 1 <= T <= ``max_frames``.

    Raises:
        MediaDecodeError / LimitExceededError / UnsupportedMediaError: as ``read_clip``.
    """
    check_positive("max_frames", max_frames)
    if max_short_side is not None:
        check_positive("max_short_side", max_short_side)
    container, stream, info = open_and_probe(path, limits)
    width, height = _working_size(info.coded_width, info.coded_height, max_short_side)
    planes: list[LumaArray] = []
    try:
        with av_errors(info.path, "decode"):
            counter = DecodeCounter()
            for frame, _index, _stamp in iter_decoded(container, stream, info, limits, counter):
                if not planes:
                    first_frame_checks(frame, info, limits)
                gray = frame.reformat(
                    width=width,
                    height=height,
                    format="gray",
                    interpolation=Interpolation.AREA,
                    dst_color_range=ColorRange.JPEG,
                )
                planes.append(np.array(gray.to_ndarray(), dtype=np.uint8))
                if len(planes) >= max_frames:
                    break
    finally:
        container.close()
    if not planes:
        raise no_frame_error(info)
    return np.stack(planes)


def _working_size(width: int, height: int, max_short_side: int | None) -> tuple[int, int]:
    short = min(width, height)
    if max_short_side is None or short <= max_short_side:
        return width, height
    scale = max_short_side / short
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
