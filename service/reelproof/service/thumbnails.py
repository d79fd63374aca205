"""Thumbnail strip for the HTML report: a few evenly spaced frames as small base64 JPEGs."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core.io import MediaLimits
from reelproof.core.results import JsonObject


@dataclass(frozen=True)
class Thumbnail:
    """One frame of the report's strip.

    Attributes:
        t: presentation time in seconds.
        jpeg_base64: the frame as a base64 JPEG.
    """

    t: float
    jpeg_base64: str

    def to_json(self) -> JsonObject:
        return {"t": self.t, "jpeg_base64": self.jpeg_base64}

    @classmethod
    def from_json(cls, body: JsonObject) -> Thumbnail:
        t, jpeg = body.get("t"), body.get("jpeg_base64")
        if not isinstance(t, int | float) or not isinstance(jpeg, str):
            raise ValueError("a thumbnail needs a time and a base64 JPEG")
        return cls(float(t), jpeg)


def make_thumbnails(
    path: Path, count: int, limits: MediaLimits, width: int = 192
) -> list[Thumbnail]:
    """Decode ``count`` evenly spaced frames and encode them as JPEG.

    Args:
        path: the video.
        count: number of thumbnails.
        limits: ``MediaLimits`` for the decoder.
        width: thumbnail width in pixels (height keeps the aspect ratio).

    Returns:
        The thumbnails in time order.
    """
    from reelproof.core.io import decode_still, iter_chunks, probe, sniff_still_file

    if sniff_still_file(path) is not None:
        return [_thumbnail(decode_still(path, limits, apply_rotation=True)[0], 0.0, width)]
    info = probe(path, limits)
    total = max(1, info.frames)
    wanted = sorted({round(i) for i in np.linspace(0, total - 1, num=max(1, count))})
    picked: list[Thumbnail] = []
    want_iter = iter(wanted)
    target = next(want_iter, None)
    for chunk in iter_chunks(path, chunk_frames=16, limits=limits):
        frames = chunk.frames  # (n, H, W, 3) uint8 RGB
        for offset in range(frames.shape[0]):
            index = chunk.start_index + offset
            if target is None:
                break
            if index < target:
                continue
            picked.append(_thumbnail(frames[offset], float(chunk.timestamps[offset]), width))
            target = next(want_iter, None)
        if target is None:
            break
    return picked


def _thumbnail(frame: npt.NDArray[np.uint8], t: float, width: int) -> Thumbnail:
    """One (H, W, 3) uint8 RGB frame as a ``width``-pixel JPEG thumbnail."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(frame))
    height = max(1, round(image.height * width / max(1, image.width)))
    image = image.resize((width, height), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=70)
    return Thumbnail(round(t, 3), base64.b64encode(buf.getvalue()).decode("ascii"))
