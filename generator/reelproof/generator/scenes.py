"""Procedurally rendered training scenes for the embedded default model.

A scene is one coloured shape moving in a straight line over a plain background, described by a
prompt such as ``"a red ball moving left on a black background"``. The closed vocabulary keeps the
text encoder tiny and lets a programmatic checker (:mod:`reelproof.generator.quality`) score
whether a generated clip shows what was asked. Some attribute combinations are held out of
training so that quality is measured on prompts the model never saw.

Only numpy is used here so that the renderer and the checker stay cheap to import.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelproof.core import InputError

SHAPES: tuple[str, ...] = ("ball", "square", "triangle")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 90, 235),
    "yellow": (240, 215, 40),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "black": (15, 15, 20),
    "white": (235, 235, 235),
    "gray": (120, 120, 120),
}
MOTIONS: dict[str, tuple[float, float]] = {
    # (dx, dy) direction in image coordinates: y grows downwards.
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "up": (0.0, -1.0),
    "down": (0.0, 1.0),
}
# Words of the closed vocabulary beyond the attribute values.
FILLER_WORDS: tuple[str, ...] = ("a", "moving", "on", "background")

SHAPE_HALF_SIZE = 0.17  # half the shape's extent, as a fraction of the frame side
TRAVEL = 0.42  # distance travelled over the clip, as a fraction of the frame side
SUPERSAMPLE = 4  # render at 4x and box-filter down: anti-aliased edges
# Position of the path across the motion axis. Kept near the centre on purpose: a tiny model
# learns a prompt's distribution much faster when it is nearly unimodal, and the checker scores
# colour, shape and direction, not placement. Instances still differ (start, offset, size).
ACROSS_RANGE = (0.42, 0.58)


@dataclass(frozen=True)
class SceneSpec:
    """One prompt's attributes.

    Attributes:
        colour: Shape colour name (a key of ``COLOURS``).
        shape: Shape name (one of ``SHAPES``).
        motion: Motion direction (a key of ``MOTIONS``).
        background: Background colour name (a key of ``BACKGROUNDS``).
    """

    colour: str
    shape: str
    motion: str
    background: str

    @property
    def prompt(self) -> str:
        """The prompt that describes this scene."""
        return (
            f"a {self.colour} {self.shape} moving {self.motion} on a {self.background} background"
        )


def vocabulary() -> list[str]:
    """All words a prompt for the default model may contain, in a fixed order."""
    words = list(FILLER_WORDS) + list(COLOURS) + list(SHAPES) + list(MOTIONS)
    words += [b for b in BACKGROUNDS if b not in words]
    return words


def all_scenes() -> list[SceneSpec]:
    """Every attribute combination, in a fixed order."""
    return [
        SceneSpec(c, s, m, b)
        for c, s, m, b in itertools.product(COLOURS, SHAPES, MOTIONS, BACKGROUNDS)
    ]


def is_held_out(spec: SceneSpec) -> bool:
    """Whether a combination is kept out of training (about one in seven, every value still seen).

    The rule is a fixed arithmetic pattern over the attribute indices so that it is reproducible
    and spreads the held-out prompts over every colour, shape, motion and background.
    """
    idx = (
        list(COLOURS).index(spec.colour)
        + 2 * SHAPES.index(spec.shape)
        + 3 * list(MOTIONS).index(spec.motion)
        + 5 * list(BACKGROUNDS).index(spec.background)
    )
    return idx % 7 == 3


def train_scenes() -> list[SceneSpec]:
    """Combinations used for training."""
    return [s for s in all_scenes() if not is_held_out(s)]


def held_out_scenes() -> list[SceneSpec]:
    """Combinations never shown in training: the quality benchmark's prompts."""
    return [s for s in all_scenes() if is_held_out(s)]


def parse_prompt(prompt: str) -> SceneSpec | None:
    """Read a prompt of the default model's grammar back into a :class:`SceneSpec`.

    Returns:
        The spec, or ``None`` when the prompt does not follow the grammar (it may still be a
        valid prompt made of known words; the checker then has nothing to compare with).
    """
    words = prompt.lower().split()
    if len(words) != 9 or words[0] != "a" or words[3] != "moving" or words[5:7] != ["on", "a"]:
        return None
    colour, shape, motion, background = words[1], words[2], words[4], words[7]
    if (
        colour in COLOURS
        and shape in SHAPES
        and motion in MOTIONS
        and background in BACKGROUNDS
        and words[8] == "background"
    ):
        return SceneSpec(colour, shape, motion, background)
    return None


def _shape_mask(
    shape: str, cx: float, cy: float, half: float, size: int
) -> npt.NDArray[np.float64]:
    """Anti-aliased coverage (size, size) float64 in [0, 1] of one shape centred at (cx, cy).

    Coordinates are fractions of the frame side.
    """
    hi = size * SUPERSAMPLE
    coords = (np.arange(hi, dtype=np.float64) + 0.5) / hi
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    dx, dy = xx - cx, yy - cy
    if shape == "ball":
        inside = dx * dx + dy * dy <= half * half
    elif shape == "square":
        inside = (np.abs(dx) <= half * 0.9) & (np.abs(dy) <= half * 0.9)
    elif shape == "triangle":
        # Upward-pointing isosceles triangle inside the [-half, half] box.
        top, bottom = -half, half
        frac = (dy - top) / (bottom - top)  # 0 at the apex, 1 at the base
        inside = (dy >= top) & (dy <= bottom) & (np.abs(dx) <= frac * half)
    else:
        raise InputError(f"unknown shape {shape!r}", hint=f"use one of {', '.join(SHAPES)}")
    cover = inside.astype(np.float64).reshape(size, SUPERSAMPLE, size, SUPERSAMPLE)
    mean: npt.NDArray[np.float64] = cover.mean(axis=(1, 3))
    return mean


def render_scene(
    spec: SceneSpec, rng: np.random.Generator, num_frames: int = 16, size: int = 32
) -> npt.NDArray[np.uint8]:
    """Render one random instance of a scene.

    The start position along the motion axis, the position across it and the shape size are
    drawn from ``rng``, so one prompt has many valid renderings.

    Args:
        spec: What to draw.
        rng: Source of the per-instance randomness.
        num_frames: Frames in the clip.
        size: Frame side in pixels (square frames).

    Returns:
        Frames (num_frames, size, size, 3) uint8 RGB.
    """
    dx, dy = MOTIONS[spec.motion]
    half = SHAPE_HALF_SIZE * rng.uniform(0.9, 1.1)
    # Start so that the whole travel stays inside the frame with a margin.
    along0 = rng.uniform(half + 0.05, 1.0 - half - 0.05 - TRAVEL)
    across = rng.uniform(*ACROSS_RANGE)
    fg = np.asarray(COLOURS[spec.colour], dtype=np.float64)
    bg = np.asarray(BACKGROUNDS[spec.background], dtype=np.float64)
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    for t in range(num_frames):
        along = along0 + TRAVEL * t / max(num_frames - 1, 1)
        # A negative direction runs the same path backwards.
        pos = along if (dx + dy) > 0 else 1.0 - along
        cx, cy = (pos, across) if dx != 0.0 else (across, pos)
        cover = _shape_mask(spec.shape, cx, cy, half, size)[..., None]
        frames[t] = np.clip(np.rint(bg * (1.0 - cover) + fg * cover), 0, 255).astype(np.uint8)
    return frames
