"""How clips are really re-posted: geometric transforms a platform or a re-uploader applies.

Each is a pure ``Clip -> Clip`` function registered with the attacks (``create_attack(name)``).
They mirror issue 20: letterbox and pillarbox bars, picture-in-picture over a blurred copy,
a simulated screen recording, downscale-compress-upscale, small rotations with black corners,
shrinking to 0.4x, zooming 2.5x, squeezing 16:9 into 4:3, cropping a 9:16 vertical and
upscaling it, mirroring, and an off-grid crop. ``REPOST_CODECS`` are the re-encodes each one is
combined with in the benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core.clip import Clip

Frame = npt.NDArray[np.uint8]


def _cv2() -> Any:
    import cv2

    return cv2


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _resize(frame: Frame, width: int, height: int) -> Frame:
    cv2 = _cv2()
    shrinking = width * height < frame.shape[0] * frame.shape[1]
    inter = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(frame, (width, height), interpolation=inter))


def _per_frame(clip: Clip, fn: Callable[[Frame], Frame]) -> Clip:
    return clip.with_frames(np.ascontiguousarray(np.stack([fn(f) for f in clip.frames])))


def _place(canvas: Frame, picture: Frame, top: int, left: int) -> Frame:
    out = canvas.copy()
    out[top : top + picture.shape[0], left : left + picture.shape[1]] = picture
    return out


def letterbox(clip: Clip, scale: float = 0.8) -> Clip:
    """Shrink to ``scale`` and centre on a black frame of the original size (bars all round)."""
    w, h = _even(clip.width * scale), _even(clip.height * scale)
    top, left = (clip.height - h) // 2, (clip.width - w) // 2
    black = np.zeros((clip.height, clip.width, 3), dtype=np.uint8)
    return _per_frame(clip, lambda f: _place(black, _resize(f, w, h), top, left))


def pillarbox(clip: Clip) -> Clip:
    """Centre 4:3 cut of the picture at 90 % height between black side bars (same frame size)."""
    cut_w = min(clip.width, round(clip.height * 4 / 3))
    left_cut = (clip.width - cut_w) // 2
    w, h = _even(cut_w * 0.9), _even(clip.height * 0.9)
    top, left = (clip.height - h) // 2, (clip.width - w) // 2
    black = np.zeros((clip.height, clip.width, 3), dtype=np.uint8)
    return _per_frame(
        clip, lambda f: _place(black, _resize(f[:, left_cut : left_cut + cut_w], w, h), top, left)
    )


def picture_in_picture(clip: Clip, scale: float = 0.6) -> Clip:
    """The clip at ``scale``, off-centre, over a zoomed, blurred and darkened copy of itself."""
    cv2 = _cv2()
    w, h = _even(clip.width * scale), _even(clip.height * scale)
    top, left = round(clip.height * 0.08), round(clip.width * 0.33)

    def one(frame: Frame) -> Frame:
        zoom = _zoom_frame(frame, 1.25)
        back = cv2.GaussianBlur(zoom, (0, 0), 6.0)
        back = (back.astype(np.float32) * 0.6).astype(np.uint8)
        return _place(back, _resize(frame, w, h), top, left)

    return _per_frame(clip, one)


def screen_capture(clip: Clip) -> Clip:
    """A phone filming / screen-recording the clip: 90 % size in a grey UI, slight blur,
    gamma 1.1, sensor noise (sigma 2 levels, fixed seed), then H.264 CRF 28."""
    from reelproof.eval.attacks import transcode

    cv2 = _cv2()
    w, h = _even(clip.width * 0.9), _even(clip.height * 0.9)
    top, left = round(clip.height * 0.06), round(clip.width * 0.04)
    grey = np.full((clip.height, clip.width, 3), 40, dtype=np.uint8)
    table = np.clip(np.rint(255.0 * (np.arange(256) / 255.0) ** 1.1), 0, 255).astype(np.uint8)
    rng = np.random.default_rng(11)

    def one(frame: Frame) -> Frame:
        shown = np.asarray(
            cv2.GaussianBlur(_place(grey, _resize(frame, w, h), top, left), (0, 0), 0.6)
        )
        noisy = table[shown].astype(np.float32) + rng.normal(0.0, 2.0, shown.shape)
        out: Frame = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        return out

    coded: Clip = transcode(_per_frame(clip, one), "libx264", 28)
    return coded


def downscale_compress_upscale(clip: Clip) -> Clip:
    """Downscale to 75 %, H.264 CRF 30 at that size, upscale back to the original size."""
    from reelproof.eval.attacks import transcode

    small = (_even(clip.width * 0.75), _even(clip.height * 0.75))
    shrunk = _per_frame(clip, lambda f: _resize(f, *small))
    coded = transcode(shrunk, "libx264", 30)
    return _per_frame(coded, lambda f: _resize(f, clip.width, clip.height))


def rotate_black(clip: Clip, degrees: float) -> Clip:
    """Turn by ``degrees`` about the centre (bilinear), black corners, same size."""
    cv2 = _cv2()
    matrix = cv2.getRotationMatrix2D((clip.width / 2.0, clip.height / 2.0), degrees, 1.0)
    size = (clip.width, clip.height)
    return _per_frame(
        clip,
        lambda f: np.asarray(
            cv2.warpAffine(f, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
        ),
    )


def shrink(clip: Clip, scale: float) -> Clip:
    """Rescale to ``scale`` and keep the new size."""
    w, h = _even(clip.width * scale), _even(clip.height * scale)
    return _per_frame(clip, lambda f: _resize(f, w, h))


def _zoom_frame(frame: Frame, factor: float) -> Frame:
    height, width = frame.shape[:2]
    big = _resize(frame, round(width * factor), round(height * factor))
    top, left = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    return np.ascontiguousarray(big[top : top + height, left : left + width])


def zoom(clip: Clip, factor: float) -> Clip:
    """Upscale by ``factor`` and centre-crop back to the original size."""
    return _per_frame(clip, lambda f: _zoom_frame(f, factor))


def squeeze(clip: Clip, aspect: float = 0.75) -> Clip:
    """Scale the width by ``aspect`` only (16:9 shown as 4:3 is 0.75); the size changes."""
    w = _even(clip.width * aspect)
    return _per_frame(clip, lambda f: _resize(f, w, clip.height))


def vertical(clip: Clip) -> Clip:
    """Cut a 9:16 window (a little right of centre) and upscale it to full height x 16/9."""
    cut_w = min(clip.width, _even(clip.height * 9 / 16))
    left = min(clip.width - cut_w, (clip.width - cut_w) // 2 + clip.width // 20)
    out_w, out_h = _even(clip.height), _even(clip.height * 16 / 9)
    return _per_frame(clip, lambda f: _resize(f[:, left : left + cut_w], out_w, out_h))


def offset_crop(clip: Clip) -> Clip:
    """Crop off 7 % at the top, 3 % at the bottom, 5 % left and 2 % right (off the tile grid)."""
    top, bottom = math.ceil(clip.height * 0.07) | 1, math.ceil(clip.height * 0.03)
    left, right = math.ceil(clip.width * 0.05) | 1, math.ceil(clip.width * 0.02)
    h = (clip.height - top - bottom) // 2 * 2
    w = (clip.width - left - right) // 2 * 2
    return clip.with_frames(np.ascontiguousarray(clip.frames[:, top : top + h, left : left + w]))


def _hflip(clip: Clip) -> Clip:
    return clip.with_frames(np.ascontiguousarray(clip.frames[:, :, ::-1]))  # as ``hflip``


REPOSTS: dict[str, tuple[Callable[[Clip], Clip], str]] = {
    "letterbox_80": (letterbox, "shrink to 80 %, black bars all round"),
    "pillarbox": (pillarbox, "centre 4:3 cut at 90 % height, black side bars"),
    "pip_60": (picture_in_picture, "60 % picture-in-picture, off-centre, over a blurred copy"),
    "screen_capture": (screen_capture, "90 % in a grey UI, blur, gamma, noise, H.264 CRF 28"),
    "down75_crf30_up": (downscale_compress_upscale, "75 % size, H.264 CRF 30, back up"),
    "rotate_1": (lambda c: rotate_black(c, 1.0), "1 degree rotation, black corners"),
    "rotate_5": (lambda c: rotate_black(c, -5.0), "-5 degree rotation, black corners"),
    "scale_0.4": (lambda c: shrink(c, 0.4), "shrink to 40 % (smaller frame)"),
    "zoom_2.5": (lambda c: zoom(c, 2.5), "upscale 2.5x, centre crop to the same size"),
    "squeeze_4:3": (squeeze, "16:9 squeezed to 4:3 (width x 0.75)"),
    "vertical_9:16": (vertical, "9:16 cut, upscaled to a vertical frame (x1.78)"),
    "hflip": (_hflip, "horizontal flip"),
    "offset_crop": (offset_crop, "crop 7/3 % top/bottom, 5/2 % left/right"),
}

REPOST_CODECS: dict[str, tuple[str, int] | None] = {
    "alone": None,
    "H.264 CRF 28": ("libx264", 28),
    "H.264 CRF 35": ("libx264", 35),
    "AV1 CRF 40": ("libsvtav1", 40),
    "VP9 CRF 40": ("libvpx-vp9", 40),
}
"""Re-encodes combined with every re-posting transform (encoder, CRF); ``None``: none."""


def repost(clip: Clip, transform: str, codec: str) -> Clip:
    """``clip`` re-posted with ``transform`` then re-encoded with ``REPOST_CODECS[codec]``."""
    from reelproof.eval.attacks import transcode

    out = REPOSTS[transform][0](clip)
    setting = REPOST_CODECS[codec]
    return out if setting is None else transcode(out, setting[0], setting[1])
