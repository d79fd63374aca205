"""Uniform frame sampling: a few frames spread over a clip without converting the others.

Why not seek: typical exports (x264 defaults, phone cameras) put one keyframe every 5-10 s, so
a 10-s clip has one or two keyframes and seeking to each sample would decode the same GOP
prefix again and again. Instead the whole stream is demuxed once and the decoder is told to
skip non-reference frames (``skip_frame = "NONREF"``): they are never decoded, and nothing else
depends on them, so the frames that are decoded are bit-identical to a full decode. With x264's
default 3 B-frames that drops about 40 % of the frames (and about a third of the decode time);
the decoded frames are never more than a few frames apart, and each sample takes the decoded
frame nearest its target. Only the kept frames are converted to RGB.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from reelproof.core.errors import InputError
from reelproof.core.io._safety import av_errors
from reelproof.core.io.colour import SourceColour
from reelproof.core.io.limits import DEFAULT_LIMITS, MediaLimits
from reelproof.core.io.probe import MediaInfo, open_and_probe
from reelproof.core.io.reader import (
    DecodeCounter,
    FrameChunk,
    check_complete,
    check_positive,
    first_frame_checks,
    iter_decoded,
    no_frame_error,
    to_rgb,
)


def sample_frames(
    path: str | os.PathLike[str],
    count: int,
    limits: MediaLimits = DEFAULT_LIMITS,
    *,
    within_frames: int | None = None,
    skip_nonref: bool = True,
) -> FrameChunk:
    """Up to ``count`` frames spread evenly over a video, first and last frame included.

    Target positions are ``linspace(0, frames - 1, count)`` rounded; each is served by the
    decoded frame nearest to it (the exact frame unless ``skip_nonref`` dropped it, then a
    neighbour at most a few frames away). Two targets served by the same frame give one frame,
    so fewer than ``count`` frames come back from short clips. The file is probed (every limit
    checked) before anything is decoded, with the same safety as ``iter_chunks``.

    Args:
        path: local video file.
        count: frames wanted (>= 1).
        limits: bounds; ``decode_timeout_s`` bounds the whole read.
        within_frames: sample only the first ``within_frames`` frames (``None``: all).
        skip_nonref: let the decoder skip non-reference frames (ignored for variable frame
            rate, where an index cannot be told from a timestamp). Off: every frame is decoded.

    Returns:
        One ``FrameChunk``: frames (n, H, W, 3) uint8 RGB, timestamps (n,) float64 seconds,
        source_indices (n,) int64 presentation indices, increasing; 1 <= n <= count. When the
        container does not tell the frame count, the first ``count`` frames.

    Raises:
        MediaDecodeError / LimitExceededError / UnsupportedMediaError: as ``iter_chunks``.
    """
    return sample_frame_sets(
        path, (count,), limits, within_frames=within_frames, skip_nonref=skip_nonref
    )[0]


def sample_frame_sets(
    path: str | os.PathLike[str],
    counts: Sequence[int],
    limits: MediaLimits = DEFAULT_LIMITS,
    *,
    within_frames: int | None = None,
    skip_nonref: bool = True,
) -> tuple[FrameChunk, ...]:
    """Several uniform samplings of one video from a single decode pass.

    ``sample_frame_sets(path, (16, 32))[k]`` equals ``sample_frames(path, (16, 32)[k])``
    (the frame chosen for a target does not depend on the other targets), but the stream is
    decoded once: for callers that need, say, a classifier's frames and a fingerprint's.

    Args / Raises: as ``sample_frames``; ``counts`` holds one frame count (>= 1) per sampling.

    Returns:
        One ``FrameChunk`` per count, in order (frames shared between samplings are copies).
    """
    if not counts:
        raise InputError("counts must name at least one sampling")
    for count in counts:
        check_positive("count", count)
    if within_frames is not None:
        check_positive("within_frames", within_frames)
    container, stream, info = open_and_probe(path, limits)
    try:
        total = info.frames if within_frames is None else min(info.frames, within_frames)
        wanted = [_targets(total, count) for count in counts]
        union = sorted({t for targets in wanted for t in targets})
        skip = skip_nonref and not info.is_vfr and total > 0
        keeper = _sample(container, stream, info, limits, union, skip)
    finally:
        container.close()
    return tuple(keeper.chunk([keeper.slot_of[t] for t in targets]) for targets in wanted)


def _targets(total: int, count: int) -> list[int]:
    """Sorted distinct frame indices to sample; ``0..count-1`` when the total is unknown."""
    if total <= 0:
        return list(range(count))
    return sorted({int(i) for i in np.linspace(0, total - 1, min(count, total)).round()})


@dataclass
class _Decoded:
    frame: Any  # av.VideoFrame, still YUV
    index: int
    stamp: float


class _Keeper:
    """Converts and stores the frames chosen for the targets, once each."""

    def __init__(self, info: MediaInfo, limits: MediaLimits, slots: int) -> None:
        self.info = info
        self.limits = limits
        self.frames = np.empty((slots, info.height, info.width, 3), np.uint8)
        self.stamps = np.empty(slots, np.float64)
        self.indices = np.empty(slots, np.int64)
        self.kept = 0
        self.colour: SourceColour | None = None
        self.slot_of: dict[int, int] = {}  # target index -> row of ``frames`` serving it

    def keep(self, target: int, chosen: _Decoded) -> None:
        if self.kept and self.indices[self.kept - 1] == chosen.index:
            self.slot_of[target] = self.kept - 1  # two targets landed on the same frame
            return
        self.slot_of[target] = self.kept
        rgb = to_rgb(chosen.frame, self._colour(chosen.frame), self.info)
        self.frames[self.kept] = rgb[: self.info.height, : self.info.width]
        self.stamps[self.kept] = chosen.stamp
        self.indices[self.kept] = chosen.index
        self.kept += 1

    def trim(self) -> None:
        """Drop the unused rows (targets that shared a frame)."""
        n = self.kept
        self.frames, self.stamps, self.indices = (
            self.frames[:n],
            self.stamps[:n],
            self.indices[:n],
        )

    def _colour(self, frame: Any) -> SourceColour:
        if self.colour is None:
            self.colour = first_frame_checks(frame, self.info, self.limits)
        return self.colour

    def chunk(self, slots: list[int]) -> FrameChunk:
        """The frames serving ``slots`` (distinct, increasing), as their own arrays."""
        rows = np.array(sorted(set(slots)), np.int64)
        if rows.size == self.kept:
            frames, stamps, indices = self.frames, self.stamps, self.indices
        else:
            frames, stamps, indices = self.frames[rows], self.stamps[rows], self.indices[rows]
        return FrameChunk(frames, stamps, 0, indices, Fraction(self.info.fps))


def _sample(
    container: Any,
    stream: Any,
    info: MediaInfo,
    limits: MediaLimits,
    targets: list[int],
    skip: bool,
) -> _Keeper:
    keeper = _Keeper(info, limits, len(targets))
    counter = DecodeCounter()
    prev: _Decoded | None = None
    pending = 0  # position in ``targets`` of the next target to serve
    first_seen = False
    with av_errors(info.path, "decode"):
        for frame, index, stamp in iter_decoded(container, stream, info, limits, counter, skip):
            if not first_seen:  # the header checks run on the first frame, kept or not
                keeper._colour(frame)
                first_seen = True
            cur = _Decoded(frame, index, stamp)
            while pending < len(targets) and index >= targets[pending]:
                target = targets[pending]
                near_prev = prev is not None and target - prev.index <= index - target
                keeper.keep(target, prev if near_prev and prev is not None else cur)
                pending += 1
            if pending == len(targets):
                keeper.trim()
                return keeper  # the last target is the last declared frame
            prev = cur
    if prev is None:
        raise no_frame_error(info)
    for target in targets[pending:]:
        keeper.keep(target, prev)  # the stream ended before these targets: its last frame
    # A skipped tail is up to one gap long: count it as present before judging truncation.
    seen = counter.last_index + counter.max_gap if skip else counter.decoded
    check_complete(info, seen, None, keeper.kept, limits)
    keeper.trim()
    return keeper
