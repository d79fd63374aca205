"""Self-blended faces (Shiohara & Yamasaki, CVPR 2022) for training the face head.

A face swap pastes one rendering of a face into another frame and blends the seam. The same
boundary and the same mismatch of colour, sharpness and noise appear when a real face is
blended with a slightly changed copy of *itself*: no fake data is needed, and the head learns
the seam rather than one generator's look. The copy is changed the ways a swap pipeline changes
a face (colour shift, blur or sharpening, a few percent of scale and shift, resampling), and
the mask is the face's ellipse, randomly deformed and feathered.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.detector.faces import FaceBox

UInt8Array = npt.NDArray[np.uint8]


def _changed_copy(frame: UInt8Array, rng: np.random.Generator) -> UInt8Array:
    """The frame after one random "render": colour, blur/sharpen, scale/shift, resampling."""
    import cv2

    h, w = frame.shape[:2]
    out: Any = frame.astype(np.float32) * rng.uniform(0.92, 1.08, 3) + rng.uniform(-8, 8, 3)
    kind = rng.integers(3)
    if kind == 0:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.6, 1.6)))
    elif kind == 1:
        soft = cv2.GaussianBlur(out, (0, 0), 1.0)
        out = out + float(rng.uniform(0.3, 1.0)) * (out - soft)
    scale = float(rng.uniform(0.95, 1.05))
    dx, dy = (float(v) for v in rng.uniform(-0.02, 0.02, 2) * np.array([w, h]))
    matrix = np.array([[scale, 0, (1 - scale) * w / 2 + dx], [0, scale, (1 - scale) * h / 2 + dy]])
    out = cv2.warpAffine(out, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.5:  # a swap model renders at its own resolution and is resized back
        f = float(rng.uniform(0.5, 0.8))
        small = cv2.resize(
            out, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA
        )
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.clip(out + 0.5, 0, 255), dtype=np.uint8)


def blend_mask(
    shape: tuple[int, int], face: FaceBox, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """A feathered, randomly deformed ellipse over the face: (H, W) float32 in [0, 1]."""
    import cv2

    h, w = shape
    cx, cy = (face.x0 + face.x1) / 2, (face.y0 + face.y1) / 2
    ax = (face.x1 - face.x0) / 2 * float(rng.uniform(0.75, 1.0))
    ay = (face.y1 - face.y0) / 2 * float(rng.uniform(0.8, 1.05))
    mask: Any = np.zeros((h, w), np.float32)
    cv2.ellipse(
        mask,
        (int(cx + rng.uniform(-0.05, 0.05) * ax), int(cy + rng.uniform(0, 0.1) * ay)),
        (max(2, int(ax)), max(2, int(ay))),
        float(rng.uniform(-10, 10)),
        0,
        360,
        1.0,
        -1,
    )
    feather = max(1.0, float(rng.uniform(0.05, 0.2)) * min(ax, ay))
    mask = cv2.GaussianBlur(mask, (0, 0), feather)
    return mask * float(rng.uniform(0.85, 1.0))  # type: ignore[no-any-return]


def self_blend(frame: UInt8Array, face: FaceBox, rng: np.random.Generator) -> UInt8Array:
    """One self-blended version of ``frame`` around ``face``.

    Args:
        frame: (H, W, 3) uint8 RGB of a real face.
        face: the face's detection in that frame.
        rng: randomness (seed it for reproducible training sets).

    Returns:
        (H, W, 3) uint8 RGB.
    """
    source = _changed_copy(frame, rng).astype(np.float32)
    mask = blend_mask(frame.shape[:2], face, rng)[..., None]
    out = mask * source + (1.0 - mask) * frame.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
