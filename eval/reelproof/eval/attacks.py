"""Attacks on clips: one signature, ``attack(clip: Clip) -> Clip``, each a pure function.

Registry in the spirit of timm's ``create_model``: ``list_attacks()``, ``create_attack(name)``,
``get_attack(name)``. Codec attacks encode and decode in memory with PyAV (one encoder thread,
default x264/x265 tuning, like a platform transcode); geometric and colour attacks use OpenCV
(imported lazily from the ``eval`` extra).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core.clip import Clip, FrameArray
from reelproof.core.registry import Registry

Attack = Callable[[Clip], Clip]

ATTACKS: Registry[Attack] = Registry("attack")  # name -> factory returning the attack


def create_attack(name: str) -> Attack:
    """The attack registered as ``name`` (a ``Clip -> Clip`` function)."""
    return ATTACKS.create(name)


def get_attack(name: str) -> Attack:
    """Alias of :func:`create_attack`."""
    return ATTACKS.create(name)


def list_attacks() -> list[str]:
    """Names of every registered attack."""
    return ATTACKS.list()


def _register(name: str, fn: Attack, doc: str) -> None:
    # The registry stores factories: the factory of an attack returns the attack function itself.
    ATTACKS.add(name, lambda: fn, doc)


def _cv2() -> Any:
    import cv2

    return cv2


# --------------------------------------------------------------------------------------------
# Codecs


def transcode(clip: Clip, codec: str = "libx264", crf: int = 23, preset: str = "medium") -> Clip:
    """Encode and decode ``clip`` in memory (yuv420p); same size, frames and rate.

    Args:
        clip: input clip.
        codec: "libx264", "libx265", "libvpx-vp9" or "libsvtav1" (AV1).
        crf: constant rate factor.
        preset: x264/x265 preset (ignored by VP9, which runs at ``deadline=good, cpu-used=4``).
    """
    import av

    frames = clip.frames
    height, width = frames.shape[1:3]
    # Pad to whole 16x16 macroblocks ourselves (edge replication), crop after decoding.
    pad_h, pad_w = -height % 16, -width % 16
    fmt = "webm" if codec == "libvpx-vp9" else "mp4"
    rate = clip.fps if clip.fps.denominator < 65536 else Fraction(25)
    # One thread everywhere: deterministic output (an attack is a pure function) and fair timing.
    if codec == "libvpx-vp9":
        options: dict[str, str] = {
            "crf": str(crf),
            "b": "0",
            "deadline": "good",
            "cpu-used": "4",
            "threads": "1",
        }
    elif codec == "libsvtav1":
        # SVT-AV1 preset 8 (a platform's speed/quality middle); lp=1: one thread. SVT_LOG=1
        # keeps its banner (a dozen lines per encode) off stderr unless the user asks for it.
        os.environ.setdefault("SVT_LOG", "1")
        options = {"crf": str(crf), "preset": "8", "svtav1-params": "lp=1"}
    elif codec == "libx265":
        options = {
            "crf": str(crf),
            "preset": preset,
            "x265-params": "log-level=error:pools=1:frame-threads=1",
        }
    else:
        options = {"crf": str(crf), "preset": preset, "threads": "1"}
    # A real temporary file, not BytesIO: decoding from a Python file object gave
    # irreproducible frames in PyAV here.
    with tempfile.TemporaryDirectory(prefix="reelproof-attack-") as tmp:
        path = os.path.join(tmp, f"clip.{fmt}")
        with av.open(path, mode="w", format=fmt) as container:
            stream: Any = container.add_stream(codec, rate=rate)
            stream.width, stream.height = width + pad_w, height + pad_h
            stream.pix_fmt = "yuv420p"
            stream.thread_count = 1
            stream.options = options
            for frame in frames:
                if pad_h or pad_w:
                    frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
                picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                for packet in stream.encode(picture):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        with av.open(path, mode="r") as decoded:
            # Copy each frame at once: PyAV may hand out views of buffers its decoder reuses.
            out = [
                np.array(f.to_ndarray(format="rgb24")[:height, :width], copy=True)
                for f in decoded.decode(video=0)
            ]
    return clip.with_frames(np.stack(out).astype(np.uint8))


def _h264(crf: int) -> Attack:
    def attack(clip: Clip) -> Clip:
        return transcode(clip, "libx264", crf)

    return attack


# --------------------------------------------------------------------------------------------
# Per-frame helpers


def _map_frames(clip: Clip, fn: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]) -> Clip:
    return clip.with_frames(np.stack([fn(f) for f in clip.frames]).astype(np.uint8))


def _to_uint8(values: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.uint8]:
    out: npt.NDArray[np.uint8] = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return out


def resize_and_back(clip: Clip, factor: float) -> Clip:
    """Downscale by ``factor`` (area filter), then upscale back (bicubic) to the original size."""
    cv2 = _cv2()
    height, width = clip.height, clip.width
    small = (max(1, round(width * factor)), max(1, round(height * factor)))

    def one(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        down = cv2.resize(frame, small, interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.resize(down, (width, height), interpolation=cv2.INTER_CUBIC))

    return _map_frames(clip, one)


def resize_to(clip: Clip, factor: float) -> Clip:
    """Rescale by ``factor`` and keep the new size (area filter down, bicubic up)."""
    cv2 = _cv2()
    size = (max(2, round(clip.width * factor / 2) * 2), max(2, round(clip.height * factor / 2) * 2))
    inter = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return _map_frames(clip, lambda f: np.asarray(cv2.resize(f, size, interpolation=inter)))


def center_crop(clip: Clip, area: float) -> Clip:
    """Keep the centred rectangle holding ``area`` of the pixels (same aspect ratio)."""
    side = math.sqrt(area)
    height, width = clip.height, clip.width
    new_h, new_w = max(1, round(height * side)), max(1, round(width * side))
    top, left = (height - new_h) // 2, (width - new_w) // 2
    return clip.with_frames(
        np.ascontiguousarray(clip.frames[:, top : top + new_h, left : left + new_w])
    )


def brightness(clip: Clip, factor: float) -> Clip:
    """Multiply every channel by ``factor`` (1.2 = +20 %)."""
    return clip.with_frames(_to_uint8(clip.frames.astype(np.float32) * np.float32(factor)))


def contrast(clip: Clip, factor: float) -> Clip:
    """Scale the distance of each pixel from the frame's mean by ``factor``."""
    frames = clip.frames.astype(np.float32)
    mean = frames.mean(axis=(1, 2, 3), keepdims=True)
    return clip.with_frames(_to_uint8((frames - mean) * np.float32(factor) + mean))


