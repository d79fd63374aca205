"""The keyed frequency layout of the rp-ss mark and the spatial tile it synthesises.

The mark is a periodic tile of ``tile`` x ``tile`` pixels made of cosine components at integer
frequencies (ky, kx) of the tile (one per bin of the upper half-plane, so their phases are
independent). Bins on the 8- and 16-pixel block grids of video codecs (kx or ky a multiple of
tile/16) are skipped, as are frequencies outside the band [r_lo, r_hi]. A keyed permutation splits
the bins into a pilot (fixed sign: sync and detection) and payload bins (one per coded bit, sign =
the bit); every bin has a keyed random phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from reelproof.core.errors import ConfigError
from reelproof.watermark.coding import CODED_BITS
from reelproof.watermark.keys import WatermarkKey


@dataclass(frozen=True)
class Layout:
    """Keyed bin assignment (all arrays are read-only).

    Attributes:
        tile: tile size in embedding pixels.
        ky, kx: (n_bins,) int frequencies of the used bins (ky > 0).
        phase: (n_bins,) float64 keyed phases in radians.
        pilot: (n_pilot,) indices into the bins of the pilot.
        payload: (CODED_BITS,) indices into the bins; payload[j] carries coded bit j.
        scramble: (CODED_BITS,) uint8 keyed whitening of the coded bits.
        mac_key: key of the 16-bit id check.
    """

    tile: int
    ky: npt.NDArray[np.int64]
    kx: npt.NDArray[np.int64]
    phase: npt.NDArray[np.float64]
    pilot: npt.NDArray[np.int64]
    payload: npt.NDArray[np.int64]
    scramble: npt.NDArray[np.uint8]
    mac_key: bytes


def band_bins(tile: int, r_lo: float, r_hi: float) -> tuple[npt.NDArray[np.int64], ...]:
    """(ky, kx) of the usable half-plane bins, sorted for reproducibility."""
    grid = tile // 16  # 16-px block grid -> multiples of tile/16; 8-px grid is a subset
    kys: list[int] = []
    kxs: list[int] = []
    limit = int(np.ceil(r_hi))
    for ky in range(1, limit + 1):
        for kx in range(-limit, limit + 1):
            radius = float(np.hypot(ky, kx))
            if radius < r_lo or radius > r_hi or ky % grid == 0 or kx % grid == 0:
                continue
            kys.append(ky)
            kxs.append(kx)
    return np.array(kys, dtype=np.int64), np.array(kxs, dtype=np.int64)


def _rng(key: WatermarkKey, label: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(key.derive(label), "big"))


@lru_cache(maxsize=32)
def make_layout(key: WatermarkKey, tile: int, r_lo: float, r_hi: float) -> Layout:
    """Derive the keyed layout of ``key`` (cached: keys are hashable frozen dataclasses)."""
    ky, kx = band_bins(tile, r_lo, r_hi)
    n_bins = ky.shape[0]
    if n_bins < CODED_BITS + 64:
        raise ConfigError(
            f"the band [{r_lo}, {r_hi}] of a {tile}-px tile has only {n_bins} bins",
            hint=f"widen the band: the payload needs {CODED_BITS} bins plus a pilot",
        )
    rng = _rng(key, f"rp-ss/layout/{tile}/{r_lo}/{r_hi}")
    phase = np.asarray(rng.uniform(0.0, 2.0 * np.pi, n_bins), dtype=np.float64)
    order = rng.permutation(n_bins)
    payload = order[:CODED_BITS]
    pilot = np.sort(order[CODED_BITS:])
    scramble = rng.integers(0, 2, CODED_BITS).astype(np.uint8)
    arrays: tuple[npt.NDArray[np.generic], ...] = (ky, kx, phase, pilot, payload, scramble)
    for arr in arrays:
        arr.flags.writeable = False
    return Layout(
        tile=tile,
        ky=ky,
        kx=kx,
        phase=phase,
        pilot=pilot,
        payload=payload,
        scramble=scramble,
        mac_key=key.derive("rp-ss/mac"),
    )


def synthesize_tile(
    layout: Layout, coded: npt.NDArray[np.uint8], pilot_weight: float = 1.0
) -> npt.NDArray[np.float32]:
    """The spatial tile for scrambled coded bits; (tile, tile) float32 with unit RMS.

    Pilot bins have sign +1 (amplitude ``pilot_weight``), payload bin j has sign +1 for a 0 and
    -1 for a 1.
    """
    n = layout.tile
    signs = np.full(layout.ky.shape[0], pilot_weight)
    signs[layout.payload] = 1.0 - 2.0 * coded.astype(np.float64)
    spectrum = np.zeros((n, n), dtype=np.complex128)
    values = signs * np.exp(1j * layout.phase)
    spectrum[layout.ky % n, layout.kx % n] = values
    spectrum[(-layout.ky) % n, (-layout.kx) % n] = np.conj(values)
    tile = np.fft.ifft2(spectrum).real
    tile /= np.sqrt(np.mean(tile**2))
    return tile.astype(np.float32)
