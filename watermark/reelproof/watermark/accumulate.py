"""Detection, key-independent part 1: per-frame residuals summed over the clip.

The mark is static in screen space (the same tile at the same place in every frame, whatever
scaling, cropping or rotation the clip went through afterwards), so the sum of the frames'
high-pass residuals holds all the evidence for any geometric hypothesis. Each frame costs one
residual and one addition; the geometric search and the folds run on the sum, at checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from reelproof.watermark.config import MIN_SIDE, RpSsConfig
from reelproof.watermark.geometry import Geometry, fold_index

HALF_RES_FROM = 256
"""Frames whose short side is at least this are read at half resolution (2 x 2 luma averages):
the mark's frequencies (periods of 7-43 px at scale 1) stay well inside the band, at a quarter of
the cost. Smaller frames are read at full resolution, so that a mark shrunk with the picture
(periods down to 3 px at scale 0.4) is not averaged away."""

_HALF_LUMA_WEIGHTS = np.array([1, 2, 1, 1, 2, 1], dtype=np.float32) / np.float32(16.0)
_LUMA_WEIGHTS = np.array([1, 2, 1], dtype=np.float32) / np.float32(4.0)


def working_factor(height: int, width: int) -> int:
    """Divisor of the clip's resolution the detector works at (1 or 2)."""
    return 2 if min(height, width) >= HALF_RES_FROM else 1


