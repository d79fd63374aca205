"""Quality of a default-model checkpoint on held-out prompts, and a sample grid image.

Used by the benchmark (``reelproof eval generator``), the model card and the tests; the checker
itself lives in :mod:`reelproof.generator.quality`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reelproof.core import Result
from reelproof.generator import scenes
from reelproof.generator.quality import SceneReading, read_scene


@dataclass(frozen=True)
class QualityReport(Result):
    """Checker scores over a set of prompts.

    Attributes:
        split: ``"held_out"`` or ``"train"``.
        samples: Clips scored.
        correct: Fraction with all four attributes right.
        colour, shape, motion, background: Per-attribute accuracy.
        readings: Every reading.
    """

    schema: ClassVar[str] = "generator_quality"

    split: str
    samples: int
    correct: float
    colour: float
    shape: float
    motion: float
    background: float
    readings: tuple[SceneReading, ...]


def sample_clips(
    pipe: Any,
    specs: list[scenes.SceneSpec],
    seeds: list[int],
    steps: int = 20,
    size: int = 128,
    guidance_scale: float = 4.0,
) -> list[npt.NDArray[np.uint8]]:
    """Generate one clip per (spec, seed) with the bare pipeline (quality only, no marking).

    Returns:
        Clips (16, size, size, 3) uint8, spec-major then seed order.
    """
    import torch

    clips: list[npt.NDArray[np.uint8]] = []
    pipe.set_progress_bar_config(disable=True)
    for spec in specs:
        for seed in seeds:
            out = pipe(
                spec.prompt, num_frames=16, height=size, width=size,
                num_inference_steps=steps, guidance_scale=guidance_scale,
                generator=torch.Generator().manual_seed(seed), output_type="np",
            ).frames  # fmt: skip
            clips.append((np.asarray(out[0]) * 255).round().astype(np.uint8))
    return clips


def score(
    clips: list[npt.NDArray[np.uint8]], specs: list[scenes.SceneSpec], per_spec: int, split: str
) -> QualityReport:
    """Score clips (spec-major, ``per_spec`` each) against their specs."""
    readings = tuple(
        read_scene(clip, specs[i // per_spec]) for i, clip in enumerate(clips)
    )  # fmt: skip
    n = max(1, len(readings))

    def frac(values: list[bool]) -> float:
        return float(sum(values)) / n

    return QualityReport(
        split=split,
        samples=len(readings),
        correct=frac([r.correct for r in readings]),
        colour=frac([r.colour_ok for r in readings]),
        shape=frac([r.shape_ok for r in readings]),
        motion=frac([r.motion_ok for r in readings]),
        background=frac([r.background_ok for r in readings]),
        readings=readings,
    )


def sample_grid(
    clips: list[npt.NDArray[np.uint8]], path: Path, frames: tuple[int, ...] = (0, 5, 10, 15)
) -> Path:
    """Write a PNG grid: one row per clip, the chosen frames side by side (2-px gaps)."""
    from PIL import Image

    h, w = clips[0].shape[1:3]
    gap = 2
    grid = np.full(
        (len(clips) * (h + gap), len(frames) * (w + gap), 3), 255, dtype=np.uint8
    )  # fmt: skip
    for r, clip in enumerate(clips):
        for c, f in enumerate(frames):
            grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = clip[f]
    Image.fromarray(grid).save(path)
    return path
