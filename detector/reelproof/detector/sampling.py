"""Uniform frame sampling with a frame budget, streamed through ``reelproof.core.io``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core.io import DEFAULT_LIMITS, MediaLimits, iter_chunks, probe


def sample_frames(
    path: Path, max_frames: int, limits: MediaLimits = DEFAULT_LIMITS
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64], float]:
    """Up to ``max_frames`` frames spread evenly over a video.

    Only the kept frames are converted to RGB and held; the file is probed (and every limit
    checked) before decoding.

    Args:
        path: local video file.
        max_frames: frame budget (>= 1).
        limits: media limits for probing and decoding.

    Returns:
        (frames (T, H, W, 3) uint8 RGB, timestamps (T,) float64 seconds, fps) with
        1 <= T <= max_frames.
    """
    info = probe(path, limits)
    total = max(info.frames, 1)
    stride = max(1, math.ceil(total / max_frames))
    chunks = list(
        iter_chunks(
            path, chunk_frames=max_frames, stride=stride, max_frames=max_frames, limits=limits
        )
    )
    frames = np.concatenate([c.frames for c in chunks])
    stamps = np.concatenate([c.timestamps for c in chunks])
    return frames, stamps, float(info.fps)