def half_luma(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Luma averaged over 2x2 pixels; (H//2, W//2) float32."""
    h2, w2 = frame.shape[0] // 2, frame.shape[1] // 2
    crop = frame[: 2 * h2, : 2 * w2]
    rows = crop[0::2].astype(np.float32)
    rows += crop[1::2]
    # (R + 2G + B) / 4 over two neighbouring pixels: close to BT.601 luma (the mark is the same
    # in all channels); a matrix product over the last axis of 6 is far faster than a reduction.
    luma: npt.NDArray[np.float32] = rows.reshape(h2, w2, 6) @ _HALF_LUMA_WEIGHTS
    return luma


def working_luma(frame: npt.NDArray[np.uint8], factor: int) -> npt.NDArray[np.float32]:
    """Luma of an (H, W, 3) uint8 RGB frame at the working resolution; float32."""
    if factor == 2:
        return half_luma(frame)
    luma: npt.NDArray[np.float32] = frame.astype(np.float32) @ _LUMA_WEIGHTS
    return luma


def working_plane(
    plane: npt.NDArray[np.uint8], factor: int, full: npt.NDArray[np.float32] | None = None
) -> npt.NDArray[np.float32]:
    """A decoded luma plane (H, W) uint8 at the working resolution; float32.

    Reading the Y plane skips the YUV -> RGB conversion, which costs more than decoding.
    ``full`` is an optional (H, W) float32 buffer for the conversion.
    """
    import cv2  # deferred: importing the package stays light

    if full is None or full.shape != plane.shape:
        full = np.empty(plane.shape, dtype=np.float32)
    full[...] = plane
    if factor == 1:
        return full
    h2, w2 = plane.shape[0] // 2, plane.shape[1] // 2
    half = cv2.resize(full[: 2 * h2, : 2 * w2], (w2, h2), interpolation=cv2.INTER_AREA)
    return np.asarray(half, dtype=np.float32)


def box_mean(image: npt.NDArray[np.float32], size: int) -> npt.NDArray[np.float32]:
    """``size`` x ``size`` mean with edge replication, same shape; one helper for the texture
    mask, the high-pass residual and its local spread."""
    import cv2  # deferred: importing the package stays light

    mean = cv2.blur(image, (size, size), borderType=cv2.BORDER_REPLICATE)
    return np.asarray(mean, dtype=np.float32).reshape(image.shape)


SYNC_REFRESH_FROM = 16
"""After the first look's lattice search, the next one waits for this many frames (then every
fourfold growth: 16, 64, ...). A search costs about as much as adding 10 frames at 1080p and an
unmarked clip pays for each; the look at 4 frames reuses the first lattices, which already lock
on a clearly marked re-post, while a faint one needs many more frames to stand out anyway."""

_LOCAL_WINDOW = 5  # working pixels over which the residual's local spread is measured
_LOCAL_FLOOR = 0.25  # floor of the local spread, as a fraction of the frame's mean spread


class Workspace:
    """Reusable float32 buffers for one working size: a frame's residuals allocate nothing.

    Fresh multi-megabyte arrays cost a page fault per 4 KiB on first touch; at 1080p that
    doubled the per-frame cost of detection.
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.res = np.empty(shape, dtype=np.float32)
        self.mag = np.empty(shape, dtype=np.float32)
        self.aux = np.empty(shape, dtype=np.float32)


def residuals_into(
    luma: npt.NDArray[np.float32], work: Workspace
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
    """``residuals`` into ``work``'s buffers (valid until its next use)."""
    import cv2  # deferred: importing the package stays light

    res, mag, aux = work.res, work.mag, work.aux
    cv2.blur(luma, (3, 3), dst=aux, borderType=cv2.BORDER_REPLICATE)
    np.subtract(luma, aux, out=res)
    np.abs(res, out=mag)
    spread = float(cv2.mean(mag[::4])[0])  # every 4th row: the same mean, a quarter of the reads
    if spread < 0.02:  # flat, black or frozen-blank frame: nothing to fold
        return None
    cv2.blur(mag, (_LOCAL_WINDOW, _LOCAL_WINDOW), dst=aux, borderType=cv2.BORDER_REPLICATE)
    aux += np.float32(_LOCAL_FLOOR * spread)
    np.divide(res, aux, out=aux)  # aux: whitened
    np.multiply(res, np.float32(1.0 / spread), out=res)  # res: plain
    np.clip(res, -4.0, 4.0, out=res)
    scale = float(cv2.mean(np.abs(aux[::4]))[0])
    aux *= np.float32(1.0 / max(scale, 1e-6))
    np.clip(aux, -4.0, 4.0, out=aux)
    return aux, res


def residuals(
    luma: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
    """Two clipped high-pass residuals of one frame: (whitened, plain); None for a flat frame.

    ``whitened`` is divided by the local spread of the residual: busy texture, where the host's
    residual is large, counts less than calm areas. That is close to the matched-filter weighting
    and lifts the id out of heavy compression at small sizes (256p after CRF 35); the floor keeps
    near-flat areas from being blown up. Detection searches it at every hypothesis.
    ``plain`` is only divided by the frame's mean spread. At 1080p after CRF 40 the encoder keeps
    the mark mostly in textured areas, which whitening turns down, and the id is read from this
    one instead (at scale 1, see ``scoring.plain_soft``).
    """
    pair = residuals_into(luma, Workspace((luma.shape[0], luma.shape[1])))
    return None if pair is None else (pair[0].copy(), pair[1].copy())


def _fold_exact(res: npt.NDArray[np.float32], period: int) -> npt.NDArray[np.float64]:
    """Sum of all (period x period) tiles, partial edge tiles included; (period * period,)."""
    height, width = res.shape
    hp, wp = -(-height // period) * period, -(-width // period) * period
    padded = np.zeros((hp, wp), dtype=np.float32)
    padded[:height, :width] = res
    tiles = padded.reshape(hp // period, period, wp // period, period)
    folded: npt.NDArray[np.float64] = tiles.sum(axis=(0, 2), dtype=np.float64).ravel()
    return folded


@lru_cache(maxsize=16)
def _exact_counts(height: int, width: int, period: int) -> npt.NDArray[np.float64]:
    """Pixels per cell of ``_fold_exact``; (period * period,) float64, read-only."""
    counts = _fold_exact(np.ones((height, width), dtype=np.float32), period)
    counts.flags.writeable = False
    return counts


@dataclass
class FoldAccumulator:
    """Sums the residuals of a clip's frames; folds the sum at any geometry on demand.

    Key-independent: one pass over a clip serves every key of a keyring. Frames whose size
    differs from the first used frame are counted as seen but not used.

    Attributes:
        config: rp-ss settings.
        frames_seen: frames offered; ``frames_used``: frames that added evidence.
        too_small: a frame had a side under ``MIN_SIDE``.
        factor: working-resolution divisor (0 until the first usable frame).
        whitened, plain: (h, w) float32 sums of the two residuals at the working resolution.
    """

    config: RpSsConfig
    frames_seen: int = 0
    frames_used: int = 0
    too_small: bool = False
    factor: int = 0
    whitened: npt.NDArray[np.float32] | None = None
    plain: npt.NDArray[np.float32] | None = None
    _folds: dict[tuple[Geometry, bool, int], npt.NDArray[np.float64]] = field(default_factory=dict)
    _filled: dict[tuple[Geometry, int], npt.NDArray[np.bool_]] = field(default_factory=dict)
    _lattices: list[tuple[float, npt.NDArray[np.float64]]] | None = None
    _lattice_frames: int = 0
    _work: Workspace | None = None
    _plane: npt.NDArray[np.float32] | None = None  # full-resolution conversion buffer

    @property
    def period(self) -> int:
        """Fold cells per side of the small tile."""
        return self.config.tile // 2

    def add_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Add one (H, W, 3) uint8 RGB frame."""
        if self._admit(frame.shape[0], frame.shape[1]):
            self._add(working_luma(frame, self.factor))

    def add_luma(self, plane: npt.NDArray[np.uint8]) -> None:
        """Add one decoded (H, W) uint8 luma plane (any luma scale: residuals are normalised)."""
        if self._admit(plane.shape[0], plane.shape[1]):
            if self._plane is None or self._plane.shape != plane.shape:
                self._plane = np.empty(plane.shape, dtype=np.float32)
            self._add(working_plane(plane, self.factor, self._plane))

    def _admit(self, height: int, width: int) -> bool:
        self.frames_seen += 1
        if min(height, width) < MIN_SIDE:
            self.too_small = True
            return False
        factor = working_factor(height, width)
        if self.factor == 0:
            self.factor = factor
        return factor == self.factor

    def _add(self, luma: npt.NDArray[np.float32]) -> None:
        if self.whitened is not None and luma.shape != self.whitened.shape:
            return  # a frame of another size: its pixels do not line up with the sum
        if self._work is None or self._work.shape != luma.shape:
            self._work = Workspace((luma.shape[0], luma.shape[1]))
        pair = residuals_into(luma, self._work)
        if pair is None:
            return
        self.frames_used += 1
        self._folds.clear()
        if self.whitened is None or self.plain is None:
            self.whitened, self.plain = pair[0].copy(), pair[1].copy()
        else:
            self.whitened += pair[0]
            self.plain += pair[1]

    def fold(
        self, geometry: Geometry, plain: bool = False, period: int | None = None
    ) -> npt.NDArray[np.float64]:
        """Mean-folded tile at ``geometry``; (period, period) float64 with zero mean.

        ``period`` is the tile's cells per side (tile / 2; the small tile's when None). Cells no
        pixel falls into (small or shrunk pictures) are 0. Cached until the next frame.
        """
        cells = period if period is not None else self.period
        key = (geometry, plain, cells)
        cached = self._folds.get(key)
        if cached is not None:
            return cached
        image = self.plain if plain else self.whitened
        if image is None:
            raise ValueError("no frame has been accumulated")
        height, width = image.shape
        if geometry.is_identity and geometry.factor == 2:
            sums = _fold_exact(image, cells)
            counts = _exact_counts(height, width, cells)
        else:
            index, counts = fold_index(height, width, geometry.matrix, cells)
            sums = np.bincount(index, weights=image.ravel(), minlength=cells * cells).astype(
                np.float64
            )
        self._filled[(geometry, cells)] = counts.reshape(cells, cells) > 0
        mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        tile = mean.reshape(cells, cells)
        filled = counts.reshape(cells, cells) > 0
        tile[filled] -= tile[filled].mean()
        self._folds[key] = tile
        return tile

    def filled(self, geometry: Geometry, period: int) -> npt.NDArray[np.bool_]:
        """(period, period) mask of the cells of ``fold(geometry, period=period)`` that some
        pixel falls into (all of them once the picture holds a whole tile)."""
        if (geometry, period) not in self._filled:
            self.fold(geometry, period=period)
        return self._filled[(geometry, period)]

    def tiles(self) -> tuple[int, ...]:
        """Tile sizes this clip can carry within the searched scale range: the large tile only
        when the frame is big enough to show it at ``min_scale`` (a function of the size alone,
        so the p-value may depend on it)."""
        if self.whitened is None:
            return self.config.tiles()
        short = min(self.whitened.shape) * self.factor
        reach = self.config.large_tile_from * self.config.min_scale
        return tuple(t for t in self.config.tiles() if t == self.config.tile or short >= reach)

    def fixed_geometries(self) -> list[Geometry]:
        """The listed (scale, angle) hypotheses at this clip's working resolution."""
        return [Geometry.fixed(s, a, self.factor) for s, a in self.config.hypotheses()]

    def geometries(self, tile: int | None = None, fresh: bool = False) -> list[Geometry]:
        """Listed hypotheses, then the synchronised ones that differ from all of them.

        The measured lattices are converted for ``tile`` (the small tile when None) and kept
        when their scale lies in the searched range for that tile. A measured geometry whose
        fold would put no pixel of the frame more than a quarter cell away from a listed
        hypothesis' adds nothing and is dropped (the p-value still counts it).

        The lattice search (shared by all tiles and keys) runs at the first look, then again
        once the frame count has grown fourfold since the last one and reached
        ``SYNC_REFRESH_FROM`` (at 1, 16, 64, ... frames), or threefold when ``fresh`` (the final
        reading);
        in between, the last lattices are reused: evidence grows slowly, the search is the
        costly part of a look, and the choice depends on frame counts only, never on the key.
        """
        fixed = self.fixed_geometries()
        if not self.config.sync or self.whitened is None:
            return fixed
        grown = self.frames_used / max(self._lattice_frames, 1)
        refresh = grown >= 4 and self.frames_used >= SYNC_REFRESH_FROM
        if self._lattices is None or refresh or (fresh and grown >= 3):
            from reelproof.watermark.sync import synchronise

            self._lattices = synchronise(self.whitened, self.factor, self.config)
            self._lattice_frames = self.frames_used
        size = tile if tile is not None else self.config.tile
        height, width = self.whitened.shape
        corners = np.array([[width, 0.0], [0.0, height], [width, height]]).T
        kept: list[Geometry] = []
        for z, reciprocal in self._lattices:
            geometry = Geometry.from_reciprocal(reciprocal, self.factor, size // 2, z)
            in_range = (
                self.config.min_scale / 1.15 <= geometry.scale <= self.config.max_scale * 1.15
            )
            if in_range and all(
                np.max(np.abs((geometry.array - f.array) @ corners)) > 0.25 for f in fixed
            ):
                kept.append(geometry)
        return fixed + kept
