"""Screening before classification: clips the classifier cannot judge are named, not scored.

The classifier was trained on moving camera footage and generated video. Some clips fall
outside that domain, and a score there would be a guess dressed as a probability:

- ``too_short``: fewer than ``min_frames`` distinct frames, or shorter than ``min_seconds``;
- ``too_small``: the picture (after letterbox bars) is under ``min_side`` pixels on a side;
- ``flat``: a blank or single-colour picture, or no textured area to read;
- ``static``: every sampled frame shows the same picture (a photo recorded as a movie, a
  frozen screen); the frames carry the still's resampling history, not a video's;
- ``slideshow``: most sampled frames repeat the one before, the rest are cuts (stills shown
  one after another);
- ``panned_still``: consecutive sampled frames are one picture moved by a global shift, to
  within codec noise (a photo panned across the frame; see ``pans.py``);
- ``heavy_compression``: so few bits per pixel that the codec erased the fine texture every
  trace lives in.

Each abstention carries a short machine-readable ``code`` and a sentence for people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reelproof.detector.pans import PairShift, is_panned_still

# Mean absolute luma difference (0-255 levels, on a 64-pixel-wide area-downscaled copy) under
# which two sampled frames count as the same picture. Codec noise on a re-encoded still stays
# under 0.1; the stillest camera clip in the shared set (a talking head on a tripod) moves 0.12
# to 0.66 between sampled frames, the stillest generated clip 0.02 to 1.6 (median 0.37).
SAME_PICTURE = 0.1
THUMB_WIDTH = 64
FLAT_STD = 2.0  # luma levels; a picture with less spread than this is blank


@dataclass(frozen=True)
class ScreenConfig:
    """Limits below which the classifier abstains (saved with the detector).

    Attributes:
        min_frames: distinct sampled frames needed for a clip verdict.
        min_seconds: shortest clip judged.
        min_side: smallest picture side in pixels after bars are removed.
        static_share: share of consecutive sampled pairs that repeat the picture above which
            the clip is a still (all pairs) or a slideshow (this share or more).
        min_bits_per_pixel: coded bits per pixel per frame under which the clip counts as
            heavily compressed (checked only when the file's size is known).
        pan_share: share of the changing sampled pairs that must be one picture shifted, to
            within codec noise, for the clip to count as a panned still.
    """

    min_frames: int = 4
    min_seconds: float = 0.75
    min_side: int = 64
    static_share: float = 0.6
    min_bits_per_pixel: float = 0.01
    # Share of changing pairs that must be pure shifts: a real pan that happens to be nearly
    # rigid for one or two pairs must not be taken for a panned photo.
    pan_share: float = 0.8


@dataclass(frozen=True)
class Abstention:
    """Why a clip is not scored.

    Attributes:
        code: machine-readable ("too_short", "too_small", "flat", "static", "slideshow",
            "panned_still", "heavy_compression").
        reason: one sentence a user can act on.
    """

    code: str
    reason: str


def thumbnails(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Gray copies 64 pixels wide (area-downscaled): cheap to compare, blind to codec noise.

    Args:
        frames: (T, H, W, 3) uint8 RGB.

    Returns:
        (T, h, 64) float32 luma in 0-255.
    """
    import cv2

    h, w = frames.shape[1:3]
    size = (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w)))
    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in frames]
    return np.stack([cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in gray]).astype(
        np.float32
    )


def motion_profile(thumbs: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Mean absolute luma change between consecutive thumbnails: (T, h, w) -> (T-1,)."""
    if thumbs.shape[0] < 2:
        return np.zeros(0, dtype=np.float64)
    return np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2)).astype(np.float64)  # type: ignore[no-any-return]


def screen_flat(thumbs: npt.NDArray[np.float32]) -> Abstention | None:
    """``flat`` when every thumbnail is one even tone (a blank or single-colour picture)."""
    if float(thumbs.std(axis=(1, 2)).max()) < FLAT_STD:
        return Abstention(
            "flat", "blank picture: the frames are one even tone, with nothing to analyse"
        )
    return None


def screen_motion(motion: npt.NDArray[np.float64], cfg: ScreenConfig) -> Abstention | None:
    """``static`` or ``slideshow`` from a motion profile; None for a moving clip."""
    if motion.size == 0:
        return None
    same = motion < SAME_PICTURE
    if same.all():
        return Abstention(
            "static",
            "static picture: every sampled frame shows the same image (a still recorded as "
            "video); the video classifier does not judge stills",
        )
    if same.mean() >= cfg.static_share:
        cuts = int((~same).sum())
        return Abstention(
            "slideshow",
            f"slideshow: {int(same.sum())} of {motion.size} sampled frame pairs repeat the "
            f"same picture and {cuts} change it at once; stills shown in turn are not judged "
            "by the video classifier",
        )
    return None


def screen_pan(shifts: list[PairShift], cfg: ScreenConfig) -> Abstention | None:
    """``panned_still`` when the sampled frames are one still picture moved across the frame."""
    share = getattr(cfg, "pan_share", ScreenConfig.pan_share)  # models saved before the rule
    if not is_panned_still(shifts, share):
        return None
    return Abstention(
        "panned_still",
        "panned still: every sampled frame is the same picture shifted across the frame (a "
        "photo panned into a video); the video classifier does not judge stills",
    )


def screen_length(n_frames: int, seconds: float, cfg: ScreenConfig) -> Abstention | None:
    """``too_short`` when the clip has too few distinct frames or too little time."""
    if n_frames < cfg.min_frames:
        return Abstention(
            "too_short",
            f"too short: {n_frames} distinct frame{'s' if n_frames != 1 else ''}; the "
            f"classifier needs at least {cfg.min_frames}",
        )
    if seconds < cfg.min_seconds:
        return Abstention(
            "too_short",
            f"too short: {seconds:.1f} s; the classifier needs {cfg.min_seconds:g} s",
        )
    return None


def screen_size(width: int, height: int, cfg: ScreenConfig) -> Abstention | None:
    """``too_small`` when the picture inside the bars is under ``min_side``."""
    if min(width, height) < cfg.min_side:
        return Abstention(
            "too_small",
            f"too small: the picture is {width}x{height} pixels after removing bars; the "
            f"classifier needs at least {cfg.min_side} on each side",
        )
    return None


def screen_bits(bits_per_pixel: float | None, cfg: ScreenConfig) -> Abstention | None:
    """``heavy_compression`` when the coded size leaves almost nothing of the fine texture."""
    if bits_per_pixel is None or bits_per_pixel <= 0 or bits_per_pixel >= cfg.min_bits_per_pixel:
        return None
    return Abstention(
        "heavy_compression",
        f"heavily compressed: {bits_per_pixel:.3f} bits per pixel (the classifier needs "
        f"{cfg.min_bits_per_pixel:g}); the codec removed the fine detail it reads. Score the "
        "original upload instead",
    )


def clip_seconds(stamps: npt.NDArray[np.float64], fps: float) -> float:
    """Duration covered by sampled frames: first to last timestamp plus one frame."""
    if stamps.size == 0:
        return 0.0
    return float(stamps[-1] - stamps[0]) + (1.0 / fps if fps > 0 else 0.0)
