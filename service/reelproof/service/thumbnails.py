"""Thumbnail strip for the HTML report: a few evenly spaced frames as small base64 JPEGs."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    from PIL import Image

    from reelproof.core.io import iter_chunks, probe

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
            image = Image.fromarray(np.ascontiguousarray(frames[offset]))
            height = max(1, round(image.height * width / max(1, image.width)))
            image = image.resize((width, height), Image.Resampling.BILINEAR)
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=70)
            picked.append(
                Thumbnail(
                    t=round(float(chunk.timestamps[offset]), 3),
                    jpeg_base64=base64.b64encode(buf.getvalue()).decode("ascii"),
                )
            )
            target = next(want_iter, None)
        if target is None:
            break
    return picked
