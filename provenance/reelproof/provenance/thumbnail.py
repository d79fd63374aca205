"""The ``c2pa.thumbnail.claim`` of a signed file: a small JPEG of what was signed.

Viewers (Content Credentials inspectors, ReelProof's report) show it beside the credentials, so a
reader can see what the signer saw even when the file was replaced. A still is decoded upright; a
video gives a frame half a second in (first frames are often black), decoded with PyAV through
``reelproof.core.io``, which checks the usual limits before decoding.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from reelproof.core.errors import ReelProofError
from reelproof.core.io import decode_still, sample_frames

THUMBNAIL_MAX_SIDE = 512
THUMBNAIL_MIME = "image/jpeg"
_VIDEO_LEAD_IN_FRAMES = 12  # half a second at 24 fps: decoding costs on long GOPs


def thumbnail_frame(path: Path, mime: str) -> np.ndarray:
    """The (H, W, 3) uint8 RGB picture a thumbnail of ``path`` shows.

    Raises:
        ReelProofError: the file cannot be decoded (or is over a limit).
    """
    if mime.startswith("image/"):
        return np.asarray(decode_still(path, apply_rotation=True)[0])
    chunk = sample_frames(path, 2, within_frames=_VIDEO_LEAD_IN_FRAMES)
    return np.asarray(chunk.frames[-1])


def thumbnail_jpeg(path: Path, mime: str, max_side: int = THUMBNAIL_MAX_SIDE) -> bytes | None:
    """A JPEG (longest side at most ``max_side``) of ``path``; ``None`` when it cannot be decoded.

    Signing does not need the picture (the manifest hashes the bytes), so a file ReelProof cannot
    decode is still signed, without a thumbnail; ``SignResult.thumbnail`` says which happened.
    """
    from PIL import Image

    try:
        rgb = thumbnail_frame(path, mime)
    except ReelProofError:
        return None
    picture = Image.fromarray(rgb)
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80, optimize=True)
    return out.getvalue()
