"""Clip: a short in-memory video (frames, frame rate, optional audio)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from reelproof.core.errors import InputError

FrameArray = npt.NDArray[np.uint8]
"""(T, H, W, 3) uint8 RGB frames."""


@dataclass(frozen=True)
class Audio:
    """Decoded audio kept beside a clip.

    Attributes:
        samples: (channels, n_samples) float32 in [-1, 1].
        sample_rate: samples per second.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int


@dataclass(frozen=True)
class Clip:
    """A short video held in memory. Long videos are streamed instead (see ``reelproof.core.io``).

    Attributes:
        frames: (T, H, W, 3) uint8 RGB, made read-only on construction.
        fps: frame rate as an exact fraction (30000/1001 stays exact).
        audio: optional decoded audio.
        timestamps: optional (T,) float64 presentation times in seconds (VFR sources).
    """

    frames: FrameArray
    fps: Fraction = Fraction(25)
    audio: Audio | None = None
    timestamps: npt.NDArray[np.float64] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        frames = np.asarray(self.frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise InputError(f"clip frames must have shape (T, H, W, 3), got {frames.shape}")
        if frames.dtype != np.uint8:
            raise InputError(f"clip frames must be uint8, got {frames.dtype}")
        if frames.shape[0] == 0:
            raise InputError("a clip needs at least one frame")
        fps = Fraction(self.fps).limit_denominator(1_000_000)
        if fps <= 0:
            raise InputError(f"fps must be positive, got {self.fps}")
        if frames.flags.writeable:
            frames = frames.copy() if not frames.flags.owndata else frames
            frames.flags.writeable = False
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "fps", fps)
        if self.timestamps is not None:
            ts = np.asarray(self.timestamps, dtype=np.float64)
            if ts.shape != (frames.shape[0],):
                raise InputError("timestamps must have one entry per frame")
            ts.flags.writeable = False
            object.__setattr__(self, "timestamps", ts)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def duration(self) -> float:
        """Seconds, from the frame count and the nominal rate."""
        return float(self.num_frames / self.fps)

    def with_frames(self, frames: FrameArray) -> Clip:
        """A new clip with other frames and the same rate and audio."""
        return Clip(frames=frames, fps=self.fps, audio=self.audio)
