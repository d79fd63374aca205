"""Panned stills: a photo moved across the frame (a "Ken Burns" pan) recorded as a video.

Such a clip carries the still's own resampling and compression history, not a video's, and
the classifier was never trained on it (held-out pans of photos were the main source of false
positives of the traces backbone). It is recognised by phase correlation: when every pair of
consecutive sampled frames is explained by one global shift, and the frames agree to within
codec noise once aligned, nothing in the picture moved but the picture itself.

Real camera pans do not fit that model: parallax between near and far objects, moving
subjects, motion blur, rolling shutter and fresh sensor noise in every frame leave a residual
well above codec noise after the best global shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelproof.detector.frames import ContentBox

# Side of the centred native-resolution crop the shift is measured on: large enough for a
# reliable correlation peak, small enough to stay well under a millisecond per pair.
CROP = 256
MIN_CROP = 64
# A pair counts as shifted when the measured shift is at least this long (pixels): smaller
# shifts are the "static" rule's business.
MIN_SHIFT = 0.5
# Aligned residual (mean absolute luma difference, 0-255 levels) under which a shifted pair is
# "the same picture moved". Re-encoded integer pans of photos stay under 1 level at CRF 18-23.
MAX_ALIGNED_RESIDUAL = 1.5
# ... and the alignment must remove most of the raw frame difference.
MAX_RESIDUAL_RATIO = 0.2


@dataclass(frozen=True)
class PairShift:
    """How well one global shift explains a pair of consecutive sampled frames.

    Attributes:
        dx: horizontal shift in pixels (phase correlation, sub-pixel).
        dy: vertical shift in pixels.
        raw: mean absolute luma difference before alignment.
        aligned: the same after shifting the second frame back by (dx, dy), on the overlap.
    """

    dx: float
    dy: float
    raw: float
    aligned: float

    @property
    def translated(self) -> bool:
        """True when the pair is one picture moved, to within codec noise."""
        moved = float(np.hypot(self.dx, self.dy)) >= MIN_SHIFT
        small = self.aligned <= MAX_ALIGNED_RESIDUAL
        return moved and small and self.aligned <= MAX_RESIDUAL_RATIO * max(self.raw, 1e-6)


def centre_crop(gray: npt.NDArray[np.uint8], box: ContentBox) -> npt.NDArray[np.float32]:
    """(T, H, W) uint8 luma -> (T, s, s) float32: a centred square of the picture, native scale
    (a resize would blur the codec-noise floor the rule relies on)."""
    side = min(CROP, box.height, box.width)
    top = box.top + (box.height - side) // 2
    left = box.left + (box.width - side) // 2
    return gray[:, top : top + side, left : left + side].astype(np.float32)


def pair_shift(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> PairShift:
    """Global shift between two (s, s) float32 crops and the residual it leaves."""
    import cv2

    side = a.shape[0]
    window = cv2.createHanningWindow((side, side), cv2.CV_32F)
    # Copies: with a window and a DFT-friendly size, OpenCV windows its inputs in place.
    (dx, dy), _response = cv2.phaseCorrelate(a.copy(), b.copy(), window)
    # Move b back onto a; compare only where both frames hold picture (plus a guard band for
    # the interpolation at the edge).
    warp = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], dtype=np.float64)
    moved = cv2.warpAffine(b, warp, (side, side), flags=cv2.INTER_LINEAR)
    gy, gx = int(np.ceil(abs(dy))) + 2, int(np.ceil(abs(dx))) + 2
    if 2 * gy >= side or 2 * gx >= side:
        return PairShift(float(dx), float(dy), float(np.mean(np.abs(b - a))), float("inf"))
    inner = (slice(gy, side - gy), slice(gx, side - gx))
    raw = float(np.mean(np.abs(b[inner] - a[inner])))
    aligned = float(np.mean(np.abs(moved[inner] - a[inner])))
    return PairShift(float(dx), float(dy), raw, aligned)


def pan_profile(gray: npt.NDArray[np.uint8], box: ContentBox) -> list[PairShift]:
    """Shift readings of every pair of consecutive sampled frames (empty for tiny pictures).

    Args:
        gray: (T, H, W) uint8 luma of the sampled frames.
        box: the picture inside letterbox bars (bars do not move with a pan).
    """
    if min(box.height, box.width) < MIN_CROP or gray.shape[0] < 2:
        return []
    crops = centre_crop(gray, box)
    return [pair_shift(crops[i], crops[i + 1]) for i in range(crops.shape[0] - 1)]


def is_panned_still(shifts: list[PairShift], min_share: float) -> bool:
    """True when at least ``min_share`` of the pairs that changed are pure shifts.

    Pairs that did not change at all (a pause in the pan) neither count for nor against.
    """
    changed = [s for s in shifts if s.raw > 0.1]
    if len(changed) < 2:
        return False
    return float(np.mean([s.translated for s in changed])) >= min_share
