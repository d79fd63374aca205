"""Opening untrusted media safely: local files only, an allow-listed demuxer, wrapped errors.

Why each rule exists:
- FFmpeg treats ``http:``, ``concat:``, ``subfile,`` ... prefixes as protocols, and playlists
  (HLS ``.m3u8``) make the demuxer open further URLs or local files named inside the file. A
  verifier fed attacker-chosen files must never follow those, so inputs are resolved to absolute
  local paths, the file protocol is the only one whitelisted, and playlists are refused.
- FFmpeg's own format probing picks whichever of ~400 demuxers scores best; forcing one from a
  short allow-list (chosen from the file's magic bytes) keeps rarely-audited demuxers out.
- Every PyAV exception is turned into a ``ReelProofError`` subclass with a message that names
  the file and says what to do, so the CLI prints one line instead of a traceback.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import av.error

from reelproof.core.errors import (
    InputError,
    LimitExceededError,
    MediaDecodeError,
    ReelProofError,
    UnsupportedMediaError,
)
from reelproof.core.io.limits import MediaLimits

#: FFmpeg demuxer forced for each container label.
DEMUXER_FOR_CONTAINER: dict[str, str] = {
    "mp4": "mov",
    "mov": "mov",
    "m4v": "mov",
    "mkv": "matroska",
    "webm": "matroska",
    "avi": "avi",
}

PLAYLIST_SUFFIXES = frozenset({".m3u8", ".m3u", ".mpd", ".pls", ".xspf", ".ffconcat"})

_ISO_BMFF_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*[:,]")
_SNIFF_BYTES = 4096

# Magic numbers of common non-video files, so the refusal can say what the file looks like.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"OggS", "an Ogg file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x00\x00\x01\xba", "an MPEG program stream (not on the allow-list)"),
)


def resolve_input_path(path: str | os.PathLike[str], limits: MediaLimits) -> Path:
    """Check that ``path`` names a readable local regular file within the size limit.

    Args:
        path: a local file path; URLs and FFmpeg protocol strings are refused.
        limits: provides ``max_file_bytes``.

    Returns:
        The absolute, symlink-resolved path.
    """
    text = os.fspath(path)
    if not isinstance(text, str):
        raise InputError(f"expected a file path, got {type(path).__name__}")
    if "://" in text or (_URL_LIKE.match(text) and not os.path.exists(text)):
        raise UnsupportedMediaError(
            f"{text!r} looks like a URL or FFmpeg protocol; only local files are read",
            hint="download the file first and pass its local path",
        )
    candidate = Path(text).expanduser()
    try:
        resolved = candidate.resolve(strict=True)
        info = resolved.stat()
    except FileNotFoundError:
        raise InputError(
            f"{text}: no such file (it does not exist)", hint="check the path"
        ) from None
    except OSError as err:
        raise InputError(f"{text}: cannot be read ({err.strerror})") from None
    except RuntimeError:  # Python 3.11 reports a symlink loop this way (later ones: OSError)
        raise InputError(f"{text}: a symbolic link loop", hint="pass the file itself") from None
    if not stat.S_ISREG(info.st_mode):
        # FIFOs and devices could block forever or never end.
        raise InputError(f"{text}: not a regular file", hint="pass a video file")
    if info.st_size == 0:
        raise MediaDecodeError(f"{text}: the file is empty", hint="check the download or copy")
    if info.st_size > limits.max_file_bytes:
        raise LimitExceededError(
            f"{text}: {info.st_size:,} bytes is over the {limits.max_file_bytes:,}-byte limit",
            hint="raise MediaLimits.max_file_bytes if this file is expected",
        )
    if not os.access(resolved, os.R_OK):
        raise InputError(f"{text}: permission denied")
    return resolved


def sniff_container(path: Path) -> str:
    """Container label of ``path`` from its first bytes (and its name, for playlists).

    Returns:
        One of the keys of ``DEMUXER_FOR_CONTAINER``.

    Raises:
        UnsupportedMediaError: a playlist, or anything that is not one of the allowed containers.
    """
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if path.suffix.lower() in PLAYLIST_SUFFIXES or _is_playlist(head):
        raise UnsupportedMediaError(
            f"{path.name}: playlists and manifests (HLS, DASH, concat) are refused; "
            "they make the demuxer open other files or URLs",
            hint="pass the media file itself",
        )
    if _is_still(head):
        raise UnsupportedMediaError(
            f"{path.name}: {_describe(head)}, not a video",
            hint="stills are read with reelproof.core.io.probe_still / decode_still",
        )
    if len(head) >= 12 and head[4:8] in _ISO_BMFF_BOXES:
        return _iso_bmff_label(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:64] else "mkv"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    raise UnsupportedMediaError(
        f"{path.name}: not a video container ReelProof reads; {_describe(head)}",
        hint="accepted containers: " + ", ".join(DEMUXER_FOR_CONTAINER),
    )


def _is_playlist(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return (
        text.startswith((b"#EXTM3U", b"#EXT-X-", b"ffconcat", b"[playlist]"))
        or b"<MPD" in head[:512]
    )


def _iso_bmff_label(head: bytes) -> str:
    if head[4:8] != b"ftyp":
        return "mov"  # pre-ftyp QuickTime files start with moov/mdat/wide
    brand = head[8:12]
    if brand == b"qt  ":
        return "mov"
    if brand.startswith(b"M4V"):
        return "m4v"
    return "mp4"


def _is_still(head: bytes) -> bool:
    from reelproof.core.io.stills import sniff_still  # stills import this module

    return sniff_still(head) is not None


def _describe(head: bytes) -> str:
    from reelproof.core.io.stills import sniff_still

    still = sniff_still(head)
    if still is not None:
        return f"it is a {still.upper()} still image"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "it looks like a WAV audio file"
    if len(head) > 188 and head[0] == head[188] == 0x47:
        return "it looks like an MPEG transport stream (not on the allow-list)"
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return f"it looks like {what}"
    try:
        head[:256].decode("utf-8")
    except UnicodeDecodeError:
        return "its first bytes match no allowed container"
    return "it looks like a text file"


def open_input(path: Path, container_label: str, limits: MediaLimits) -> Any:
    """Open ``path`` with the demuxer forced for ``container_label`` and only the file protocol.

    Returns:
        An open ``av.container.InputContainer`` (typed ``Any``: PyAV's stubs are partial).
    """
    demuxer = DEMUXER_FOR_CONTAINER[container_label]
    options = {
        "protocol_whitelist": "file",
        # Codec options for the few frames avformat_find_stream_info decodes: refuse to
        # allocate frames over the pixel limit even there.
        "max_pixels": str(limits.max_pixels_per_frame),
    }
    started = time.monotonic()
    try:
        with av_errors(path, "open"):
            return av.open(
                "file:" + str(path),
                mode="r",
                format=demuxer,
                options=options,
                timeout=(limits.open_timeout_s, limits.open_timeout_s),
                metadata_errors="replace",  # crafted tags are not valid UTF-8
            )
    except MediaDecodeError:
        # An interrupted read can surface as "invalid data"; blame the clock when it ran out.
        if time.monotonic() - started >= limits.open_timeout_s:
            raise _timeout_error(path.name, "open") from None
        raise


@contextmanager
def av_errors(path: Path | str, action: str) -> Iterator[None]:
    """Turn PyAV/FFmpeg exceptions raised inside the block into ``ReelProofError``s."""
    name = Path(path).name
    try:
        yield
    except ReelProofError:
        raise
    except av.error.ExitError:
        raise _timeout_error(name, action) from None
    except av.error.FFmpegError as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise MediaDecodeError(
            f"{name}: cannot {action}: {reason} (the file is corrupt, truncated or not a video)",
            hint="re-export or re-download the file",
        ) from None
    except (EOFError, MemoryError, OverflowError, UnicodeError, ValueError) as err:
        # PyAV surfaces some damage as plain Python errors (undecodable tags, bad rationals).
        raise MediaDecodeError(
            f"{name}: cannot {action}: {type(err).__name__} (the file is corrupt)",
            hint="re-export or re-download the file",
        ) from None


def _timeout_error(name: str, action: str) -> LimitExceededError:
    return LimitExceededError(
        f"{name}: {action} was interrupted by the time limit",
        hint="the file may be crafted to stall the demuxer; raise MediaLimits.decode_timeout_s "
        "only if you trust it",
    )
