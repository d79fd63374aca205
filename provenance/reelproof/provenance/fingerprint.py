"""Perceptual fingerprint of a clip: a sequence of per-frame 64-bit DCT hashes with timestamps.

Kept with a stored manifest so that a clip found again through its watermark can be compared
with the clip that was signed: re-encoding, remuxing and mild scaling keep the hashes close
(a few bits of 64); different content lands near 32 bits apart. Computed from decoded frames, so
it does not care about the container.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FINGERPRINT_VERSION = "rp-dct64-1"
FINGERPRINT_THRESHOLD = 0.2
"""Mean fraction of differing hash bits below which two clips count as the same content."""
FINGERPRINT_SAMPLES = 32
"""Frames ``fingerprint_file`` samples by default (evenly, first and last frame included)."""
FINGERPRINT_MAX_FRAMES = 3000
"""``fingerprint_file`` samples within this many first frames by default."""
_HASH_SIDE = 32  # frames are reduced to 32x32 luma before the DCT
_LOW = 8  # an 8x8 block of low frequencies makes the 64-bit hash
_MAX_TIME_GAP_S = 0.5  # a stored sample with no query frame this close counts as a full mismatch


@dataclass(frozen=True)
class Fingerprint:
    """Per-frame perceptual hashes of a clip.

    Attributes:
        timestamps: presentation times (seconds) of the hashed frames.
        hashes: 64-bit hashes, one per timestamp.
        version: hash recipe id (hashes of different recipes never compare).
    """

    timestamps: tuple[float, ...]
    hashes: tuple[int, ...]
    version: str = FINGERPRINT_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "timestamps": list(self.timestamps),
                "hashes": [f"{h:016x}" for h in self.hashes],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Fingerprint:
        body = json.loads(text)
        return cls(
            timestamps=tuple(float(t) for t in body["timestamps"]),
            hashes=tuple(int(h, 16) for h in body["hashes"]),
            version=str(body["version"]),
        )


def _luma_32(frames: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """(n, H, W, 3) uint8 RGB -> (n, 32, 32) float64 luma by block averaging."""
    _, height, width, _ = frames.shape
    rows = np.linspace(0, height, _HASH_SIDE + 1).astype(int)
    cols = np.linspace(0, width, _HASH_SIDE + 1).astype(int)
    if height < _HASH_SIDE or width < _HASH_SIDE:
        return _luma_32_small(frames, rows, cols)
    # Exact integer block sums of each channel, then the luma weights on 1024 sums per frame:
    # ~7x less work than weighting every pixel in float64 (a 720p frame is 0.9 M pixels), and
    # the same numbers up to float rounding (identical hashes on the real test footage).
    # Columns first: they are the contiguous axis. uint32 holds 255 * (H/32) * (W/32).
    sums = np.add.reduceat(frames, cols[:-1], axis=2, dtype=np.uint32)  # (n, H, 32, 3)
    sums = np.add.reduceat(sums, rows[:-1], axis=1)  # (n, 32, 32, 3)
    luma = sums @ np.array([0.299, 0.587, 0.114])
    area = np.outer(np.diff(rows), np.diff(cols))
    result: npt.NDArray[np.float64] = luma / area
    return result


def _luma_32_small(
    frames: npt.NDArray[np.uint8], rows: npt.NDArray[np.int_], cols: npt.NDArray[np.int_]
) -> npt.NDArray[np.float64]:
    """Frames under 32 pixels on a side: some blocks are empty (``reduceat`` cannot say so)."""
    luma = frames[..., 0] * 0.299 + frames[..., 1] * 0.587 + frames[..., 2] * 0.114
    n, height, width = luma.shape
    # Area averaging via cumulative sums: robust to any frame size, no resampling library.
    integral = np.zeros((n, height + 1, width + 1))
    integral[:, 1:, 1:] = luma.cumsum(1).cumsum(2)
    r0, r1 = rows[:-1], rows[1:]
    c0, c1 = cols[:-1], cols[1:]
    total = (
        integral[:, r1][:, :, c1]
        - integral[:, r0][:, :, c1]
        - integral[:, r1][:, :, c0]
        + integral[:, r0][:, :, c0]
    )
    area = np.maximum(np.outer(r1 - r0, c1 - c0), 1)
    result: npt.NDArray[np.float64] = total / area
    return result


def _dct_basis(size: int, keep: int) -> npt.NDArray[np.float64]:
    """(keep, size) rows of the orthonormal DCT-II matrix: only the low frequencies are needed."""
    k = np.arange(keep)[:, None]
    n = np.arange(size)[None, :]
    basis: npt.NDArray[np.float64] = np.cos(np.pi * (2 * n + 1) * k / (2 * size)) * np.sqrt(
        2.0 / size
    )
    basis[0] /= np.sqrt(2.0)
    return basis


_BASIS = _dct_basis(_HASH_SIDE, _LOW)


def hash_frames(frames: npt.NDArray[np.uint8]) -> list[int]:
    """64-bit DCT hash of each frame of (n, H, W, 3) uint8 RGB."""
    small = _luma_32(frames)
    # 2-D DCT restricted to the 8x8 lowest frequencies: B @ X @ B.T for each frame.
    coeffs = np.einsum("ij,njk,lk->nil", _BASIS, small, _BASIS).reshape(len(small), -1)
    # Compare with the median of the AC terms; the DC term (overall brightness) is left out.
    median = np.median(coeffs[:, 1:], axis=1, keepdims=True)
    bits = coeffs > median
    weights = 1 << np.arange(63, -1, -1, dtype=np.uint64)
    return [int(np.sum(weights[row])) for row in bits]


def fingerprint_frames(
    frames: npt.NDArray[np.uint8], timestamps: npt.NDArray[np.float64], max_samples: int = 32
) -> Fingerprint:
    """Fingerprint decoded frames (n, H, W, 3) uint8 RGB with their (n,) float64 times (s)."""
    count = len(frames)
    if count == 0:
        return Fingerprint((), ())
    picks = np.unique(np.linspace(0, count - 1, min(count, max_samples)).round().astype(int))
    hashes = hash_frames(np.asarray(frames)[picks])
    return Fingerprint(tuple(float(t) for t in np.asarray(timestamps)[picks]), tuple(hashes))


def fingerprint_file(
    path: Path | str,
    max_samples: int = FINGERPRINT_SAMPLES,
    max_frames: int | None = FINGERPRINT_MAX_FRAMES,
) -> Fingerprint:
    """Fingerprint a video file from ``max_samples`` frames spread over its first ``max_frames``.

    The samples sit where ``fingerprint_frames`` puts them (evenly from the first to the last
    frame), so a copy of a clip fingerprinted at signing time is compared at the same instants.
    ``reelproof.core.io.sample_frames`` decodes only reference frames and converts only the
    kept ones to RGB; a sample may land a frame or two from its target, which changes a hash
    by a bit or two at most (the comparison pairs frames by time, within 0.5 s). A still
    (JPEG, PNG, WebP, HEIC, AVIF) is one frame at time 0.
    """
    from reelproof.core.io import decode_still, sample_frames, sniff_still_file

    if sniff_still_file(path) is not None:
        return Fingerprint((0.0,), tuple(hash_frames(decode_still(path))))
    chunk = sample_frames(path, max_samples, within_frames=max_frames)
    hashes = hash_frames(chunk.frames)
    return Fingerprint(tuple(float(t) for t in chunk.timestamps), tuple(hashes))


def fingerprint_distance(stored: Fingerprint, query: Fingerprint) -> float:
    """Mean fraction of differing bits between each stored hash and the query frame nearest in time.

    Returns 1.0 when nothing can be compared (empty fingerprints or different recipes).
    """
    if stored.version != query.version or not stored.hashes or not query.hashes:
        return 1.0
    q_times = np.asarray(query.timestamps)
    distances: list[float] = []
    for stamp, value in zip(stored.timestamps, stored.hashes, strict=True):
        nearest = int(np.argmin(np.abs(q_times - stamp)))
        if abs(q_times[nearest] - stamp) > _MAX_TIME_GAP_S:
            distances.append(0.5)  # unrelated content differs in about half the bits
            continue
        distances.append(bin(value ^ query.hashes[nearest]).count("1") / 64)
    return float(np.mean(distances))
