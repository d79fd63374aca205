"""``probe``: what a media file holds, read from its headers without decoding a frame."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

from av.stream import Disposition

from reelproof.core.errors import LimitExceededError, MediaDecodeError, UnsupportedMediaError
from reelproof.core.io._isobmff import read_video_rotation
from reelproof.core.io._safety import av_errors, open_input, resolve_input_path, sniff_container
from reelproof.core.io.boxes import check_structure
from reelproof.core.io.colour import colour_names
from reelproof.core.io.limits import DEFAULT_LIMITS, MediaLimits
from reelproof.core.results import Result

#: Container metadata key where ``VideoWriter`` records the true size of an odd-sized video
#: it had to pad to even dimensions (value ``"WxH"``).
DISPLAY_SIZE_KEY = "reelproof_display_size"

_VFR_RELATIVE_TOLERANCE = 0.02  # 30000/1001 in a 1/1000 time base alternates 33 and 34 ticks


@dataclass(frozen=True)
class MediaInfo(Result):
    """What ``probe`` learned from a file's headers.

    Attributes:
        path: the file, as given.
        container: container label from the file's bytes (mp4, mov, m4v, mkv, webm, avi).
        codec: FFmpeg name of the video codec (h264, hevc, av1, ...), not of its decoder.
        pixel_format: decoder pixel format (yuv420p, ...), None if the header does not say.
        width: frame width in pixels as ReelProof's reader yields it (before rotation).
        height: frame height in pixels, likewise.
        coded_width: width stored in the stream (even-padded files store one column more).
        coded_height: height stored in the stream.
        fps: average frame rate as an exact fraction.
        is_vfr: True when frame durations vary (timestamps are then the truth, not ``fps``).
        frames: number of video frames (declared by the container or estimated).
        frames_exact: True when ``frames`` comes from the container's sample table.
        duration: seconds of video (0.0 when the container does not say).
        rotation: counter-clockwise display rotation in degrees, one of [0, 360). Frames are
            NOT rotated by the reader: they come out as stored, and this says how a player
            would turn them.
        color_space: matrix tag (bt709, smpte170m, ...), None if untagged.
        color_range: "limited", "full", or None if untagged.
        has_audio: whether there is an audio stream.
        audio_codec: FFmpeg name of the first audio stream's codec.
        audio_sample_rate: samples per second of that stream.
        audio_channels: channel count of that stream.
        size_bytes: file size.
        bit_rate: overall bits per second as the container reports it (0 if unknown).
        streams: number of streams of every kind.
    """

    schema: ClassVar[str] = "media_info"

    path: str
    container: str
    codec: str
    pixel_format: str | None
    width: int
    height: int
    coded_width: int
    coded_height: int
    fps: Fraction
    is_vfr: bool
    frames: int
    frames_exact: bool
    duration: float
    rotation: int
    color_space: str | None
    color_range: str | None
    has_audio: bool
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    size_bytes: int
    bit_rate: int
    streams: int

    def audio_summary(self) -> str:
        """One line about the audio ("aac, 48000 Hz, 2 ch" or "none")."""
        if not self.has_audio:
            return "none"
        parts = [self.audio_codec or "unknown codec"]
        if self.audio_sample_rate:
            parts.append(f"{self.audio_sample_rate} Hz")
        if self.audio_channels:
            parts.append(f"{self.audio_channels} ch")
        return ", ".join(parts)


def probe(path: str | os.PathLike[str], limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    """Read container, codec, size, frame rate, frame count, rotation and audio without decoding.

    Every limit in ``limits`` that the header can tell is checked here, so a file that is too
    big is refused before a single frame is decoded.

    Args:
        path: local video file.
        limits: bounds to enforce.

    Returns:
        The file's ``MediaInfo``.

    Raises:
        UnsupportedMediaError: URLs, playlists, containers or codecs not on the allow-list,
            files without a video stream.
        LimitExceededError: a limit is exceeded.
        MediaDecodeError: the header is corrupt or truncated.
        InputError: the path is missing or not a regular file.
    """
    container, _stream, info = open_and_probe(path, limits)
    container.close()
    return info


def open_and_probe(path: str | os.PathLike[str], limits: MediaLimits) -> tuple[Any, Any, MediaInfo]:
    """Probe and return the still-open container and its video stream (for the reader).

    The caller owns the container and must close it.
    """
    resolved = resolve_input_path(path, limits)
    label = sniff_container(resolved)
    check_structure(resolved)  # before any demuxer walks the boxes
    if label not in limits.allowed_containers:
        raise UnsupportedMediaError(
            f"{resolved.name}: the {label} container is not allowed by the current limits",
            hint="allowed: " + ", ".join(limits.allowed_containers),
        )
    container = open_input(resolved, label, limits)
    try:
        with av_errors(resolved, "read the header of"):
            stream, info = _describe(container, resolved, os.fspath(path), label, limits)
    except BaseException:
        container.close()
        raise
    return container, stream, info


def _describe(
    container: Any, resolved: Path, shown_path: str, label: str, limits: MediaLimits
) -> tuple[Any, MediaInfo]:
    name = resolved.name
    n_streams = len(container.streams)
    if n_streams > limits.max_streams:
        raise LimitExceededError(
            f"{name}: {n_streams} streams is over the limit of {limits.max_streams}",
            hint="raise MediaLimits.max_streams if this file is expected",
        )
    stream = _video_stream(container, name)
    cc = stream.codec_context
    width, height = int(cc.width or 0), int(cc.height or 0)
    if width <= 0 or height <= 0:
        raise MediaDecodeError(
            f"{name}: the video stream has no usable frame size (the header is corrupt, or "
            f"claims a size the decoder refused: over {limits.max_pixels_per_frame:,} pixels)",
            hint="re-export the file",
        )
    if width * height > limits.max_pixels_per_frame:
        raise LimitExceededError(
            f"{name}: {width}x{height} frames ({width * height:,} pixels) are over the limit "
            f"of {limits.max_pixels_per_frame:,} pixels",
            hint="downscale the video or raise MediaLimits.max_pixels_per_frame",
        )
    codec = codec_name(cc)
    if codec not in limits.allowed_video_codecs:
        raise UnsupportedMediaError(
            f"{name}: the {codec} video codec is not on the allow-list",
            hint="re-encode to H.264 or H.265; allowed: " + ", ".join(limits.allowed_video_codecs),
        )
    fps = _frame_rate(stream)
    duration = _duration(container, stream)
    frames, exact = _frame_count(stream, fps, duration)
    if exact and frames == 0:
        raise MediaDecodeError(f"{name}: the video stream has no frames", hint="re-export the file")
    if fps <= 0 and frames > 0 and duration > 0:
        fps = Fraction(frames / duration).limit_denominator(1001)
    if fps <= 0:
        raise MediaDecodeError(f"{name}: the video stream declares no frame rate")
    if frames > limits.max_frames:
        raise LimitExceededError(
            f"{name}: {frames:,} frames is over the limit of {limits.max_frames:,}",
            hint="cut the video or raise MediaLimits.max_frames",
        )
    if duration > limits.max_duration_s:
        raise LimitExceededError(
            f"{name}: {duration:.1f} s is over the limit of {limits.max_duration_s:.0f} s",
            hint="cut the video or raise MediaLimits.max_duration_s",
        )
    shown_w, shown_h = _display_size(container.metadata, width, height)
    matrix, rng = colour_names(int(cc.colorspace), int(cc.color_range))
    audio = next((s for s in container.streams.audio), None)
    audio_cc = audio.codec_context if audio is not None else None
    info = MediaInfo(
        path=shown_path,
        container=label,
        codec=codec,
        pixel_format=cc.pix_fmt,
        width=shown_w,
        height=shown_h,
        coded_width=width,
        coded_height=height,
        fps=fps,
        is_vfr=_is_vfr(stream),
        frames=frames,
        frames_exact=exact,
        duration=duration,
        rotation=read_video_rotation(resolved) if label in ("mp4", "mov", "m4v") else 0,
        color_space=matrix,
        color_range=rng,
        has_audio=audio is not None,
        audio_codec=audio_cc.name if audio_cc is not None else None,
        audio_sample_rate=int(audio_cc.sample_rate) if audio_cc is not None else None,
        audio_channels=int(audio_cc.channels) if audio_cc is not None else None,
        size_bytes=resolved.stat().st_size,
        bit_rate=int(container.bit_rate or 0),
        streams=n_streams,
    )
    return stream, info


def codec_name(codec_context: Any) -> str:
    """The codec's own name (``av1``, ``vp9``, ``hevc``), whichever decoder FFmpeg picked.

    ``codec_context.name`` names the decoder, which for some codecs is a library wrapper
    (``libdav1d`` decodes AV1): the allow-list is about the bitstream format, not the library.
    """
    codec = getattr(codec_context, "codec", None)
    canonical = getattr(codec, "canonical_name", None)
    return str(canonical or codec_context.name)


def _video_stream(container: Any, name: str) -> Any:
    """The first real video stream (cover-art pictures are attached_pic streams, skipped)."""
    for stream in container.streams.video:
        if stream.disposition & Disposition.attached_pic:
            continue
        if stream.codec_context is None:
            raise UnsupportedMediaError(f"{name}: no decoder for the video codec of this file")
        return stream
    raise UnsupportedMediaError(
        f"{name}: the file has no video stream (or only an empty one)",
        hint="pass a video file, not audio or an image",
    )


def _frame_rate(stream: Any) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return Fraction(rate)
    return Fraction(0)


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return 0.0


def _frame_count(stream: Any, fps: Fraction, duration: float) -> tuple[int, bool]:
    if stream.frames and stream.frames > 0:
        return int(stream.frames), True
    if fps > 0 and duration > 0:
        return round(duration * fps), False
    return 0, False


def _is_vfr(stream: Any) -> bool:
    """Varying gaps between indexed timestamps (mp4/avi index every frame), else rates differ."""
    entries = stream.index_entries
    if stream.frames and len(entries) == stream.frames and len(entries) > 2:
        stamps = sorted(entry.timestamp for entry in entries)
        gaps = [b - a for a, b in itertools.pairwise(stamps) if b > a]
        if gaps:
            spread = max(gaps) - min(gaps)
            return bool(spread > max(1, _VFR_RELATIVE_TOLERANCE * min(gaps)))
    avg, base = stream.average_rate, stream.base_rate
    if avg and base:
        return abs(float(avg) - float(base)) > _VFR_RELATIVE_TOLERANCE * float(base)
    return False


def _display_size(metadata: dict[str, str], width: int, height: int) -> tuple[int, int]:
    """The true size of an even-padded video written by ``VideoWriter`` (else the coded size).

    Only a crop of at most one column and one row is honoured, so a forged tag can do no harm.
    """
    raw = {k.lower(): v for k, v in metadata.items()}.get(DISPLAY_SIZE_KEY)
    if not raw:
        return width, height
    try:
        tag_w, tag_h = (int(part) for part in raw.lower().split("x"))
    except ValueError:
        return width, height
    if width - 1 <= tag_w <= width and height - 1 <= tag_h <= height:
        return tag_w, tag_h
    return width, height
