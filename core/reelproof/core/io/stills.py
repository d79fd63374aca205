"""Still images (JPEG, PNG, WebP, HEIC/HEIF, AVIF): sniff, probe the header, decode one frame.

Most Content Credentials in the wild are on stills (cameras, phones, image generators), so the
verifier reads them beside video. The same rules as for video hold:

- The format comes from the file's bytes, never its name (a ``.jpg`` holding a PNG is a PNG; a
  HEIC is an ISO-BMFF file like an MP4 and is told apart by its ``ftyp`` brands).
- ``probe_still`` reads the header only and checks ``MediaLimits`` (file size, pixels) before
  anything is decoded; ``decode_still`` probes first.
- Real decoders: Pillow for JPEG, PNG, WebP and AVIF (Pillow >= 11.3 ships libavif); PyAV's FFmpeg
  for HEIC/HEIF (Pillow has no HEVC decoder; FFmpeg >= 7.1 assembles HEIF tile grids).
- Every failure is a ``ReelProofError`` whose message says what to do.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from reelproof.core.errors import LimitExceededError, MediaDecodeError, UnsupportedMediaError
from reelproof.core.io._safety import av_errors, resolve_input_path
from reelproof.core.io.boxes import check_structure
from reelproof.core.io.limits import DEFAULT_LIMITS, MediaLimits
from reelproof.core.results import Result

StillFormat = Literal["jpeg", "png", "webp", "heif", "avif"]

STILL_FORMATS: tuple[StillFormat, ...] = ("jpeg", "png", "webp", "heif", "avif")
"""Still formats ReelProof reads, by the label ``sniff_still`` reports."""

STILL_MIME: dict[StillFormat, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heif": "image/heic",
    "avif": "image/avif",
}
"""MIME type of each still format (what C2PA readers and HTTP clients expect)."""

# ISO-BMFF major/compatible brands of still images (ISO/IEC 23008-12 and the AV1 image format).
# Image *sequences* (msf1, hevc, avis) are read as their first picture.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_HEAD_BYTES = 64

_ORIENTATION_TAG = 0x0112  # EXIF Orientation
_ROTATION_FOR_ORIENTATION = {3: 180, 6: 270, 8: 90}  # counter-clockwise, as MediaInfo.rotation


@dataclass(frozen=True)
class StillInfo(Result):
    """What ``probe_still`` learned from an image's header (nothing decoded).

    Attributes:
        path: the file, as given.
        format: ``jpeg``, ``png``, ``webp``, ``heif`` or ``avif`` (from the bytes).
        mime: the format's MIME type.
        width: width in pixels as stored (before any EXIF rotation).
        height: height in pixels as stored.
        rotation: counter-clockwise display rotation from the EXIF orientation, one of
            0/90/180/270 (mirrored orientations report their rotation part); ``None`` for
            HEIF, whose rotation FFmpeg exposes only on the decoded picture. Decoded frames
            are NOT rotated unless asked; this says how a viewer would turn them.
        size_bytes: file size.
    """

    schema: ClassVar[str] = "still_info"

    path: str
    format: StillFormat
    mime: str
    width: int
    height: int
    rotation: int | None
    size_bytes: int


def sniff_still(head: bytes) -> StillFormat | None:
    """The still format of a file from its first bytes, or ``None`` when it is not a still.

    Args:
        head: at least the first 32 bytes of the file (64 are read by the helpers here).

    Returns:
        A label from ``STILL_FORMATS``; ``None`` for video containers and anything else.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 16 and head[4:8] == b"ftyp":
        return _bmff_still(head)
    return None


def _bmff_still(head: bytes) -> StillFormat | None:
    """HEIF/AVIF from an ``ftyp`` box's major and compatible brands; ``None`` for video."""
    size = int.from_bytes(head[0:4], "big")
    end = min(max(size, 16), len(head))
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    brands = {major} | compatible
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return "avif"
    if major in _HEIF_BRANDS:
        return "heif"
    return None


