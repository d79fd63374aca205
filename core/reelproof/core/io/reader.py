"""Streaming frame reader: RGB chunks with timestamps; a long video is never held whole."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange

from reelproof.core.clip import Clip, FrameArray
from reelproof.core.errors import InputError, LimitExceededError, MediaDecodeError
from reelproof.core.io._safety import av_errors
from reelproof.core.io.colour import SourceColour, source_colour
from reelproof.core.io.limits import DEFAULT_LIMITS, MediaLimits
from reelproof.core.io.probe import MediaInfo, open_and_probe

_clock = time.monotonic  # module-level so a test can fast-forward it

# A damaged sample table can end the stream early without any decoder error; a count this far
# under the container's exact declaration is reported as truncation. The slack covers frames
# dropped by edit lists.
_MISSING_FRAMES_SLACK = 0.02


@dataclass(frozen=True)
class FrameChunk:
    """A run of consecutive decoded frames (after ``stride``).

    Attributes:
        frames: (n, H, W, 3) uint8 RGB, full range, in stored orientation (rotation not applied).
        timestamps: (n,) float64 presentation times in seconds from the stream start.
        start_index: position of ``frames[0]`` in the reader's output (0, n, 2n, ...).
        source_indices: (n,) int64 presentation-order index of each frame in the source video
            (differs from ``start_index + i`` when ``stride > 1``).
        fps: the source's average frame rate (``None`` when not known to the producer).
    """

    frames: FrameArray
    timestamps: npt.NDArray[np.float64]
    start_index: int
    source_indices: npt.NDArray[np.int64]
    fps: Fraction | None = None

    def __len__(self) -> int:
        return int(self.frames.shape[0])


def iter_chunks(
    path: str | os.PathLike[str],
    chunk_frames: int = 16,
    stride: int = 1,
    max_frames: int | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> Iterator[FrameChunk]:
    """Decode ``path`` into RGB chunks of at most ``chunk_frames`` frames.

    The file is probed (and every limit checked) when this function is called, before the
    first frame is decoded; decoding happens as the iterator is consumed, so memory stays at one
    chunk plus the decoder's own buffers however long the video is.

    Colour: the stream's matrix and range tags are honoured (untagged: BT.709 from 720 lines
    up, BT.601 below, limited range) and RGB comes out full range. Rotation metadata is NOT
    applied: frames are in stored orientation, ``probe(path).rotation`` says how to turn them.

    Args:
        path: local video file.
        chunk_frames: frames per chunk (the last chunk may be shorter).
        stride: keep every ``stride``-th frame (all frames are still decoded).
        max_frames: stop after yielding this many frames.
        limits: bounds; ``decode_timeout_s`` bounds the whole iteration.

    Yields:
        ``FrameChunk`` objects in presentation order.

    Raises:
        MediaDecodeError: corrupt or truncated data, or no decodable frame.
        LimitExceededError: a limit is exceeded (checked before decoding where the header
            tells, else while decoding).
        UnsupportedMediaError: see ``probe``.
    """
    check_positive("chunk_frames", chunk_frames)
    check_positive("stride", stride)
    if max_frames is not None:
        check_positive("max_frames", max_frames)
    container, stream, info = open_and_probe(path, limits)
    return _decode_chunks(container, stream, info, chunk_frames, stride, max_frames, limits)


def read_clip(
    path: str | os.PathLike[str],
    max_frames: int | None = None,
    stride: int = 1,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> Clip:
    """Decode a short video into a ``Clip`` (frames (T, H, W, 3) uint8 RGB, read-only).

    The clip's ``fps`` is the source's average rate divided by ``stride``; its ``timestamps``
    carry the real presentation times (use them for VFR sources). Audio is not decoded (write
    it back with ``VideoWriter(..., audio_from=path)``).

    Raises:
        LimitExceededError: the frames would exceed ``limits.max_clip_bytes``; stream the
            file with ``iter_chunks`` instead.
        (and everything ``iter_chunks`` raises)
    """
    check_positive("stride", stride)
    if max_frames is not None:
        check_positive("max_frames", max_frames)
    container, stream, info = open_and_probe(path, limits)
    expected = -(-info.frames // stride) if info.frames else 0
    if max_frames is not None:
        expected = min(expected, max_frames)
    frame_bytes = info.width * info.height * 3
    if expected * frame_bytes > limits.max_clip_bytes:
        container.close()
        raise LimitExceededError(
            f"{info.path}: {expected} frames of {info.width}x{info.height} need "
            f"{expected * frame_bytes / 2**30:.1f} GiB, over the in-memory limit of "
            f"{limits.max_clip_bytes / 2**30:.1f} GiB",
            hint="stream it with reelproof.core.io.iter_chunks, or pass max_frames / stride",
        )
    chunks: list[FrameChunk] = []
    held = 0
    chunk_frames = min(64, expected) if expected > 0 else 64
    decoding = _decode_chunks(container, stream, info, chunk_frames, stride, max_frames, limits)
    try:
        for chunk in decoding:
            held += chunk.frames.nbytes
            if held > limits.max_clip_bytes:  # the header under-declared the frame count
                raise LimitExceededError(
                    f"{info.path}: decoded frames exceed the in-memory limit of "
                    f"{limits.max_clip_bytes / 2**30:.1f} GiB",
                    hint="stream it with reelproof.core.io.iter_chunks",
                )
            chunks.append(chunk)
    finally:
        decoding.close()  # closes the container even when we stop early
    frames = np.concatenate([c.frames for c in chunks]) if len(chunks) > 1 else chunks[0].frames
    stamps = np.concatenate([c.timestamps for c in chunks])
    return Clip(frames=frames, fps=Fraction(info.fps) / stride, timestamps=stamps)


def check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")


def _decode_chunks(
    container: Any,
    stream: Any,
    info: MediaInfo,
    chunk_frames: int,
    stride: int,
    max_frames: int | None,
    limits: MediaLimits,
) -> Generator[FrameChunk, None, None]:
    state = _ChunkState(chunk_frames, info.height, info.width, Fraction(info.fps))
    colour: SourceColour | None = None
    counter = DecodeCounter()
    try:
        with av_errors(info.path, "decode"):
            for frame, index, stamp in iter_decoded(container, stream, info, limits, counter):
                if index % stride:
                    continue  # never converted: the YUV->RGB conversion is the costly part
                if colour is None:
                    colour = first_frame_checks(frame, info, limits)
                chunk = state.add(to_rgb(frame, colour, info), stamp, index)
                if chunk is not None:
                    yield chunk
                if max_frames is not None and state.emitted >= max_frames:
                    break
        last = state.flush()
        if last is not None:
            yield last
        if state.emitted == 0:
            raise no_frame_error(info)
        check_complete(info, counter.decoded, max_frames, state.emitted, limits)
    finally:
        container.close()


@dataclass
class DecodeCounter:
    """What ``iter_decoded`` saw, for the truncation check after it.

    Attributes:
        decoded: frames the decoder returned.
        last_index: presentation index of the last frame returned (-1: none yet).
        max_gap: largest step between consecutive returned indices (1 unless frames are skipped).
    """

    decoded: int = 0
    last_index: int = -1
    max_gap: int = 1


def iter_decoded(
    container: Any,
    stream: Any,
    info: MediaInfo,
    limits: MediaLimits,
    counter: DecodeCounter,
    skip_nonref: bool = False,
    threads: int | None = None,
) -> Iterator[tuple[Any, int, float]]:
    """Yield ``(av.VideoFrame, presentation index, seconds)`` in presentation order.

    Shared by every reader: enforces the decode deadline and ``limits.max_frames`` while
    decoding. The caller owns (and closes) the container and wraps the iteration in
    ``av_errors`` (FFmpeg errors surface at ``next()``).

    With ``skip_nonref`` the decoder drops frames no other frame references (they are never
    decoded, which is the saving); the index then comes from the timestamp (constant frame rate
    assumed) rather than from counting.

    ``threads`` sets the decoder's thread count (default: enough frame threads to keep every core
    busy); a caller that counts CPU time rather than wall time passes 1, as frame threads cost
    about a tenth more CPU in all.
    """
    deadline = _clock() + limits.decode_timeout_s
    name = os.path.basename(info.path)
    _configure_decoder(stream, limits, threads)
    if skip_nonref:
        stream.codec_context.skip_frame = "NONREF"
    time_base = stream.time_base
    start = stream.start_time if stream.start_time is not None else 0
    for packet in container.demux(stream):
        if _clock() > deadline:
            raise LimitExceededError(
                f"{name}: decoding took longer than {limits.decode_timeout_s:.0f} s",
                hint="raise MediaLimits.decode_timeout_s if the file is trusted",
            )
        for frame in packet.decode():
            counter.decoded += 1
            if frame.pts is not None and time_base is not None:
                stamp = float((frame.pts - start) * time_base)
                index = round(stamp * info.fps) if skip_nonref else counter.decoded - 1
            else:
                index = counter.decoded - 1
                stamp = float(index / info.fps)
            if index + 1 > limits.max_frames:
                raise LimitExceededError(
                    f"{name}: more than {limits.max_frames:,} frames",
                    hint="raise MediaLimits.max_frames",
                )
            counter.max_gap = max(counter.max_gap, index - counter.last_index)
            counter.last_index = index
            yield frame, index, stamp


def no_frame_error(info: MediaInfo) -> MediaDecodeError:
    return MediaDecodeError(
        f"{os.path.basename(info.path)}: no frame could be decoded",
        hint="the file is corrupt or empty",
    )


# More frame threads than cores: with non-reference frames skipped, each frame waits on the
# decoding progress of the one before, so a thread is often idle; more frames in flight keep
# the cores busy. Sampling 16 frames of a 10-s 720p one-slice clip on 2 cores: 0.82 s with
# FFmpeg's default (cores + 1 threads), 0.71-0.73 s with 6-12 (median of 9 runs). Multi-slice
# streams use the same setting: slice threads alone (one per core) were as fast on a quiet
# machine but much slower whenever one core was briefly taken (median 1.08 s against 0.71 s
# over 8 interleaved runs on a two-slice clip), since every frame waits for its slowest slice.
_FRAME_THREADS = min(16, 4 * (os.cpu_count() or 1))


def _configure_decoder(stream: Any, limits: MediaLimits, threads: int | None = None) -> None:
    cc = stream.codec_context
    cc.thread_type = "AUTO"  # frame + slice threads (PyAV defaults to slice threads only)
    cc.thread_count = _FRAME_THREADS if threads is None else threads
    options = {"max_pixels": str(limits.max_pixels_per_frame)}
    if limits.strict_decode:
        options["err_detect"] = "explode"
    cc.options = options


def first_frame_checks(frame: Any, info: MediaInfo, limits: MediaLimits) -> SourceColour:
    """The first frame's size must match the header; its tags choose the colour conversion."""
    if (frame.width, frame.height) != (info.coded_width, info.coded_height):
        raise MediaDecodeError(
            f"{os.path.basename(info.path)}: frames are {frame.width}x{frame.height} but the "
            f"header says {info.coded_width}x{info.coded_height}",
            hint="the file is corrupt or crafted; re-export it",
        )
    return source_colour(
        int(frame.colorspace),
        int(frame.color_range),
        frame.format.name,
        frame.width,
        frame.height,
    )


