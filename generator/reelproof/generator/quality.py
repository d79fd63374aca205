"""Programmatic quality checker for the default model: colour mask + centroid track.

For each generated clip it estimates the background colour from the frame border, masks the
pixels that differ from it, and reads off

- the background colour (nearest palette background to the border median),
- the shape colour (nearest palette colour to the median of masked pixels),
- the shape (fill ratio of the mask inside its bounding box: ball ~0.79, square 1, triangle 0.5),
- the motion direction (dominant axis and sign of the mask centroid's displacement).

A clip is correct when all four match the prompt. Numpy only; any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelproof.core import Result
from reelproof.generator.scenes import BACKGROUNDS, COLOURS, SceneSpec

_FILL_RATIO = {"ball": np.pi / 4.0, "square": 1.0, "triangle": 0.5}
_FG_DISTANCE = 60.0  # RGB distance from the background that counts as foreground
_MIN_TRAVEL = 0.12  # minimum centroid travel, fraction of the frame side, to call a direction


@dataclass(frozen=True)
class SceneReading(Result):
    """What the checker read from one clip, and whether it matches the request.

    Attributes:
        prompt: The requested prompt.
        colour, shape, motion, background: What the checker saw (``"none"`` if nothing).
        colour_ok, shape_ok, motion_ok, background_ok: Per-attribute agreement.
        correct: All four agree.
    """

    prompt: str
    colour: str
    shape: str
    motion: str
    background: str
    colour_ok: bool
    shape_ok: bool
    motion_ok: bool
    background_ok: bool

    @property
    def correct(self) -> bool:
        """All four attributes agree with the prompt."""
        return self.colour_ok and self.shape_ok and self.motion_ok and self.background_ok


def _nearest(value: npt.NDArray[np.float64], palette: dict[str, tuple[int, int, int]]) -> str:
    names = list(palette)
    dists = [float(np.linalg.norm(value - np.asarray(palette[n], dtype=np.float64))) for n in names]
    return names[int(np.argmin(dists))]


def _border_pixels(frames: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(N, 3) float64 pixels from the outermost ring of every frame."""
    top = frames[:, 0, :, :].reshape(-1, 3)
    bottom = frames[:, -1, :, :].reshape(-1, 3)
    left = frames[:, :, 0, :].reshape(-1, 3)
    right = frames[:, :, -1, :].reshape(-1, 3)
    return np.concatenate([top, bottom, left, right])


def read_scene(frames: npt.NDArray[np.uint8], spec: SceneSpec) -> SceneReading:
    """Score one clip against the scene it was asked to show.

    Args:
        frames: (T, H, W, 3) uint8 RGB clip.
        spec: The requested scene.

    Returns:
        The reading, with per-attribute agreement.
    """
    f = frames.astype(np.float64)  # (T, H, W, 3)
    num_frames, height, width, _ = f.shape
    bg_rgb = np.median(_border_pixels(f), axis=0)
    background = _nearest(bg_rgb, BACKGROUNDS)
    dist = np.linalg.norm(f - bg_rgb[None, None, None, :], axis=-1)  # (T, H, W)
    mask = dist > _FG_DISTANCE
    if mask.sum() < num_frames * 4:
        return SceneReading(
            spec.prompt, "none", "none", "none", background,
            False, False, False, background == spec.background,
        )  # fmt: skip
    fg_rgb = np.median(f[mask], axis=0)
    colour = _nearest(fg_rgb, COLOURS)
    # Soft coverage: anti-aliased or blurred edge pixels count by how far they are from the
    # background towards the shape colour, so the area is not inflated at small sizes.
    coverage = np.clip(dist / max(float(np.linalg.norm(fg_rgb - bg_rgb)), 1.0), 0.0, 1.0)
    fills: list[float] = []
    centroids: list[tuple[float, float]] = []
    ys, xs = np.mgrid[0:height, 0:width]
    for t in range(num_frames):
        m = mask[t]
        if m.sum() < 4:
            continue
        cover = np.where(m, coverage[t], 0.0)
        # Soft bounding box: the summed peak coverage of the occupied rows and columns.
        box = float(cover.max(axis=0).sum()) * float(cover.max(axis=1).sum())
        fills.append(float(cover.sum()) / max(box, 1.0))
        centroids.append((float(xs[m].mean()) / width, float(ys[m].mean()) / height))
    fill = float(np.median(fills))
    shape = min(_FILL_RATIO, key=lambda s: abs(_FILL_RATIO[s] - fill))
    motion = "none"
    if len(centroids) >= 2:
        k = max(1, len(centroids) // 4)
        start = np.mean(centroids[:k], axis=0)
        end = np.mean(centroids[-k:], axis=0)
        dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
        if max(abs(dx), abs(dy)) >= _MIN_TRAVEL:
            if abs(dx) >= abs(dy):
                motion = "right" if dx > 0 else "left"
            else:
                motion = "down" if dy > 0 else "up"
    return SceneReading(
        prompt=spec.prompt,
        colour=colour,
        shape=shape,
        motion=motion,
        background=background,
        colour_ok=colour == spec.colour,
        shape_ok=shape == spec.shape,
        motion_ok=motion == spec.motion,
        background_ok=background == spec.background,
    )
