"""The Watermarker interface and the registry of methods."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator

import numpy as np

from reelproof.core.clip import FrameArray
from reelproof.core.errors import InputError
from reelproof.core.payload import Payload
from reelproof.core.registry import Registry
from reelproof.watermark.keys import WatermarkKey
from reelproof.watermark.reading import WatermarkReading

FrameSource = FrameArray | Iterable[FrameArray]
"""Either a (T, H, W, 3) uint8 array or an iterable of (n, H, W, 3) uint8 chunks."""


class Watermarker(abc.ABC):
    """A keyed video watermark: ``embed`` frames with a payload, ``detect`` it in a stream.

    Attributes:
        name: registry name of the method.
        key: the watermark key (the public demo key when none is given).
    """

    name: str = "abstract"

    def __init__(self, key: WatermarkKey | None = None) -> None:
        self.key = key if key is not None else WatermarkKey.demo()

    @property
    def min_side(self) -> int:
        """Smallest frame side (pixels) this method can mark and read back; callers such as the
        generator refuse smaller frames before spending compute on them."""
        return 1

    @abc.abstractmethod
    def embed(self, frames: FrameArray, payload: Payload) -> FrameArray:
        """Mark (T, H, W, 3) uint8 RGB frames; returns new (T, H, W, 3) uint8 frames."""

    def embed_stream(self, chunks: Iterable[FrameArray], payload: Payload) -> Iterator[FrameArray]:
        """Mark a stream of (n, H, W, 3) uint8 chunks, yielding marked chunks of the same shapes."""
        for chunk in chunks:
            yield self.embed(chunk, payload)

    @abc.abstractmethod
    def detect(self, frames: FrameSource, max_frames: int | None = None) -> WatermarkReading:
        """Look for this key's mark in frames (array or chunk iterable), using at most max_frames."""


def as_chunks(frames: FrameSource, chunk: int = 16) -> Iterator[FrameArray]:
    """Normalise an array or an iterable of arrays to (n, H, W, 3) uint8 chunks."""
    if isinstance(frames, np.ndarray):
        array = frames[None] if frames.ndim == 3 else frames
        check_frames(array)
        for start in range(0, array.shape[0], chunk):
            yield array[start : start + chunk]
        return
    for part in frames:
        array = np.asarray(getattr(part, "frames", part))
        array = array[None] if array.ndim == 3 else array
        check_frames(array)
        yield array


def check_frames(frames: FrameArray) -> None:
    """Raise ``InputError`` unless frames are (T, H, W, 3) uint8."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InputError(
            f"frames must be a (T, H, W, 3) uint8 RGB array, got {frames.shape} {frames.dtype}",
            hint="decode the video with reelproof.core.io.read_clip or iter_chunks",
        )


WATERMARKERS: Registry[Watermarker] = Registry("watermarker")


def create_watermarker(
    name: str = "rp-ss", key: WatermarkKey | None = None, **config: object
) -> Watermarker:
    """Build a registered watermark method (``list_watermarkers()`` names them).

    Args:
        name: method name, "rp-ss" (ReelProof spread spectrum) by default.
        key: watermark key; the public demo key when None.
        **config: method options (e.g. ``strength=1.5`` for rp-ss).
    """
    return WATERMARKERS.create(name, key=key, **config)


def list_watermarkers() -> list[str]:
    """Names of the registered watermark methods."""
    return WATERMARKERS.list()
