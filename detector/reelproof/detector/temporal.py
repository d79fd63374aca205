"""Temporal noise features: how a clip's finest detail changes from one frame to the next.

A camera's sensor noise is drawn afresh for every frame. In the still parts of a camera clip the
high-pass residual therefore changes between consecutive frames about as much as it is large,
and where things move the change survives motion compensation. A generator synthesises its fine
detail, which tends to hold still with the picture or to change in another way (smoothed by a
temporal decoder, or re-drawn as a whole), so these ratios sit elsewhere. They are computed on
a run of consecutive frames near the start of a clip (after any black or fade-in intro), one
vector per clip, on a log1p scale.

Measured on the shared real-generator clips under leave-one-family-out (see
``docs/benchmarks/detector.md``), these four numbers rank unseen families better than the
per-frame forensic features; repeated frames are dropped first, because frame-rate conversion
repeats frames and that is a trait of the file, not of how its pictures were made.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core.io.limits import DEFAULT_LIMITS, MediaLimits
from reelproof.detector.frames import FloatArray, find_content_box, gray_u8

TEMPORAL_NAMES = ("detail_change", "still_detail_change", "still_noise", "compensated_change")
TEMPORAL_DIM = len(TEMPORAL_NAMES)
CONSECUTIVE_FRAMES = 24
# Larger pictures are shrunk to this short side first. Generated clips are mostly 256-512 px;
# measuring every clip at about that size compares like with like, and it is cheap. Measured
# (temporal features alone, leave-one-family-out on the shared originals, DIS flow): 360 px
# 0.759, 300 px 0.772, 240 px 0.790, 180 px 0.792.
MAX_SHORT_SIDE = 240
FLOW_PRESET = 1  # cv2.DISOPTICAL_FLOW_PRESET_FAST
_STILL_LEVEL = 2.0  # mean |frame difference| over 9x9 pixels below which an area is still
_MIN_STILL_PIXELS = 500
_REPEAT_LEVEL = 0.05  # mean |difference| (8-bit levels) below which a frame repeats the last
MAX_INTRO_FRAMES = 150  # leading frames an intro may take (5 s at 30 fps) before we stop looking
# A fade from black brightens every frame by several percent (a 1-s fade at 25 fps: 4% and
# more); auto-exposure drifts by well under 1% per frame.
_FADE_STEP = 0.02
# Mean |high-pass| (8-bit levels) of a frame with no picture at all. Dark footage is not blank:
# its sensor noise alone gives several tenths.
_BLANK_DETAIL = 0.05
_MIN_SIDE = 16  # pixels of picture (at the working size) the optical flow needs


def clip_temporal_features(
    path: Path, frames: int = CONSECUTIVE_FRAMES, limits: MediaLimits = DEFAULT_LIMITS
) -> FloatArray:
    """Temporal features of ``frames`` consecutive frames of a video file; (TEMPORAL_DIM,).

    The run starts after any intro (``after_intro``): news clips often open on black or fade
    in from it, and a fade of a held frame has no fresh sensor noise, so it would read as
    generated. The frames are decoded in one pass straight to luma at the working size
    (``iter_luma``). NaN everywhere when fewer than three distinct frames are left (a still,
    a slideshow, a clip that is all intro) or the picture is too small to measure.
    """
    from reelproof.core.io.luma import iter_luma

    planes = iter_luma(path, MAX_SHORT_SIDE, limits)
    try:
        run = after_intro(planes, frames)
    finally:
        planes.close()  # stops decoding and closes the file
    if len(run) < 3:
        return np.full(TEMPORAL_DIM, np.nan, dtype=np.float32)
    return luma_temporal_features(np.stack(run))


def after_intro(
    planes: Iterable[npt.NDArray[np.uint8]], frames: int
) -> list[npt.NDArray[np.uint8]]:
    """The first ``frames`` planes after an intro, read from ``planes`` no further than needed.

    An intro opens on a blank frame (no fine detail at all: black or a flat card) and runs on
    while frames stay blank or fade in (the next frame more than ``_FADE_STEP`` brighter), for
    at most ``MAX_INTRO_FRAMES``. A clip that opens on a picture has no intro, however its
    light changes. Each frame is judged against the next, so one frame is read ahead.
    """
    run: list[npt.NDArray[np.uint8]] = []
    in_intro: bool | None = None  # unknown until the first frame
    skipped = 0
    pending: npt.NDArray[np.uint8] | None = None
    for plane in planes:
        if in_intro is None:
            in_intro = _detail(plane) < _BLANK_DETAIL
        if pending is not None:
            if in_intro and skipped < MAX_INTRO_FRAMES and _is_intro(pending, plane):
                skipped += 1
            else:
                in_intro = False
                run.append(pending)
                if len(run) == frames:
                    return run
        pending = plane
    if pending is not None and not (in_intro and _detail(pending) < _BLANK_DETAIL):
        run.append(pending)
    return run[:frames]


def _is_intro(plane: npt.NDArray[np.uint8], following: npt.NDArray[np.uint8]) -> bool:
    """Blank, or fading in: the following frame is more than ``_FADE_STEP`` brighter."""
    level = float(np.mean(plane))
    return _detail(plane) < _BLANK_DETAIL or float(np.mean(following)) > (1 + _FADE_STEP) * level


def _detail(plane: npt.NDArray[np.uint8]) -> float:
    return float(np.mean(np.abs(_high_pass(plane.astype(np.float32)))))


def temporal_features(frames: npt.NDArray[np.uint8]) -> FloatArray:
    """Temporal features of consecutive (T, H, W, 3) uint8 RGB frames; (TEMPORAL_DIM,).

    The frames are turned to luma and shrunk to at most ``MAX_SHORT_SIDE`` on their short side
    first, as ``clip_temporal_features`` has the decoder do (no intro is looked for here).
    """
    import cv2  # deferred: importing the package stays light

    from reelproof.core.io.luma import working_size

    gray = gray_u8(frames)
    size = working_size(gray.shape[2], gray.shape[1], MAX_SHORT_SIDE)
    if size != (gray.shape[2], gray.shape[1]):
        gray = np.stack([cv2.resize(g, size, interpolation=cv2.INTER_AREA) for g in gray])
    return luma_temporal_features(gray)


def luma_temporal_features(luma: npt.NDArray[np.uint8]) -> FloatArray:
    """Temporal features of consecutive (T, h, w) uint8 luma frames at the working size;
    (TEMPORAL_DIM,). Letterbox bars are cropped before anything is measured."""
    out = np.full(TEMPORAL_DIM, np.nan, dtype=np.float32)
    if len(luma) < 3:
        return out
    box = find_content_box(luma[:: max(1, luma.shape[0] // 8)])
    picture = luma[:, box.top : box.bottom, box.left : box.right]
    if min(picture.shape[1], picture.shape[2]) < _MIN_SIDE:
        return out
    kept = _distinct([np.asarray(plane, dtype=np.float32) for plane in picture])
    if len(kept) < 3:
        return out
    lumas = [np.asarray(picture[i], dtype=np.float32) for i in kept]
    # Each frame's detail and the pixel grid are made once: a frame is in two pairs. The flow
    # reads the 8-bit planes as decoded (DIS wants them contiguous).
    highs = [_high_pass(plane) for plane in lumas]
    grid = np.mgrid[0 : lumas[0].shape[0], 0 : lumas[0].shape[1]].astype(np.float32)
    flow = _flow_engine()
    planes = [np.ascontiguousarray(picture[i]) for i in kept]
    fields = [flow.calc(a, b, None) for a, b in pairwise(planes)]
    rows = [
        _pair_features(a, b, ha, hb, grid, field)
        for (a, b), (ha, hb), field in zip(pairwise(lumas), pairwise(highs), fields, strict=True)
    ]
    table = np.array(rows, dtype=np.float64)
    for i in range(TEMPORAL_DIM):
        column = table[:, i][np.isfinite(table[:, i])]
        # A clip with no still area anywhere gets 0 for the still-area features (as trained).
        out[i] = float(np.median(column)) if column.size else 0.0
    # The ratios have no upper bound (a frame with almost no detail divides by almost
    # nothing): on a log scale one odd clip cannot pin a linear head's logit.
    return np.log1p(out).astype(np.float32)


def _flow_engine() -> Any:
    """Dense optical flow (DIS): about twenty times faster than Farneback at 360 px, which
    made the temporal features too slow to score every clip."""
    import cv2  # deferred: importing the package stays light

    # The stubs of this OpenCV build do not list the DIS factory; it is in every build.
    return cv2.DISOpticalFlow_create(FLOW_PRESET)  # type: ignore[attr-defined]


def _distinct(lumas: list[FloatArray]) -> list[int]:
    """Indices of consecutive frames with repeats (frame-rate conversion, GIF holds) left out."""
    kept = [0] if lumas else []
    for i in range(1, len(lumas)):
        if float(np.mean(np.abs(lumas[i] - lumas[kept[-1]]))) > _REPEAT_LEVEL:
            kept.append(i)
    return kept


def _high_pass(luma: FloatArray) -> FloatArray:
    import cv2  # deferred: importing the package stays light

    out: FloatArray = luma - cv2.blur(luma, (3, 3))
    return out


def _pair_features(
    a: FloatArray, b: FloatArray, ha: FloatArray, hb: FloatArray, grid: FloatArray, field: Any
) -> tuple[float, float, float, float]:
    """(detail change, the same in still areas, still-area noise, motion-compensated change)
    of frames ``a`` then ``b``, given their high-pass details, the (2, H, W) pixel grid and
    the (H, W, 2) optical flow from ``a`` to ``b``."""
    import cv2  # deferred: importing the package stays light

    detail = float(np.mean(np.abs(ha))) + 1e-3
    change = np.abs(hb - ha)
    diff = np.abs(b - a)
    still = cv2.blur(diff, (9, 9)) < _STILL_LEVEL
    still_change = still_noise = float("nan")
    if int(still.sum()) > _MIN_STILL_PIXELS:
        still_change = float(np.mean(change[still])) / (float(np.mean(np.abs(ha)[still])) + 1e-3)
        still_noise = float(np.median(diff[still]))
    gy, gx = grid[0], grid[1]
    warped = np.asarray(
        cv2.remap(
            a,
            gx + field[..., 0],
            gy + field[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ),
        dtype=np.float32,
    )
    compensated = float(np.mean(np.abs(hb - _high_pass(warped)))) / detail
    return float(np.mean(change)) / detail, still_change, still_noise, compensated
