"""Detect the rp-ss mark in a video file, streaming, with every key of a keyring."""

from __future__ import annotations

import os

from reelproof.core.clip import FrameArray
from reelproof.watermark.keys import Keyring
from reelproof.watermark.reading import WatermarkReading
from reelproof.watermark.rpss import RpSsConfig, StreamDetector

DEFAULT_FILE_FRAMES = 128


def detect_file(
    path: str | os.PathLike[str],
    keyring: Keyring | None = None,
    max_frames: int | None = None,
    config: RpSsConfig | None = None,
) -> WatermarkReading:
    """Stream ``path`` and look for the rp-ss mark of every key in ``keyring``.

    Frames are decoded chunk by chunk (``reelproof.core.io.iter_chunks``); folding is shared by all
    keys, and decoding stops as soon as a key's p-value is below the threshold and its payload is
    verified, or when the frame budget is spent. The p-value is corrected for the number of keys.

    Args:
        path: local video file.
        keyring: keys to try; ``Keyring.default()`` (local keys + the public demo key) when None.
        max_frames: frame budget (default 128: a few seconds hold far more evidence than needed).
        config: rp-ss settings (defaults when None).

    Returns:
        The reading of the best key; ``key_id`` names it when it was detected.

    Raises:
        MediaDecodeError, UnsupportedMediaError, LimitExceededError: the file is not a usable video.
    """
    from reelproof.core.io import iter_chunks  # PyAV is only needed for files

    ring = keyring if keyring is not None else Keyring.default()
    budget = max_frames if max_frames is not None else DEFAULT_FILE_FRAMES
    detector = StreamDetector(ring.keys, config or RpSsConfig(), budget)
    chunks = iter_chunks(path, chunk_frames=8, max_frames=budget)
    try:
        for chunk in chunks:
            if detector.update(chunk.frames):
                break
    finally:
        close = getattr(chunks, "close", None)  # a generator: closing it releases the decoder
        if close is not None:
            close()
    return detector.reading()


def detect_frames(
    frames: FrameArray, keyring: Keyring | None = None, config: RpSsConfig | None = None
) -> WatermarkReading:
    """Look for the rp-ss mark of every key in ``keyring`` in decoded frames (a still image is
    one (1, H, W, 3) uint8 frame). The p-value is corrected for the number of keys."""
    ring = keyring if keyring is not None else Keyring.default()
    detector = StreamDetector(ring.keys, config or RpSsConfig(), len(frames))
    detector.update(frames)
    return detector.reading()
