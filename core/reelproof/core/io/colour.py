"""Colour matrices and ranges: what a decoded frame means, and what ReelProof writes.

Y'CbCr -> RGB needs the matrix (BT.601 or BT.709 ...) and the range (limited 16-235 or full
0-255). Getting either wrong shifts hues and crushes or lifts blacks; a watermark embedded in
wrongly converted RGB is then measured against the wrong pixels. Rules used here:

- Decode: trust the stream's tags; for untagged streams follow what players do (mpv, browsers):
  BT.709 from 720 lines or 1280 columns up, BT.601 below; limited range unless the pixel format
  is a full-range ``yuvj*`` one. RGB out is always full range.
- Encode: always BT.709 matrix, primaries and transfer, limited range, and tag the stream so.
"""

from __future__ import annotations

from dataclasses import dataclass

from av.video.reformatter import ColorRange, Colorspace

# FFmpeg AVColorSpace values (libavutil/pixfmt.h) -> swscale matrix.
_AVCOL_SPC_TO_SWS: dict[int, Colorspace] = {
    1: Colorspace.ITU709,  # BT709
    4: Colorspace.FCC,
    5: Colorspace.ITU601,  # BT470BG (PAL BT.601)
    6: Colorspace.ITU601,  # SMPTE170M (NTSC BT.601)
    7: Colorspace.SMPTE240M,
    9: Colorspace.BT2020,  # BT2020_NCL
    10: Colorspace.BT2020,  # BT2020_CL (approximated by the NCL matrix)
}

AVCOL_SPC_NAMES: dict[int, str] = {
    0: "rgb",
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    8: "ycgco",
    9: "bt2020nc",
    10: "bt2020c",
}

AVCOL_RANGE_NAMES: dict[int, str] = {1: "limited", 2: "full"}

#: AVCOL_* value 1 is BT.709 for the matrix, primaries and transfer alike.
AVCOL_BT709 = 1
AVCOL_RANGE_MPEG = 1


@dataclass(frozen=True)
class SourceColour:
    """How to read one stream's Y'CbCr as RGB.

    Attributes:
        matrix: swscale matrix to decode with.
        color_range: swscale range of the source (MPEG = limited, JPEG = full).
        guessed: True when the stream carried no tags and a heuristic chose.
    """

    matrix: Colorspace
    color_range: ColorRange
    guessed: bool


def source_colour(
    colorspace: int, color_range: int, pix_fmt: str | None, width: int, height: int
) -> SourceColour:
    """Pick the matrix and range for decoding a stream (tags first, then the player heuristic).

    Args:
        colorspace: FFmpeg AVColorSpace of the stream or frame (2 = unspecified).
        color_range: FFmpeg AVColorRange (0 = unspecified, 1 = limited, 2 = full).
        pix_fmt: decoder pixel format name (``yuvj*`` formats are full range).
        width: coded width in pixels.
        height: coded height in pixels.
    """
    guessed = False
    matrix = _AVCOL_SPC_TO_SWS.get(colorspace)
    if matrix is None:
        guessed = True
        matrix = Colorspace.ITU709 if height >= 720 or width >= 1280 else Colorspace.ITU601
    if color_range == 2 or (color_range == 0 and (pix_fmt or "").startswith("yuvj")):
        rng = ColorRange.JPEG
    else:
        guessed = guessed or color_range == 0
        rng = ColorRange.MPEG
    return SourceColour(matrix=matrix, color_range=rng, guessed=guessed)


def colour_names(colorspace: int, color_range: int) -> tuple[str | None, str | None]:
    """Readable (matrix, range) names for ``MediaInfo``; None where the stream has no tag."""
    return AVCOL_SPC_NAMES.get(colorspace), AVCOL_RANGE_NAMES.get(color_range)