def gamma(clip: Clip, value: float) -> Clip:
    """Apply ``out = 255 * (in / 255) ** value`` through a lookup table."""
    table = _to_uint8(255.0 * (np.arange(256) / 255.0) ** value)
    return clip.with_frames(table[clip.frames])


def saturation(clip: Clip, factor: float) -> Clip:
    """Scale chroma: mix each pixel with its luma by ``factor``."""
    frames = clip.frames.astype(np.float32)
    luma = frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return clip.with_frames(_to_uint8(luma[..., None] + (frames - luma[..., None]) * factor))


def gaussian_blur(clip: Clip, sigma: float) -> Clip:
    """Gaussian blur of every frame."""
    cv2 = _cv2()
    return _map_frames(clip, lambda f: np.asarray(cv2.GaussianBlur(f, (0, 0), sigma)))


def gaussian_noise(clip: Clip, sigma: float, seed: int = 0) -> Clip:
    """Add white Gaussian noise of ``sigma`` levels (fixed seed: the attack stays pure)."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, sigma, clip.frames.shape).astype(np.float32)
    return clip.with_frames(_to_uint8(clip.frames.astype(np.float32) + noise))


def jpeg(clip: Clip, quality: int) -> Clip:
    """Re-compress every frame as a JPEG of ``quality``."""
    cv2 = _cv2()

    def one(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR))[..., ::-1]

    return _map_frames(clip, one)


def rotate(clip: Clip, degrees: float) -> Clip:
    """Rotate about the centre (bilinear, borders replicated), keeping the size."""
    cv2 = _cv2()
    matrix = cv2.getRotationMatrix2D((clip.width / 2.0, clip.height / 2.0), degrees, 1.0)
    size = (clip.width, clip.height)

    def one(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return np.asarray(
            cv2.warpAffine(
                frame, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
        )

    return _map_frames(clip, one)


def hflip(clip: Clip) -> Clip:
    """Mirror left-right."""
    return clip.with_frames(np.ascontiguousarray(clip.frames[:, :, ::-1]))


def drop_every_second(clip: Clip) -> Clip:
    """Keep frames 0, 2, 4, ... at half the frame rate."""
    frames: FrameArray = clip.frames[::2]
    return Clip(frames=np.ascontiguousarray(frames), fps=clip.fps / 2, audio=clip.audio)


def first_frames(clip: Clip, count: int) -> Clip:
    """Keep only the first ``count`` frames."""
    return clip.with_frames(np.ascontiguousarray(clip.frames[:count]))


def change_rate(clip: Clip, ratio: Fraction) -> Clip:
    """Frame-rate conversion by nearest-frame resampling (ratio 4/5: 30 -> 24 fps)."""
    count = max(1, int(clip.num_frames * ratio))
    picks = np.minimum(
        np.floor(np.arange(count) / float(ratio)).astype(np.int64), clip.num_frames - 1
    )
    return Clip(
        frames=np.ascontiguousarray(clip.frames[picks]), fps=clip.fps * ratio, audio=clip.audio
    )


def combined(clip: Clip) -> Clip:
    """Video Seal's combined attack: crop to 71 % of the area, brightness x1.5, H.264 CRF 30."""
    return transcode(brightness(center_crop(clip, 0.71), 1.5), "libx264", 30)


