"""Fixtures of the watermark tests: real footage decoded once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.core.payload import Payload

PAYLOAD = Payload.from_hex("0123456789abcdef")


@pytest.fixture(scope="session")
def bikes_frames(bikes_mp4: Path) -> np.ndarray:
    """First 24 frames of bikes.mp4: (24, 272, 640, 3) uint8, real street footage."""
    from reelproof.core.io import read_clip

    return np.ascontiguousarray(read_clip(bikes_mp4, max_frames=24).frames)


@pytest.fixture(scope="session")
def marked_bikes(bikes_frames: np.ndarray) -> np.ndarray:
    """``bikes_frames`` marked with the demo key and ``PAYLOAD``."""
    from reelproof.watermark import create_watermarker

    return create_watermarker("rp-ss").embed(bikes_frames, PAYLOAD)
