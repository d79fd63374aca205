"""Safe, streaming video I/O on PyAV.

- ``probe(path, limits)`` reads the header (no decoding) and enforces ``MediaLimits``.
- ``iter_chunks(path, ...)`` streams RGB ``FrameChunk``s; ``read_clip(path)`` loads short clips;
  ``sample_frames(path, count)`` returns a few frames spread over a clip, decoding less;
  ``iter_luma`` / ``read_luma`` stream or read frames as small full-range luma (temporal
  measures).
- Stills (JPEG, PNG, WebP, HEIC/HEIF, AVIF): ``sniff_still`` from bytes, ``probe_still`` (header,
  limits), ``decode_still`` (one (1, H, W, 3) uint8 RGB frame).
- ``VideoWriter`` / ``write_clip`` write H.264/H.265 (BT.709 limited, yuv420p, +faststart)
  atomically, with audio copied from a source file.

Inputs are local files only, opened with a demuxer forced from an allow-list chosen from the
file's bytes; playlists and URLs are refused; every failure is a ``ReelProofError``.
Frames are never rotated: ``MediaInfo.rotation`` reports the display rotation.
"""

from reelproof.core.io._safety import DEMUXER_FOR_CONTAINER, resolve_input_path
from reelproof.core.io.colour import SourceColour, source_colour
from reelproof.core.io.limits import (
    ALLOWED_CONTAINERS,
    ALLOWED_VIDEO_CODECS,
    DEFAULT_LIMITS,
    MediaLimits,
)
from reelproof.core.io.luma import iter_luma, read_luma
from reelproof.core.io.probe import DISPLAY_SIZE_KEY, MediaInfo, probe
from reelproof.core.io.reader import FrameChunk, iter_chunks, read_clip
from reelproof.core.io.sampler import sample_frame_sets, sample_frames
from reelproof.core.io.stills import (
    STILL_FORMATS,
    STILL_MIME,
    StillFormat,
    StillInfo,
    decode_still,
    probe_still,
    sniff_still,
    sniff_still_file,
)
from reelproof.core.io.writer import VideoWriter, write_clip

__all__ = [
    "ALLOWED_CONTAINERS",
    "ALLOWED_VIDEO_CODECS",
    "DEFAULT_LIMITS",
    "DEMUXER_FOR_CONTAINER",
    "DISPLAY_SIZE_KEY",
    "STILL_FORMATS",
    "STILL_MIME",
    "FrameChunk",
    "MediaInfo",
    "MediaLimits",
    "SourceColour",
    "StillFormat",
    "StillInfo",
    "VideoWriter",
    "decode_still",
    "iter_chunks",
    "iter_luma",
    "probe",
    "probe_still",
    "read_clip",
    "read_luma",
    "resolve_input_path",
    "sample_frame_sets",
    "sample_frames",
    "sniff_still",
    "sniff_still_file",
    "source_colour",
    "write_clip",
]
