"""Format sniffing for C2PA: which MIME type c2pa should use, and which files cannot carry it."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from reelproof.core.errors import InputError, MediaDecodeError, UnsupportedMediaError
from reelproof.core.io.stills import STILL_MIME, sniff_still

C2PA_VIDEO_MIME = {"mp4": "video/mp4", "mov": "video/quicktime", "m4v": "video/x-m4v"}
_ISO_BMFF_FIRST_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")
_MAX_BOXES = 4096  # a walk over box headers stops here (crafted files nest or repeat boxes)


def sniff_mime(path: Path) -> str:
    """The MIME type c2pa should read ``path`` as, from its first bytes (never its name).

    Returns:
        Video: ``video/mp4``, ``video/quicktime``, ``video/x-m4v`` or ``video/x-msvideo``.
        Stills: ``image/jpeg``, ``image/png``, ``image/webp``, ``image/heic`` or ``image/avif``
        (HEIF and AVIF are ISO-BMFF files too; their ``ftyp`` brands tell them from video).

    Raises:
        InputError: the file does not exist or is empty.
        UnsupportedMediaError: WebM/Matroska (C2PA defines no embedding there), a lone media
            fragment, or an unknown format.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except FileNotFoundError as err:
        raise InputError(f"{path} does not exist", hint="check the path") from err
    except IsADirectoryError as err:
        raise InputError(f"{path} is a folder, not a video file") from err
    if not head:
        raise MediaDecodeError(f"{path.name} is empty")
    still = sniff_still(head)
    if still is not None:
        return STILL_MIME[still]
    if len(head) >= 12 and head[4:8] == b"styp":
        raise UnsupportedMediaError(
            f"{path.name} is a media fragment (DASH/HLS segment) without its init segment",
            hint="verify the init segment and pass this file as one of its fragments",
        )
    if len(head) >= 12 and head[4:8] in _ISO_BMFF_FIRST_BOXES:
        brand = head[8:12] if head[4:8] == b"ftyp" else b"qt  "
        if brand == b"qt  ":
            return C2PA_VIDEO_MIME["mov"]
        if brand.startswith(b"M4V"):
            return C2PA_VIDEO_MIME["m4v"]
        return C2PA_VIDEO_MIME["mp4"]
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        raise UnsupportedMediaError(
            f"{path.name} is WebM/Matroska: C2PA defines no way to embed credentials there",
            hint="re-encode to MP4 (H.264) before signing, or keep the manifest in the store",
        )
    raise UnsupportedMediaError(
        f"{path.name} is not an MP4, MOV, M4V or AVI video nor a JPEG, PNG, WebP, HEIC or AVIF "
        "still",
        hint="C2PA credentials are read from those formats (sniffed from the bytes)",
    )


def mp4_duration_ms(path: Path) -> int | None:
    """Duration from the movie header (``moov``/``mvhd``) by seeking over top-level boxes.

    Cheap (a few reads, no demuxer); ``None`` when the file is not ISO-BMFF or has no mvhd.
    """
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, 2)
            for kind, body, box_end in _boxes(handle, 0, end):
                if kind == b"moov":
                    handle.seek(body)
                    return _mvhd_duration_ms(handle.read(min(box_end - body, 1 << 20)))
    except (OSError, struct.error):
        return None
    return None


def _mvhd_duration_ms(moov: bytes) -> int | None:
    at = moov.find(b"mvhd")
    if at < 4:
        return None
    version = moov[at + 4]
    fields = moov[at + 8 :]
    if version == 1:
        timescale, duration = struct.unpack(">I Q", fields[16:28])
    else:
        timescale, duration = struct.unpack(">I I", fields[8:16])
    if timescale == 0:
        return None
    return round(int(duration) * 1000 / int(timescale))


def _boxes(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """``(type, body start, box end)`` of each box header between ``start`` and ``end``."""
    offset = start
    for _ in range(_MAX_BOXES):
        if offset + 8 > end:
            return
        handle.seek(offset)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size = int(struct.unpack(">Q", handle.read(8))[0])
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            return
        yield kind, offset + header, min(offset + size, end)
        offset += size


def is_fragment_init_segment(path: Path) -> bool:
    """Whether ``path`` is a fragmented MP4's init segment without its fragments.

    Such a file has a ``moov`` announcing fragments (``mvex``) and no ``moof`` of its own; its
    C2PA hash covers fragments kept in other files, so it cannot hash-match on its own.
    """
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, 2)
            top = list(_boxes(handle, 0, end))
            if any(kind == b"moof" for kind, _, _ in top):
                return False
            moov = next(((b, e) for kind, b, e in top if kind == b"moov"), None)
            return moov is not None and any(k == b"mvex" for k, _, _ in _boxes(handle, *moov))
    except (OSError, struct.error):
        return False