def to_rgb(frame: Any, colour: SourceColour, info: MediaInfo) -> FrameArray:
    if (frame.width, frame.height) != (info.coded_width, info.coded_height):
        raise MediaDecodeError(
            f"{os.path.basename(info.path)}: the frame size changes mid-stream "
            f"({frame.width}x{frame.height}); ReelProof reads fixed-size videos only"
        )
    # frame.reformat() (a fresh swscale context per frame, as PyAV's to_ndarray does) measured
    # ~1.5x faster in wall-clock than reusing one VideoReformatter on 720p: the reused context
    # does not spread the conversion over threads.
    rgb_frame = frame.reformat(
        format="rgb24",
        src_colorspace=colour.matrix,
        src_color_range=colour.color_range,
        dst_color_range=ColorRange.JPEG,
    )
    rgb = rgb_frame.to_ndarray()  # (coded H, coded W, 3) uint8, maybe a view of the frame
    return cast(FrameArray, rgb)


class _ChunkState:
    """Fills (chunk, H, W, 3) buffers and hands each out when full.

    Buffers are recycled once the consumer has dropped every reference to a chunk handed out
    earlier (checked with the reference count), because fresh multi-megabyte arrays cost a page
    fault per 4 KiB on first touch: at 720p that was a tenth of the decode time. A consumer that
    keeps its chunks (``list(iter_chunks(...))``) simply gets fresh buffers.
    """

    _POOL_SIZE = 3  # a for-loop holds the previous chunk while the next one fills

    def __init__(self, chunk_frames: int, height: int, width: int, fps: Fraction) -> None:
        self.chunk_frames = chunk_frames
        self.fps = fps
        self.height = height
        self.width = width
        self.emitted = 0
        self._pool: list[FrameArray] = []
        self._start_chunk()

    def _start_chunk(self) -> None:
        self.frames = self._free_buffer()
        self.stamps = np.empty(self.chunk_frames, np.float64)
        self.indices = np.empty(self.chunk_frames, np.int64)
        self.filled = 0

    def _free_buffer(self) -> FrameArray:
        for buffer in self._pool:
            # References: the pool list, the loop variable and getrefcount's argument. Any
            # view handed out (chunk.frames, slices of it) holds the buffer as its base.
            if sys.getrefcount(buffer) <= 3:
                return buffer
        buffer = np.empty((self.chunk_frames, self.height, self.width, 3), np.uint8)
        if len(self._pool) < self._POOL_SIZE:
            self._pool.append(buffer)
        return buffer

    def add(self, rgb: FrameArray, stamp: float, index: int) -> FrameChunk | None:
        # Crop even-padded frames back to the true size (a no-op slice for normal files).
        self.frames[self.filled] = rgb[: self.height, : self.width]
        self.stamps[self.filled] = stamp
        self.indices[self.filled] = index
        self.filled += 1
        self.emitted += 1
        return self.flush() if self.filled == self.chunk_frames else None

    def flush(self) -> FrameChunk | None:
        if self.filled == 0:
            return None
        n = self.filled
        chunk = FrameChunk(
            frames=self.frames[:n],
            timestamps=self.stamps[:n],
            start_index=self.emitted - n,
            source_indices=self.indices[:n],
            fps=self.fps,
        )
        del self.frames  # drop our own reference so the recycling check sees only consumers'
        self._start_chunk()
        return chunk


def check_complete(
    info: MediaInfo, decoded: int, max_frames: int | None, emitted: int, limits: MediaLimits
) -> None:
    """Report truncation when far fewer frames decoded than the container declared."""
    if max_frames is not None and emitted >= max_frames:
        return
    if not (info.frames_exact and limits.strict_decode):
        return
    if decoded < info.frames * (1 - _MISSING_FRAMES_SLACK) - 1:
        raise MediaDecodeError(
            f"{os.path.basename(info.path)}: only {decoded} of the {info.frames} frames the "
            "container declares could be decoded (truncated or damaged file)",
            hint="re-download or re-export the file",
        )
