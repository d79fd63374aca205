"""Detect the rp-ss mark in a video file, streaming, with every key of a keyring.

Only the luma plane of each decoded frame is read (no YUV -> RGB conversion, which costs more
than decoding), and only frames about 1/8 s apart are folded (every 3rd at 25 fps):
neighbouring frames carry nearly the same host picture, so skipping them loses little evidence
while the decoder still sees every frame.
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reelproof.watermark.keys import Keyring
from reelproof.watermark.reading import WatermarkReading
from reelproof.watermark.rpss import RpSsConfig, StreamDetector

if TYPE_CHECKING:  # PyAV is imported only when a file is read
    from reelproof.core.io import MediaLimits

DEFAULT_FILE_FRAMES = 128
FOLDS_PER_SECOND = 8.0
"""Folded frames per second of video at most (every 3rd frame at 25 fps, every 4th at 30)."""

# Decoder output formats whose first plane is 8-bit luma, read without conversion.
_LUMA_FIRST = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}
)


def frame_stride(fps: float) -> int:
    """Fold every ``stride``-th frame: about ``FOLDS_PER_SECOND`` frames per second of video."""
    if not math.isfinite(fps) or fps <= 0:
        return 1
    return max(1, round(fps / FOLDS_PER_SECOND))


def luma_plane(frame: Any) -> npt.NDArray[np.uint8]:
    """The (H, W) uint8 luma of a decoded ``av.VideoFrame``.

    For 8-bit YUV output this is a view of the decoder's buffer, valid until the next frame is
    decoded; other formats (10-bit, RGB, palettes) are converted to 8-bit grey.
    """
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)
        return rows[:, : frame.width]
    grey: npt.NDArray[np.uint8] = frame.to_ndarray(format="gray")
    return grey


def iter_luma(
    path: str | os.PathLike[str], max_frames: int, limits: MediaLimits | None = None
) -> Generator[tuple[npt.NDArray[np.uint8], int], None, None]:
    """Yield ``(luma plane, stride)`` for the folded frames among the first ``max_frames``.

    The file is probed (every ``MediaLimits`` check) before anything is decoded, exactly as by
    ``reelproof.core.io.iter_chunks``; frames come in presentation order.
    """
    from reelproof.core.io import DEFAULT_LIMITS
    from reelproof.core.io._safety import av_errors
    from reelproof.core.io.probe import open_and_probe
    from reelproof.core.io.reader import (
        DecodeCounter,
        check_complete,
        first_frame_checks,
        iter_decoded,
        no_frame_error,
    )

    bounds = limits if limits is not None else DEFAULT_LIMITS
    container, stream, info = open_and_probe(path, bounds)
    stride = frame_stride(float(info.fps))
    counter = DecodeCounter()
    checked = False
    try:
        with av_errors(info.path, "decode"):
            # One decoder thread: detection is budgeted in CPU time, and frame threads cost
            # about a tenth more of it (the folding cannot use a second core anyway).
            decoded = iter_decoded(container, stream, info, bounds, counter, threads=1)
            for frame, index, _ in decoded:
                if index >= max_frames:
                    break
                if not checked:
                    first_frame_checks(frame, info, bounds)
                    checked = True
                if index % stride == 0:
                    yield luma_plane(frame), stride
        if counter.decoded == 0:
            raise no_frame_error(info)
        check_complete(info, counter.decoded, max_frames, counter.decoded, bounds)
    finally:
        container.close()


def detect_file(
    path: str | os.PathLike[str],
    keyring: Keyring | None = None,
    max_frames: int | None = None,
    config: RpSsConfig | None = None,
) -> WatermarkReading:
    """Stream ``path`` and look for the rp-ss mark of every key in ``keyring``.

    Folding is shared by all keys; decoding stops as soon as a key's p-value is below the
    threshold and its payload is verified, when the sequential test gives up (see
    ``rpss.futility_boundary``), or when the frame budget is spent. The p-value is corrected
    for the number of keys.

    Args:
        path: local video file.
        keyring: keys to try; ``Keyring.default()`` (local keys + the public demo key) when None.
        max_frames: frames of the video examined (default 128, about 5 s at 25 fps); of these,
            about 8 per second of video are folded (every 3rd at 25 fps, every 4th at 30).
        config: rp-ss settings (defaults when None).

    Returns:
        The reading of the best key; ``key_id`` names it when it was detected.

    Raises:
        MediaDecodeError, UnsupportedMediaError, LimitExceededError: the file is not a usable video.
    """
    ring = keyring if keyring is not None else Keyring.default()
    budget = max_frames if max_frames is not None else DEFAULT_FILE_FRAMES
    detector: StreamDetector | None = None
    planes = iter_luma(path, budget)
    try:
        for plane, stride in planes:
            if detector is None:
                detector = StreamDetector(ring.keys, config or RpSsConfig(), -(-budget // stride))
            if detector.update_luma(plane):
                break
    finally:
        planes.close()  # a generator: closing it releases the decoder
    if detector is None:  # unreachable: iter_luma raises when nothing decodes
        detector = StreamDetector(ring.keys, config or RpSsConfig(), budget)
    return detector.reading()