def sniff_still_file(path: str | os.PathLike[str]) -> StillFormat | None:
    """``sniff_still`` on a file's first bytes (``None`` when it is not a still or unreadable).

    Only a regular file is opened: reading a FIFO or a device would block or never end.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with Path(path).open("rb") as handle:
            return sniff_still(handle.read(_HEAD_BYTES))
    except OSError:
        return None


def probe_still(path: str | os.PathLike[str], limits: MediaLimits = DEFAULT_LIMITS) -> StillInfo:
    """Read a still's format, size and orientation from its header and check ``limits``.

    Nothing is decoded: Pillow and FFmpeg parse the header only, and the pixel count is checked
    against ``limits.max_still_pixels`` here, so a decompression bomb is refused before a byte
    of image data is inflated.

    Args:
        path: local image file.
        limits: ``max_file_bytes`` and ``max_still_pixels`` apply.

    Returns:
        The image's ``StillInfo``.

    Raises:
        UnsupportedMediaError: not one of the still formats (a video, a GIF, a text file...).
        LimitExceededError: the file or the picture is over a limit, or the file has too many
            segments or boxes.
        MediaDecodeError: the header is corrupt or truncated.
        InputError: the path is missing, a folder or unreadable.
    """
    resolved = resolve_input_path(path, limits)
    fmt = _require_still(resolved)
    check_structure(resolved)  # segment and box counts, before Pillow or FFmpeg parse them
    rotation: int | None
    if fmt == "heif":
        width, height = _heif_header(resolved, limits)
        rotation = None
    else:
        width, height, rotation = _pillow_header(resolved, fmt)
    _check_pixels(resolved.name, width, height, limits)
    return StillInfo(
        path=os.fspath(path),
        format=fmt,
        mime=STILL_MIME[fmt],
        width=width,
        height=height,
        rotation=rotation,
        size_bytes=resolved.stat().st_size,
    )


def decode_still(
    path: str | os.PathLike[str],
    limits: MediaLimits = DEFAULT_LIMITS,
    *,
    apply_rotation: bool = False,
    reduce: int = 1,
) -> np.ndarray:
    """Decode a still to one RGB frame, after ``probe_still`` has checked the limits.

    Args:
        path: local image file.
        limits: bounds checked before decoding.
        apply_rotation: turn the picture upright by its EXIF orientation (for thumbnails);
            off by default, so pixels come out as stored, like video frames (a watermark is
            read where it was embedded).
        reduce: 1 (full size) or an integer factor the picture is shrunk by in each direction
            (box average), cheaply where the format allows: JPEG is decoded at the smaller
            size by DCT scaling, HEIF shrunk by FFmpeg's scaler as it converts to RGB; PNG,
            WebP and AVIF are decoded whole, then shrunk. A 100-MP JPEG at ``reduce=2`` needs
            about a fifth of the memory of a full decode.

    Returns:
        A read-only (1, H', W', 3) uint8 RGB array, H' = ceil(H / reduce) (alpha is dropped,
        CMYK and palettes converted, 16-bit samples reduced to 8).

    Raises:
        The errors of ``probe_still``; MediaDecodeError when the image data is corrupt.
    """
    if reduce < 1:
        raise ValueError(f"reduce must be a positive integer, got {reduce}")
    info = probe_still(path, limits)
    resolved = resolve_input_path(path, limits)
    if info.format == "heif":
        rgb = _decode_heif(resolved, limits, apply_rotation, reduce)
    else:
        rgb = _decode_pillow(resolved, apply_rotation, reduce)
    if rgb.shape[0] * rgb.shape[1] * reduce * reduce > limits.max_still_pixels:  # a header lied
        _check_pixels(resolved.name, rgb.shape[1] * reduce, rgb.shape[0] * reduce, limits)
    frames = rgb[np.newaxis]  # (1, H, W, 3) uint8
    frames.setflags(write=False)
    return frames


def _require_still(path: Path) -> StillFormat:
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    fmt = sniff_still(head)
    if fmt is None:
        raise UnsupportedMediaError(
            f"{path.name}: not a still image ReelProof reads",
            hint="accepted stills: JPEG, PNG, WebP, HEIC/HEIF, AVIF",
        )
    return fmt


def _check_pixels(name: str, width: int, height: int, limits: MediaLimits) -> None:
    if width <= 0 or height <= 0:
        raise MediaDecodeError(
            f"{name}: the image header gives no usable size (it is corrupt or truncated)",
            hint="re-export the image",
        )
    if width * height > limits.max_still_pixels:
        raise LimitExceededError(
            f"{name}: {width}x{height} ({width * height:,} pixels) is over the still-image "
            f"limit of {limits.max_still_pixels:,} pixels",
            hint="downscale the image or raise MediaLimits.max_still_pixels",
        )


@contextmanager
def _pillow_errors(path: Path, action: str) -> Iterator[None]:
    """Turn Pillow's exceptions into ``MediaDecodeError`` (Pillow raises plain OSError etc.)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Our own pixel limit is checked before decoding; Pillow's bomb warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except Image.DecompressionBombError as err:
        # Pillow's own, looser bomb check fired while reading the header.
        raise LimitExceededError(
            f"{path.name}: the header claims more pixels than any still ReelProof reads ({err})",
            hint="downscale the image or raise MediaLimits.max_still_pixels",
        ) from None
    except UnidentifiedImageError as err:
        raise MediaDecodeError(
            f"{path.name}: cannot {action}: {err}", hint="re-export the image"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as err:
        raise MediaDecodeError(
            f"{path.name}: cannot {action}: {err} (the image is corrupt or truncated)",
            hint="re-export or re-download the image",
        ) from None


def _open_pillow(path: Path, fmt: StillFormat) -> Any:
    from PIL import Image

    names = {"jpeg": ["JPEG"], "png": ["PNG"], "webp": ["WEBP"], "avif": ["AVIF"]}[fmt]
    # Restricting Pillow to the sniffed format keeps its other parsers out of reach.
    return Image.open(path, formats=names)


def _pillow_header(path: Path, fmt: StillFormat) -> tuple[int, int, int]:
    with _pillow_errors(path, "read the header of"), _open_pillow(path, fmt) as image:
        width, height = image.size
        orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    return int(width), int(height), _ROTATION_FOR_ORIENTATION.get(_orientation(orientation), 0)


def _orientation(value: object) -> int:
    """EXIF orientation 1-8; mirrored ones (2, 4, 5, 7) reduced to their rotation."""
    mirrored = {2: 1, 4: 3, 5: 6, 7: 8}
    number = value if isinstance(value, int) else 1
    return mirrored.get(number, number)


def _decode_pillow(path: Path, apply_rotation: bool, reduce: int = 1) -> np.ndarray:
    from PIL import ImageOps

    fmt = _require_still(path)
    with _pillow_errors(path, "decode"), _open_pillow(path, fmt) as image:
        target = (-(-image.size[0] // reduce), -(-image.size[1] // reduce))
        if reduce > 1:
            # JPEG only: the decoder scales its DCT blocks (1/2, 1/4, 1/8), never below target.
            image.draft("RGB", target)
        image.load()
        upright = ImageOps.exif_transpose(image) if apply_rotation else image
        if apply_rotation and upright.size != image.size:
            target = target[::-1]
        small = _shrunk(upright, target, reduce)
        if small is not upright:  # free the full-size picture before the copies below
            upright.close()
            image.close()
        rgb = np.asarray(small if small.mode == "RGB" else small.convert("RGB"), dtype=np.uint8)
    return rgb  # (H, W, 3) uint8


_BOX_MODES = frozenset({"L", "LA", "RGB", "RGBA", "RGBX", "CMYK"})


def _shrunk(image: Any, size: tuple[int, int], factor: int) -> Any:
    """``image`` at ``size`` by box averages (unchanged when it is that size already)."""
    from PIL import Image

    if image.size == size:
        return image
    if image.mode not in _BOX_MODES:  # palettes and 16-bit samples only resize nearest
        image = image.convert("RGB")
    if (-(-image.size[0] // factor), -(-image.size[1] // factor)) == size:
        return image.reduce(factor)  # one pass, no intermediate image (``resize`` makes one)
    return image.resize(size, Image.Resampling.BOX)


def _open_heif(path: Path, limits: MediaLimits) -> Any:
    import av

    options = {"protocol_whitelist": "file", "max_pixels": str(limits.max_still_pixels)}
    with av_errors(path, "open"):
        return av.open(
            "file:" + str(path),
            mode="r",
            format="mov",  # FFmpeg's ISO-BMFF demuxer reads HEIF items and tile grids
            options=options,
            timeout=(limits.open_timeout_s, limits.open_timeout_s),
            metadata_errors="replace",
        )


def _heif_stream(container: Any, name: str) -> Any:
    streams = list(container.streams.video)
    if not streams:
        raise MediaDecodeError(f"{name}: the HEIF file holds no picture", hint="re-export it")
    # The primary item is the default stream; thumbnails and depth maps are further streams.
    return next((s for s in streams if s.disposition & 1), streams[0])  # 1: AV_DISPOSITION_DEFAULT


def _heif_header(path: Path, limits: MediaLimits) -> tuple[int, int]:
    container = _open_heif(path, limits)
    try:
        with av_errors(path, "read the header of"):
            stream = _heif_stream(container, path.name)
            width, height = int(stream.codec_context.width), int(stream.codec_context.height)
    finally:
        container.close()
    return width, height


def _decode_heif(
    path: Path, limits: MediaLimits, apply_rotation: bool, reduce: int = 1
) -> np.ndarray:
    container = _open_heif(path, limits)
    try:
        with av_errors(path, "decode"):
            stream = _heif_stream(container, path.name)
            frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaDecodeError(f"{path.name}: the HEIF picture decoded to nothing")
            if reduce > 1:  # FFmpeg's scaler shrinks while it converts: no full-size RGB copy
                frame = frame.reformat(
                    width=-(-frame.width // reduce),
                    height=-(-frame.height // reduce),
                    format="rgb24",
                    interpolation="AREA",
                )
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)  # (H, W, 3)
            # FFmpeg turns the HEIF ``irot`` property into the frame's display rotation.
            turn = int(frame.rotation or 0) % 360 if apply_rotation else 0
    finally:
        container.close()
    return np.ascontiguousarray(np.rot90(rgb, k=turn // 90)) if turn else rgb
