"""Cheap structural checks an upload must pass before it is queued (milliseconds, no decoding).

``probe`` reads headers only, so a file cut short after a front-loaded ``moov`` (faststart) still
probes fine and only fails once decoded, minutes later in a queue. These checks catch that, and
polyglots (a video with a ZIP or script glued on), while the client is still connected, so it
gets a 4xx answer instead of a failed job.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from reelproof.core.errors import MediaDecodeError, UnsupportedMediaError
from reelproof.core.io import DEMUXER_FOR_CONTAINER

_ISO_BMFF = ("mp4", "mov", "m4v")
_MAX_TOP_LEVEL_BOXES = 4096
# Boxes ISO/IEC 14496-12 and QuickTime allow at the top level (uuid carries C2PA manifests).
_TOP_LEVEL = frozenset(
    b"ftyp styp moov mdat free skip wide uuid meta moof mfra sidx ssix prft emsg pdin pnot "
    b"junk PICT".split()
)


def check_upload(path: Path, media: Any, count_packets: bool = True) -> None:
    """Refuse truncated files and polyglots.

    Args:
        path: the uploaded file (already probed).
        media: its ``MediaInfo``.
        count_packets: also demux to count the video packets (tens of ms on a 10-s clip).

    Raises:
        UnsupportedMediaError: bytes outside the container's structure (a polyglot).
        MediaDecodeError: fewer video packets than the container declares (truncated).
    """
    if media.container in _ISO_BMFF:
        check_iso_bmff_boxes(path, path.stat().st_size)
        if count_packets and media.frames_exact:
            check_packet_count(path, DEMUXER_FOR_CONTAINER[media.container], int(media.frames))


def check_iso_bmff_boxes(path: Path, size: int) -> list[bytes]:
    """The top-level boxes must tile the file exactly: no foreign bytes before, between or after.

    Returns:
        The top-level box types in file order.
    """
    offset = 0
    kinds: list[bytes] = []
    with path.open("rb") as fh:
        for _ in range(_MAX_TOP_LEVEL_BOXES):
            if offset == size:
                return kinds
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                raise _polyglot(path, offset)
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 1:
                if len(header) < 16:
                    raise _polyglot(path, offset)
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - offset  # "to the end of the file"
            if kind not in _TOP_LEVEL or box_size < 8:
                raise _polyglot(path, offset)
            if offset + box_size > size:
                raise MediaDecodeError(
                    f"{path.name}: the '{kind.decode()}' box runs past the end of the file "
                    "(truncated)",
                    hint="upload the complete file",
                )
            kinds.append(kind)
            offset += box_size
    raise _polyglot(path, offset)


def light_container_check(path: Path) -> str | None:
    """Structure-only check of an ISO BMFF file (no demuxer): the fast path for credentials.

    Returns:
        ``"mp4"`` or ``"mov"`` when the file is ISO BMFF with a movie header and nothing foreign
        around its boxes; ``None`` when it is not ISO BMFF (the caller then probes it fully).

    Raises:
        UnsupportedMediaError: a polyglot. MediaDecodeError: truncated, or no movie header.
    """
    with path.open("rb") as fh:
        head = fh.read(12)
    if len(head) < 12 or head[4:8] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
        return None
    kinds = check_iso_bmff_boxes(path, path.stat().st_size)
    if b"moov" not in kinds:
        raise MediaDecodeError(
            f"{path.name}: no movie header (moov box): not a complete MP4/MOV file",
            hint="upload the complete file",
        )
    return "mov" if head[4:8] == b"ftyp" and head[8:12] == b"qt  " else "mp4"


def _polyglot(path: Path, offset: int) -> UnsupportedMediaError:
    return UnsupportedMediaError(
        f"{path.name}: bytes at offset {offset} are not part of the MP4 structure (the file is "
        "damaged or has other content appended, e.g. an archive or script)",
        hint="upload the video file alone, as exported",
    )


def check_packet_count(path: Path, demuxer: str, declared: int) -> None:
    """Demux (no decoding) and compare the video packets present with the frames declared."""
    import av

    try:
        with av.open(str(path), format=demuxer) as container:
            stream = container.streams.video[0]
            present = sum(1 for pkt in container.demux(stream) if pkt.size > 0)
    except av.FFmpegError as err:
        raise MediaDecodeError(f"{path.name}: cannot be read ({err})") from err
    if present < declared:
        raise MediaDecodeError(
            f"{path.name}: only {present} of the {declared} frames the container declares are "
            "present (truncated file)",
            hint="upload the complete file",
        )


_PNG_END = b"IEND\xaeB`\x82"


def check_still(path: Path, fmt: str) -> None:
    """Refuse a still image with foreign bytes after its end (a polyglot).

    PNG must end with its IEND chunk and WebP's RIFF size must cover the file; HEIF and AVIF
    boxes must tile the file. JPEG is not checked: cameras append trailers after the end marker
    (MPF pictures, maker data), so bytes there are normal.

    Raises:
        UnsupportedMediaError: bytes outside the image's structure.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(12)
        fh.seek(max(0, size - len(_PNG_END)))
        tail = fh.read()
    if fmt == "png" and tail != _PNG_END:
        raise _polyglot(path, size)
    if fmt == "webp" and struct.unpack("<I", head[4:8])[0] + 8 != size:
        raise _polyglot(path, size)
    if fmt in ("heif", "avif"):
        _check_heif_boxes(path, size)


def _check_heif_boxes(path: Path, size: int) -> None:
    offset = 0
    with path.open("rb") as fh:
        for _ in range(_MAX_TOP_LEVEL_BOXES):
            if offset == size:
                return
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                raise _polyglot(path, offset)
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 1 and len(header) == 16:
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8 or offset + box_size > size or not kind.isalnum():
                raise _polyglot(path, offset)
            offset += box_size
    raise _polyglot(path, offset)
