"""Read the display rotation of an MP4/MOV video track from its ``tkhd`` matrix, without decoding.

PyAV exposes the display matrix only on decoded frames; ``probe`` must not decode, so this walks
the box headers (seeking past ``mdat``) to the video track's header. Bounded: at most a few
thousand boxes are visited and no box body over 1 KiB is read.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import BinaryIO

_MAX_BOXES = 4096


def read_video_rotation(path: Path) -> int:
    """Counter-clockwise display rotation of the first video track, in degrees [0, 360).

    Same convention as PyAV's ``VideoFrame.rotation`` and ``VideoStream.set_display_rotation``.
    Returns 0 when there is no matrix or the file cannot be walked (``probe``'s demuxer reports
    real corruption separately).
    """
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            moov = _find_child(handle, 0, size, b"moov")
            if moov is None:
                return 0
            for trak in _children(handle, *moov, b"trak"):
                rotation = _track_rotation(handle, *trak)
                if rotation is not None:
                    return rotation
    except (OSError, struct.error, ValueError):
        return 0
    return 0


def _track_rotation(handle: BinaryIO, start: int, end: int) -> int | None:
    """Rotation of this ``trak`` if it is a video track, else None."""
    tkhd = _find_child(handle, start, end, b"tkhd")
    mdia = _find_child(handle, start, end, b"mdia")
    if tkhd is None or mdia is None:
        return None
    hdlr = _find_child(handle, *mdia, b"hdlr")
    if hdlr is None:
        return None
    handle.seek(hdlr[0] + 8)  # skip version/flags and pre_defined
    if handle.read(4) != b"vide":
        return None
    handle.seek(tkhd[0])
    version = handle.read(1)[0]
    # Skip flags and the version-dependent times/ids, reserved, layer, group, volume.
    handle.seek(tkhd[0] + 4 + (32 if version == 1 else 20) + 16)
    matrix = struct.unpack(">9i", handle.read(36))
    return _rotation_from_matrix(matrix)


def _rotation_from_matrix(m: tuple[int, ...]) -> int:
    """FFmpeg's ``av_display_rotation_get`` on a file-order (a, b, u, c, d, v, x, y, w) matrix."""
    scale0 = math.hypot(m[0], m[3])
    scale1 = math.hypot(m[1], m[4])
    if scale0 == 0 or scale1 == 0:
        return 0
    degrees = -math.degrees(math.atan2(m[1] / scale1, m[0] / scale0))
    return round(degrees) % 360


def _children(handle: BinaryIO, start: int, end: int, kind: bytes) -> list[tuple[int, int]]:
    """(body start, body end) of every child box of type ``kind`` between start and end."""
    found: list[tuple[int, int]] = []
    position = start
    for _ in range(_MAX_BOXES):
        if position + 8 > end:
            break
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            break
        box_size, box_type = struct.unpack(">I4s", header)
        body = position + 8
        if box_size == 1:
            box_size = struct.unpack(">Q", handle.read(8))[0]
            body += 8
        elif box_size == 0:
            box_size = end - position
        if box_size < body - position:
            break
        box_end = min(position + box_size, end)
        if box_type == kind:
            found.append((body, box_end))
        position = position + box_size
    return found


def _find_child(handle: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    matches = _children(handle, start, end, kind)
    return matches[0] if matches else None