_ATTACKS: dict[str, tuple[Attack, str]] = {
    "identity": (lambda clip: clip, "no change"),
    "h264_crf23": (_h264(23), "H.264 (libx264 medium) CRF 23"),
    "h264_crf28": (_h264(28), "H.264 CRF 28"),
    "h264_crf35": (_h264(35), "H.264 CRF 35"),
    "h264_crf40": (_h264(40), "H.264 CRF 40"),
    "h265_crf28": (lambda c: transcode(c, "libx265", 28), "H.265 (libx265 medium) CRF 28"),
    "vp9_crf40": (lambda c: transcode(c, "libvpx-vp9", 40), "VP9 (libvpx) CRF 40"),
    "resize_0.5": (lambda c: resize_and_back(c, 0.5), "downscale to 50 % and back"),
    "resize_0.25": (lambda c: resize_and_back(c, 0.25), "downscale to 25 % and back"),
    "crop_90": (lambda c: center_crop(c, 0.9), "centre crop keeping 90 % of the area"),
    "crop_50": (lambda c: center_crop(c, 0.5), "centre crop keeping 50 % of the area"),
    "brightness_+20": (lambda c: brightness(c, 1.2), "brightness x1.2"),
    "brightness_-20": (lambda c: brightness(c, 0.8), "brightness x0.8"),
    "contrast_+20": (lambda c: contrast(c, 1.2), "contrast x1.2"),
    "contrast_-20": (lambda c: contrast(c, 0.8), "contrast x0.8"),
    "gamma_1.5": (lambda c: gamma(c, 1.5), "gamma 1.5"),
    "saturation_0.5": (lambda c: saturation(c, 0.5), "saturation x0.5"),
    "blur_1.0": (lambda c: gaussian_blur(c, 1.0), "Gaussian blur sigma 1 px"),
    "noise_5": (lambda c: gaussian_noise(c, 5.0), "Gaussian noise sigma 5 levels"),
    "jpeg_50": (lambda c: jpeg(c, 50), "per-frame JPEG quality 50"),
    "drop_every_2nd": (drop_every_second, "drop every second frame"),
    "first_8_frames": (lambda c: first_frames(c, 8), "keep only the first 8 frames"),
    "fps_30_to_24": (lambda c: change_rate(c, Fraction(4, 5)), "frame-rate conversion x4/5"),
    "combined": (combined, "crop 71 % + brightness x1.5 + H.264 CRF 30"),
    "rotate_2": (lambda c: rotate(c, 2.0), "rotation by 2 degrees"),
    "hflip": (hflip, "horizontal flip"),
}

for _name, (_fn, _doc) in _ATTACKS.items():
    _register(_name, _fn, _doc)

# The re-posting transforms (letterbox, picture-in-picture, ...) register as attacks too.
from reelproof.eval.reposts import REPOSTS  # noqa: E402  (needs the registry above)

for _name, (_fn, _doc) in REPOSTS.items():
    if _name not in _ATTACKS:
        _register(_name, _fn, _doc)
