"""rp-ss on still images (JPEG, PNG, WebP, HEIC/HEIF, AVIF): mark one, read one.

A still is one (1, H, W, 3) frame to the watermark: embedding and detection are the video
ones. Two things differ. Stills are far larger than video frames (phones shoot 48 MP, the
limits admit 100 MP), so detection reads a bounded copy: at most half-size shrinking, then a
centre crop of at most a 4K frame's pixels (``analysis_scale``, ``analysis_copy``); the choice
depends on the size alone, so the p-value is unchanged. And the marked picture is written back
with Pillow in the input's format where Pillow can write it (JPEG, PNG, WebP, AVIF), else PNG.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from reelproof.core.clip import FrameArray
from reelproof.core.errors import InputError
from reelproof.core.results import Result
from reelproof.watermark.base import Watermarker, check_frames
from reelproof.watermark.keys import Keyring
from reelproof.watermark.reading import WatermarkReading
from reelproof.watermark.rpss import RpSsConfig, StreamDetector

if TYPE_CHECKING:  # Pillow and PyAV are imported only when a still is read
    from reelproof.core.io import MediaLimits
    from reelproof.core.payload import Payload

ANALYSIS_PIXELS = 4096 * 2160
"""Largest frame detection analyses as it is: the largest video frame the default limits admit.
Larger pictures (stills up to 100 MP) are analysed as a shrunk and cropped copy."""

MIN_ANALYSIS_SCALE = 0.5
"""A picture is never analysed below half its size: a mark embedded at the picture's own size
then sits at scale 0.5-1 of the copy, inside the 0.4-2.5x the synchronisation searches."""

# Pillow's writer for each still format ReelProof reads (HEIF has none: written as PNG).
_WRITERS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
_SUFFIXES = {
    "jpeg": (".jpg", ".jpeg", ".jpe"),
    "png": (".png",),
    "webp": (".webp",),
    "avif": (".avif",),
}
_LOSSY = frozenset({"jpeg", "webp", "avif"})
_ORIENTATION_TAG = 0x0112


def analysis_scale(height: int, width: int) -> float:
    """The factor a ``height`` x ``width`` picture is shrunk by before detection (1: as it is).

    It depends on the size alone, never on the content or a key, so the p-value's correction
    is the same as for any other frame.
    """
    pixels = height * width
    if pixels <= ANALYSIS_PIXELS:
        return 1.0
    return max(MIN_ANALYSIS_SCALE, math.sqrt(ANALYSIS_PIXELS / pixels))


def analysis_copy(frames: FrameArray, factor: float) -> FrameArray:
    """``frames`` shrunk by ``factor`` (area averages), then centre-cropped to at most
    ``ANALYSIS_PIXELS`` at the same aspect; (T, h, w, 3) uint8.

    The mark repeats every tile and every offset is searched, so the crop keeps every
    hypothesis and only drops evidence, of which a picture this large has plenty. The crop is
    taken first, so only the kept pixels are resampled.
    """
    import cv2  # deferred: importing the package stays light

    height, width = frames.shape[1:3]
    kept = min(1.0, math.sqrt(ANALYSIS_PIXELS / (height * width * factor * factor)))
    if factor == 1.0 and kept == 1.0:
        return frames
    crop_h, crop_w = max(1, int(height * kept)), max(1, int(width * kept))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    if factor == 1.0:
        return np.ascontiguousarray(frames[:, top : top + crop_h, left : left + crop_w])
    size = (max(1, round(crop_w * factor)), max(1, round(crop_h * factor)))
    out = np.empty((frames.shape[0], size[1], size[0], 3), dtype=np.uint8)
    for index, frame in enumerate(frames):
        window = frame[top : top + crop_h, left : left + crop_w]
        out[index] = cv2.resize(window, size, interpolation=cv2.INTER_AREA)
    return out


def detect_frames(
    frames: FrameArray,
    keyring: Keyring | None = None,
    config: RpSsConfig | None = None,
    *,
    shrunk: float = 1.0,
) -> WatermarkReading:
    """Look for the rp-ss mark of every key in ``keyring`` in decoded frames (a still image is
    one (1, H, W, 3) uint8 frame). The p-value is corrected for the number of keys.

    Frames over ``ANALYSIS_PIXELS`` (large stills) are read from a shrunk, centre-cropped copy
    (``analysis_scale``), which bounds the cost whatever the size: a 100-MP still costs about
    what a 4K video frame does. The reported scale is relative to the picture checked.

    Args:
        frames: (T, H, W, 3) uint8 RGB.
        keyring: keys to try; ``Keyring.default()`` when None.
        config: rp-ss settings (defaults when None).
        shrunk: the factor ``frames`` were already shrunk by from the picture being checked
            (``decode_still(..., reduce=2)``: about 0.5); the total never goes below
            ``MIN_ANALYSIS_SCALE``.
    """
    check_frames(frames)
    ring = keyring if keyring is not None else Keyring.default()
    height, width = frames.shape[1:3]
    factor = analysis_scale(round(height / shrunk), round(width / shrunk)) / shrunk
    if factor >= 0.99:  # shrunk enough already (a decoder's rounding is not worth a resample)
        factor = 1.0
    analysed = analysis_copy(frames, factor)
    detector = StreamDetector(ring.keys, config or RpSsConfig(), len(analysed))
    detector.update(analysed)
    reading = detector.reading()
    overall = factor * shrunk
    if overall == 1.0 or not reading.evaluable:
        return reading
    return dataclasses.replace(reading, scale=reading.scale / overall)


def still_reduction(height: int, width: int) -> int:
    """Integer factor a still of this size is decoded smaller by for detection (1 or 2): 2 when
    detection would analyse it at half size anyway (from 4x ``ANALYSIS_PIXELS``, about 35 MP)."""
    return 2 if analysis_scale(height, width) <= MIN_ANALYSIS_SCALE else 1


def detect_still(
    path: str | os.PathLike[str],
    keyring: Keyring | None = None,
    config: RpSsConfig | None = None,
    limits: MediaLimits | None = None,
) -> WatermarkReading:
    """Look for the rp-ss mark in a still image (JPEG, PNG, WebP, HEIC/HEIF, AVIF).

    The header is probed (format from the bytes, ``MediaLimits.max_still_pixels``) before
    anything is decoded; pictures from about 35 MP are decoded at half size (JPEG by DCT
    scaling, HEIF by FFmpeg's scaler), so even a 100-MP still is read in about a second of CPU
    and a few hundred MB (a 100-MP PNG must be inflated whole: several seconds, ~550 MB).
    Pixels are read as stored (no EXIF rotation), where ``embed_still`` put the mark.

    Raises:
        UnsupportedMediaError, LimitExceededError, MediaDecodeError, InputError: as
            ``reelproof.core.io.decode_still``.
    """
    from reelproof.core.io import DEFAULT_LIMITS, decode_still, probe_still

    bounds = limits if limits is not None else DEFAULT_LIMITS
    info = probe_still(path, bounds)
    reduce = still_reduction(info.height, info.width)
    frames = decode_still(path, bounds, reduce=reduce)
    # ceil(H / reduce) rows came back: the exact factor, not 1 / reduce, keeps the scale right.
    return detect_frames(frames, keyring, config, shrunk=frames.shape[1] / info.height)


@dataclass(frozen=True)
class MarkedStill(Result):
    """What ``embed_still`` wrote.

    Attributes:
        output: the file written (its suffix follows the format actually written).
        format: ``jpeg``, ``png``, ``webp`` or ``avif``.
        source_format: the input's format (``heif`` inputs are written as PNG).
        width, height: picture size in pixels.
        note: why the format or the file name differs from what was asked, else None.
    """

    schema: ClassVar[str] = "marked_still"

    output: str
    format: str
    source_format: str
    width: int
    height: int
    note: str | None = None


def output_format(source_format: str) -> str:
    """The format a marked still is written in: the input's where Pillow writes it, else PNG."""
    from PIL import features

    if source_format == "avif" and not features.check("avif"):
        return "png"
    return source_format if source_format in _WRITERS else "png"


def embed_still(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    payload: Payload,
    watermarker: Watermarker,
    quality: int = 95,
    limits: MediaLimits | None = None,
) -> MarkedStill:
    """Mark a still image and write it with Pillow (replaced atomically; nothing half-written).

    The format is the input's where Pillow can write it (JPEG, PNG, WebP, AVIF), else PNG
    (HEIC/HEIF); when ``out``'s suffix does not name that format it is replaced, and the note
    says so. The ICC profile, the EXIF orientation (pixels are marked as stored, so the picture
    still displays upright) and transparency are kept; other metadata, Content Credentials
    included, are not copied (the pixels changed, so credentials would no longer match).
    HEIF pictures are turned upright first (their rotation is not carried into PNG).

    Args:
        path: the still to mark.
        out: the file to write.
        payload: the 64-bit id.
        watermarker: an rp-ss watermarker (key and strength set).
        quality: encoder quality of lossy formats (JPEG, WebP, AVIF), 1-100.
        limits: input limits (defaults when None).

    Raises:
        UnsupportedMediaError, LimitExceededError, MediaDecodeError: the input is not a usable
            still; InputError: bad quality, output folder missing, or a picture under 64 px.
    """
    from reelproof.core.io import DEFAULT_LIMITS, decode_still, probe_still

    if not 1 <= quality <= 100:
        raise InputError(f"quality must be within 1-100, got {quality}")
    bounds = limits if limits is not None else DEFAULT_LIMITS
    info = probe_still(path, bounds)
    fmt = output_format(info.format)
    target, note = _output_path(Path(out), info.format, fmt)
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder", hint="create it first")
    upright = info.format == "heif"
    frames = decode_still(path, bounds, apply_rotation=upright)
    marked = watermarker.embed(np.ascontiguousarray(frames), payload)[0]  # (H, W, 3) uint8
    extras = _carried_over(Path(path), info.format, marked.shape[:2])
    _write_atomically(marked, target, fmt, quality, extras)
    return MarkedStill(
        output=os.fspath(target),
        format=fmt,
        source_format=info.format,
        width=int(marked.shape[1]),
        height=int(marked.shape[0]),
        note=note,
    )


def _output_path(out: Path, source_format: str, fmt: str) -> tuple[Path, str | None]:
    """``out`` with a suffix that names ``fmt``, and a note when anything changed."""
    notes = []
    if fmt != source_format:
        notes.append(f"Pillow cannot write {source_format.upper()}: written as {fmt.upper()}")
    if out.suffix.lower() not in _SUFFIXES[fmt]:
        renamed = out.with_suffix(_SUFFIXES[fmt][0])
        notes.append(f"{out.name} renamed {renamed.name} to match its {fmt.upper()} content")
        out = renamed
    return out, "; ".join(notes) or None


def _carried_over(path: Path, fmt: str, shape: tuple[int, ...]) -> dict[str, Any]:
    """ICC profile, EXIF orientation and alpha of a Pillow-read source (as save options)."""
    if fmt == "heif":
        return {}
    from PIL import Image

    with Image.open(path, formats=[_WRITERS[fmt]]) as image:
        extras: dict[str, Any] = {}
        icc = image.info.get("icc_profile")
        if icc:
            extras["icc_profile"] = icc
        orientation = image.getexif().get(_ORIENTATION_TAG)
        if orientation and orientation != 1:
            exif = Image.Exif()
            exif[_ORIENTATION_TAG] = orientation
            extras["exif"] = exif.tobytes()
        if image.has_transparency_data and tuple(image.size[::-1]) == tuple(shape):
            alpha: npt.NDArray[np.uint8] = np.asarray(image.convert("RGBA").getchannel("A"))
            extras["alpha"] = alpha
    return extras


def _write_atomically(
    picture: npt.NDArray[np.uint8], target: Path, fmt: str, quality: int, extras: dict[str, Any]
) -> None:
    """Encode to a hidden file beside ``target``, then rename it over ``target``."""
    from PIL import Image

    alpha = extras.pop("alpha", None)
    image = Image.fromarray(picture)  # (H, W, 3) uint8: RGB
    if alpha is not None and fmt != "jpeg":
        image.putalpha(Image.fromarray(alpha))  # (H, W) uint8: L
    options = dict(extras)
    if fmt in _LOSSY:
        options["quality"] = quality
    else:  # zlib level 3: a third of the default level's time on a 50-MP photo, ~10 % larger
        options["compress_level"] = 3
    handle, name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent
    )
    os.close(handle)
    temp = Path(name)
    try:
        image.save(temp, format=_WRITERS[fmt], **options)
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(temp, 0o666 & ~mask)
        os.replace(temp, target)
    except OSError as err:
        raise InputError(
            f"{target}: cannot write the marked picture: {err}",
            hint="check the folder is writable and has space",
        ) from None
    finally:
        temp.unlink(missing_ok=True)
