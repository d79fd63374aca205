"""Uniform frame sampling with a frame budget, through ``reelproof.core.io.sample_frames``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core.io import DEFAULT_LIMITS, MediaLimits
from reelproof.core.io import sample_frames as _core_sample


def sample_frames(
    path: Path, max_frames: int, limits: MediaLimits = DEFAULT_LIMITS
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64], float]:
    """Up to ``max_frames`` frames spread evenly over a video (first and last included).

    Only the kept frames are converted to RGB, and non-reference frames are not decoded at all
    (see ``reelproof.core.io.sample_frames``); the file is probed (and every limit checked)
    before decoding.

    Args:
        path: local video file.
        max_frames: frame budget (>= 1).
        limits: media limits for probing and decoding.

    Returns:
        (frames (T, H, W, 3) uint8 RGB, timestamps (T,) float64 seconds, fps) with
        1 <= T <= max_frames.
    """
    chunk = _core_sample(path, max_frames, limits)
    assert chunk.fps is not None  # always set by the sampler
    return chunk.frames, chunk.timestamps, float(chunk.fps)
