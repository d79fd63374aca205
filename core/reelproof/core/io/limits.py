"""Limits a media file must meet before ReelProof decodes a single frame."""

from __future__ import annotations

from dataclasses import dataclass

#: Containers ReelProof opens, by the label ``probe`` reports (chosen from the file's bytes).
ALLOWED_CONTAINERS: tuple[str, ...] = ("mp4", "mov", "m4v", "mkv", "webm", "avi")

#: Video codecs (FFmpeg codec names, whichever decoder library serves them) ReelProof decodes.
ALLOWED_VIDEO_CODECS: tuple[str, ...] = (
    "h264",
    "hevc",
    "vp8",
    "vp9",
    "av1",
    "mpeg4",
    "mpeg2video",
    "mjpeg",
    "prores",
    "ffv1",
)


@dataclass(frozen=True)
class MediaLimits:
    """Bounds checked by ``probe`` from the container header, before any decoding.

    The defaults admit DCI 4K (4096 x 2160) and clips of 12 minutes at up to 120 fps; a
    service facing the public should tighten them.

    Attributes:
        max_pixels_per_frame: width x height of the coded frame.
        max_frames: frames in the video stream (declared, estimated, or counted while decoding).
        max_duration_s: seconds of video.
        max_streams: streams of any kind in the container (a file with thousands of streams
            is an attack on the demuxer, not a video).
        allowed_containers: container labels accepted (see ``ALLOWED_CONTAINERS``).
        allowed_video_codecs: FFmpeg codec names accepted (``av1``, not the ``libdav1d``
            decoder that reads it).
        max_file_bytes: size of the file on disk.
        decode_timeout_s: wall-clock bound on reading one file from open to last frame.
        max_clip_bytes: bound on the RGB frames ``read_clip`` may hold in memory at once;
            longer videos must be streamed with ``iter_chunks``.
        strict_decode: abort on any bitstream error the decoder detects instead of
            concealing it (a verifier should not score concealed garbage as a frame).
        max_still_pixels: width x height of a still image (JPEG, PNG, WebP, HEIC, AVIF).
            Stills are bigger than video frames (phones shoot 48 MP, the default admits
            100 MP, 300 MB as RGB) but are decoded one at a time.
    """

    max_pixels_per_frame: int = 4096 * 2160
    max_frames: int = 12 * 60 * 120
    max_duration_s: float = 12 * 60.0
    max_streams: int = 16
    allowed_containers: tuple[str, ...] = ALLOWED_CONTAINERS
    allowed_video_codecs: tuple[str, ...] = ALLOWED_VIDEO_CODECS
    max_file_bytes: int = 8 * 1024**3
    decode_timeout_s: float = 1800.0
    max_clip_bytes: int = 2 * 1024**3
    strict_decode: bool = True
    max_still_pixels: int = 100_000_000

    def __post_init__(self) -> None:
        for name in (
            "max_pixels_per_frame",
            "max_frames",
            "max_streams",
            "max_file_bytes",
            "max_clip_bytes",
            "max_still_pixels",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"MediaLimits.{name} must be positive")
        if self.max_duration_s <= 0 or self.decode_timeout_s <= 0:
            raise ValueError("MediaLimits durations must be positive")

    @property
    def open_timeout_s(self) -> float:
        """Bound on opening the container and reading its header (part of the decode bound)."""
        return min(30.0, self.decode_timeout_s)


DEFAULT_LIMITS = MediaLimits()
