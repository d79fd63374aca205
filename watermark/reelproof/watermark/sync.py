"""Detection, key-independent part 2: measure how the marked picture was scaled, turned, squeezed.

The tile repeats, so the spectrum of the summed residual has a peak at every tile frequency the
layout uses, on the lattice ``G @ k`` (``k`` integer tile frequencies, ``G`` the clip's
reciprocal geometry). The set of used frequencies is the same for every key (only their phases
and signs are keyed), so the search below uses nothing secret:

1. whiten the power spectrum (divide by its local mean) and smooth it over 3 x 3 bins;
2. coarse: resample it on a log-polar grid per listed aspect, where scaling and rotation are
   shifts, and correlate with the frequency template over the allowed scales and angles;
3. fine: move each template point to the nearest peak and fit ``G`` by weighted least squares.

Because the search never looks at the key, the keyed test at each candidate stays exactly as
calibrated as at a fixed hypothesis; the p-value is only corrected for the number of candidates
(see ``scoring``). Translation needs no search here: the keyed test tries every cyclic shift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from reelproof.watermark.config import RpSsConfig
from reelproof.watermark.geometry import Geometry
from reelproof.watermark.layout import band_bins

_CAP = 30.0  # whitened power is clipped here: a strong periodic host texture cannot dominate
_RHO_STEP = 0.007  # log-radius step of the coarse grid (0.7 % in scale)
_PHI_STEPS = 450  # angular steps over 180 degrees (0.4 degree)
_MIN_PERIODS = 2.5  # a side must hold this many tiles for the lattice to be measurable
COARSE_FROM = 1.6
"""Smallest lattice scale (of the small tile) the half-resolution search looks for: an upscaled
re-post (a 9:16 cut blown up 1.78x, a 2.5x zoom) or a large tile at 1.07x and more. Smaller
ones are the working-resolution search's."""


@dataclass(frozen=True)
class Spectrum:
    """Whitened, 3 x 3-smoothed power spectrum of the summed residual.

    Attributes:
        values: (Hf, Wf // 2 + 1) float32; row ``Hf // 2 + fy * Hf``, column ``fx * Wf``
            holds frequency (fx, fy) in cycles per working pixel (fx >= 0 half plane).
        height, width: FFT size.
        noise: standard deviation of ``values`` where the mark can lie.
    """

    values: npt.NDArray[np.float32]
    height: int
    width: int
    noise: float

    def sample(self, freqs: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
        """Bilinear values at (n, 2) frequencies (fx, fy); 0 outside the spectrum."""
        import cv2  # deferred: importing the package stays light

        sign = np.where(freqs[:, :1] < 0, -1.0, 1.0)
        f = freqs * sign
        cols = (f[:, 0] * self.width).astype(np.float32).reshape(1, -1)
        rows = (f[:, 1] * self.height + self.height // 2).astype(np.float32).reshape(1, -1)
        out = cv2.remap(
            self.values, cols, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return np.asarray(out, dtype=np.float32).ravel()


@lru_cache(maxsize=8)
def template(tile: int, r_lo: float, r_hi: float) -> npt.NDArray[np.float64]:
    """The tile frequencies every key uses, as (n, 2) float64 (kx, ky), upper half plane."""
    ky, kx = band_bins(tile, r_lo, r_hi)
    points = np.stack([kx, ky], axis=1).astype(np.float64)
    points.flags.writeable = False
    return points


def spectrum(image: npt.NDArray[np.float32], factor: int, min_size: int = 0) -> Spectrum:
    """Whitened power spectrum of a summed residual (h, w) float32 at working ``factor``.

    ``min_size`` zero-pads short sides: a side holding few tiles gives peaks only a bin or two
    apart, which the 3 x 3 smoothing would merge; padding samples the spectrum more finely.
    """
    import cv2  # deferred: importing the package stays light
    import scipy.fft

    height, width = (
        scipy.fft.next_fast_len(max(side, min(min_size, 2 * side)), real=True)
        for side in image.shape
    )
    centred = image - np.float32(image.mean())
    coeffs = scipy.fft.rfft2(centred, s=(height, width), workers=1)
    power = np.fft.fftshift((coeffs.real**2 + coeffs.imag**2).astype(np.float32), axes=0)
    valid = _valid_bins(height, width, factor)
    power *= valid
    # Normalised convolution: the local mean of the valid bins only, so the huge low-frequency
    # axis lines (frame borders, letterbox edges) do not darken their neighbourhood.
    size = (max(3, (width // 24) | 1), max(3, (height // 16) | 1))
    local = cv2.blur(power, size, borderType=cv2.BORDER_REFLECT)
    weight = cv2.blur(valid, size, borderType=cv2.BORDER_REFLECT)
    mean = np.divide(local, weight, out=np.ones_like(local), where=weight > 0.05)
    white = np.minimum(power / np.maximum(mean, np.float32(1e-20)), np.float32(_CAP))
    white -= np.float32(1.0)
    white *= valid
    smooth = np.asarray(cv2.blur(white, (3, 3), borderType=cv2.BORDER_CONSTANT), np.float32)
    noise = float(np.std(smooth[valid > 0])) if np.any(valid > 0) else 1.0
    return Spectrum(smooth, height, width, max(noise, 1e-6))


@lru_cache(maxsize=8)
def _valid_bins(height: int, width: int, factor: int) -> npt.NDArray[np.float32]:
    """1 where a mark peak may be measured: off the axes and off the codec block grid (8-px
    blocks and their 16-px macroblock multiples in the clip's own pixels), 0 elsewhere."""
    valid = np.ones((height, width // 2 + 1), dtype=np.float32)
    centre = height // 2
    valid[centre - 2 : centre + 3, :] = 0.0  # fy ~ 0
    valid[:, :3] = 0.0  # fx ~ 0
    step_x, step_y = width * factor / 8.0, height * factor / 8.0
    for m in range(1, 8):
        col = round(m * step_x)
        if col <= width // 2 + 1:
            valid[:, max(0, col - 1) : col + 2] = 0.0
        for row in (centre + round(m * step_y), centre - round(m * step_y)):
            if 0 <= row < height:
                valid[max(0, row - 1) : row + 2, :] = 0.0
    valid.flags.writeable = False
    return valid


def _rotation(degrees: float) -> npt.NDArray[np.float64]:
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


@dataclass(frozen=True)
class _PolarPlan:
    """Everything of the coarse search that depends only on sizes and settings (cached)."""

    maps: tuple[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]], ...]  # per aspect
    t_i: npt.NDArray[np.int64]  # template rows (log radius) at scale 1
    t_j: npt.NDArray[np.int64]  # template columns (angle) at angle 0
    shift_lo: int
    shift_hi: int
    turns: npt.NDArray[np.int64]


def scale_range(config: RpSsConfig) -> tuple[float, float]:
    """Lattice periods searched, as scales of the small tile: a large tile at scale s has the
    small tile's lattice at scale s * large / small."""
    return config.min_scale, config.max_scale * max(config.tiles()) / config.tile


@lru_cache(maxsize=8)
def _polar_plan(
    height: int, width: int, factor: int, config: RpSsConfig, low: float, high: float
) -> _PolarPlan:
    points = template(config.tile, config.r_lo, config.r_hi)
    unit = factor / config.tile  # cycles per working pixel of one cycle per tile at scale 1
    rho_lo = math.log(unit * config.r_lo / (high * 1.08))
    n_rho = max(8, int((math.log(0.5) - rho_lo) / _RHO_STEP) + 1)
    phi = (np.arange(_PHI_STEPS) / _PHI_STEPS - 0.5) * math.pi
    rr, pp = np.meshgrid(np.exp(rho_lo + _RHO_STEP * np.arange(n_rho)), phi, indexing="ij")
    rows = (rr * np.sin(pp) * height + height // 2).astype(np.float32)
    maps = tuple(
        ((rr * np.cos(pp) / aspect * width).astype(np.float32), rows) for aspect in config.aspects
    )
    # Template in grid units (scale 1, angle 0), mapped into the fx >= 0 half plane.
    half = points * np.where(points[:, :1] < 0, -1.0, 1.0)
    t_i = np.rint((np.log(unit * np.hypot(half[:, 0], half[:, 1])) - rho_lo) / _RHO_STEP)
    t_j = np.rint((np.arctan2(half[:, 1], half[:, 0]) / math.pi + 0.5) * _PHI_STEPS)
    # A clip scaled by s moves the points by -log(s) in rho; turned by a, by +a in phi.
    n_turn = math.ceil((config.max_angle + 1.0) / (180.0 / _PHI_STEPS))
    return _PolarPlan(
        maps=maps,
        t_i=t_i.astype(np.int64),
        t_j=t_j.astype(np.int64),
        shift_lo=math.floor(-math.log(high * 1.05) / _RHO_STEP),
        shift_hi=math.ceil(-math.log(low / 1.05) / _RHO_STEP),
        turns=np.arange(-n_turn, n_turn + 1),
    )


def _coarse(
    spec: Spectrum, config: RpSsConfig, factor: int, scales: tuple[float, float]
) -> list[tuple[float, npt.NDArray[np.float64]]]:
    """(score, reciprocal geometry) of the best log-polar matches, all aspects together."""
    import cv2  # deferred: importing the package stays light

    plan = _polar_plan(spec.height, spec.width, factor, config, *scales)
    unit = factor / config.tile
    found: list[tuple[float, npt.NDArray[np.float64]]] = []
    for aspect, (cols, rows) in zip(config.aspects, plan.maps, strict=True):
        polar = np.asarray(
            cv2.remap(spec.values, cols, rows, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT),
            dtype=np.float32,
        )
        score = _correlate(polar, plan.t_i, plan.t_j, plan.shift_lo, plan.shift_hi, plan.turns)
        score /= max(float(np.std(score)), 1e-9)
        for s_index, t_index, value in _peaks(score, 3):
            scale = math.exp(-(plan.shift_lo + s_index) * _RHO_STEP)
            angle = float(plan.turns[t_index]) * 180.0 / _PHI_STEPS
            squeeze = np.diag([1.0 / aspect, 1.0])
            found.append((value, unit / scale * squeeze @ _rotation(angle)))
    found.sort(key=lambda item: -item[0])
    return found


def _correlate(
    polar: npt.NDArray[np.float32],
    t_i: npt.NDArray[np.int64],
    t_j: npt.NDArray[np.int64],
    shift_lo: int,
    shift_hi: int,
    turns: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Sum of ``polar`` over the template for every (rho shift, phi turn); (n_shift, n_turn)."""
    n_rho, n_phi = polar.shape
    n_shift = shift_hi - shift_lo + 1
    n_turn = len(turns)
    # Zeros beyond the rho range; phi wraps (a half-plane angle is periodic in 180 degrees).
    pad = n_shift + 2
    padded = np.zeros((n_rho + 2 * pad, n_phi + n_turn), dtype=np.float32)
    wrapped = np.take(polar, (np.arange(n_phi + n_turn) + int(turns[0])) % n_phi, axis=1)
    padded[pad : pad + n_rho] = wrapped
    total = np.zeros((n_shift, n_turn), dtype=np.float32)  # float32 adds: half the traffic
    for i, j in zip(t_i.tolist(), t_j.tolist(), strict=True):
        r0 = pad + i + shift_lo
        c0 = j % n_phi
        total += padded[r0 : r0 + n_shift, c0 : c0 + n_turn]
    return total.astype(np.float64)


def _peaks(score: npt.NDArray[np.float64], count: int) -> list[tuple[int, int, float]]:
    """The ``count`` largest local maxima of a 2-D score, at least 4 cells apart in rho."""
    work = score.copy()
    out: list[tuple[int, int, float]] = []
    for _ in range(count):
        flat = int(np.argmax(work))
        i, j = divmod(flat, work.shape[1])
        value = float(work[i, j])
        if not math.isfinite(value):
            break
        out.append((i, j, value))
        work[max(0, i - 4) : i + 5, max(0, j - 3) : j + 4] = -np.inf
    return out


def refine(
    spec: Spectrum, reciprocal: npt.NDArray[np.float64], points: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Move each template point to its nearest spectral peak and refit the 2 x 2 geometry."""
    geometry = reciprocal.copy()
    offsets = np.array([(dy, dx) for dy in (-2, -1, 0, 1, 2) for dx in (-2, -1, 0, 1, 2)])
    for reach in (2, 1, 1):
        near = offsets[np.max(np.abs(offsets), axis=1) <= reach]
        freqs = points @ geometry.T
        sign = np.where(freqs[:, :1] < 0, -1.0, 1.0)
        f, k = freqs * sign, points * sign
        cols = f[:, 0] * spec.width
        rows = f[:, 1] * spec.height + spec.height // 2
        base_c, base_r = np.rint(cols).astype(int), np.rint(rows).astype(int)
        cc = base_c[:, None] + near[None, :, 1]
        rr = base_r[:, None] + near[None, :, 0]
        inside = (cc >= 0) & (cc < spec.values.shape[1]) & (rr >= 0) & (rr < spec.height)
        vals = np.where(
            inside,
            spec.values[np.clip(rr, 0, spec.height - 1), np.clip(cc, 0, spec.values.shape[1] - 1)],
            -np.inf,
        )
        best = np.argmax(vals, axis=1)
        peak = vals[np.arange(len(best)), best]
        weight = np.clip(peak / spec.noise - 1.0, 0.0, None)
        if float(weight.sum()) <= 0.0:
            break
        meas_c = cc[np.arange(len(best)), best] + _vertex(spec, rr, cc, best, axis=1)
        meas_r = rr[np.arange(len(best)), best] + _vertex(spec, rr, cc, best, axis=0)
        measured = np.stack([meas_c / spec.width, (meas_r - spec.height // 2) / spec.height], 1)
        lhs = (k * weight[:, None]).T @ k
        rhs = (measured * weight[:, None]).T @ k
        if abs(np.linalg.det(lhs)) < 1e-9:
            break
        geometry = rhs @ np.linalg.inv(lhs)
    return geometry


def _vertex(
    spec: Spectrum,
    rr: npt.NDArray[np.int64],
    cc: npt.NDArray[np.int64],
    best: npt.NDArray[np.int64],
    axis: int,
) -> npt.NDArray[np.float64]:
    """Sub-bin offset of each chosen peak along ``axis`` (0: rows, 1: columns), parabolic."""
    idx = np.arange(len(best))
    r, c = rr[idx, best], cc[idx, best]
    h, w = spec.values.shape
    step_r, step_c = (1, 0) if axis == 0 else (0, 1)
    centre = spec.values[np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)].astype(np.float64)
    before = spec.values[np.clip(r - step_r, 0, h - 1), np.clip(c - step_c, 0, w - 1)]
    after = spec.values[np.clip(r + step_r, 0, h - 1), np.clip(c + step_c, 0, w - 1)]
    curve = before - 2.0 * centre + after
    offset = np.where(curve < 0, 0.5 * (before - after) / np.where(curve < 0, curve, -1.0), 0.0)
    return np.clip(offset, -0.5, 0.5)


def lattice_z(
    spec: Spectrum, reciprocal: npt.NDArray[np.float64], points: npt.NDArray[np.float64]
) -> float:
    """Standardised sum of the spectrum at the template lattice of ``reciprocal``."""
    values = spec.sample(points @ reciprocal.T)
    return float(values.sum() / (spec.noise * math.sqrt(len(values))))


def measurable(height: int, width: int, factor: int, config: RpSsConfig) -> bool:
    """Whether a working image this size can show a lattice at all (the smallest tile period
    searched must fit ``_MIN_PERIODS`` times); smaller ones skip the search."""
    return config.sync and _fits(height, width, config.tile / factor * scale_range(config)[0])


def coarse_measurable(height: int, width: int, factor: int, config: RpSsConfig) -> bool:
    """Whether the half-resolution search for upscaled re-posts runs on a working image this
    size (a function of the size alone, so the p-value may count its candidates)."""
    return (
        config.sync
        and config.coarse_candidates > 0
        and _fits(height // 2, width // 2, config.tile / (2 * factor) * COARSE_FROM)
    )


def _fits(height: int, width: int, period_px: float) -> bool:
    """Whether both sides hold ``_MIN_PERIODS`` periods of ``period_px`` working pixels."""
    return min(height, width) >= _MIN_PERIODS * period_px


def synchronise(
    image: npt.NDArray[np.float32], factor: int, config: RpSsConfig
) -> list[tuple[float, npt.NDArray[np.float64]]]:
    """Measured lattices: up to ``config.sync_candidates`` from the working resolution, then up
    to ``config.coarse_candidates`` of upscaled re-posts from half of it.

    Why two resolutions: a lattice of long periods (a 9:16 cut blown up 1.78x, a 2.5x zoom of a
    192-px tile) sits in the lowest bins of the working spectrum, where a busy camera clip's
    own peaks win the coarse match; on the sum area-averaged 2 x 2 the same search ranked the
    true lattice first or second on clips where the working one missed it (Open-Sora-Plan
    camera clip, 720p 9:16 and 1080p 2.5x zoom), at 60 % of the cost. The half-resolution
    search only looks for scales from ``COARSE_FROM``, so it cannot crowd out the others.

    Args:
        image: summed whitened residual (h, w) float32 at the working resolution.
        factor: working-resolution divisor of the clip.
        config: rp-ss settings (tiles, band, scale/angle/aspect ranges).

    Returns:
        (lattice z, reciprocal geometry) pairs: ``reciprocal @ k`` is the working-pixel
        frequency of small-tile frequency ``k``; ``Geometry.from_reciprocal`` turns one into a
        fold for any tile. Fewer (or none, for frames too small to hold a lattice) may come back.
    """
    found: list[tuple[float, npt.NDArray[np.float64]]] = []
    if measurable(image.shape[0], image.shape[1], factor, config):
        found = _search(image, factor, config, scale_range(config), config.sync_candidates)
    if coarse_measurable(image.shape[0], image.shape[1], factor, config):
        import cv2  # deferred: importing the package stays light

        half = cv2.resize(
            image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA
        )
        scales = (COARSE_FROM, scale_range(config)[1])
        count = config.coarse_candidates
        coarse = _search(np.asarray(half, np.float32), 2 * factor, config, scales, count)
        # Half-resolution frequencies are twice the working ones.
        found += [(z, reciprocal / 2.0) for z, reciprocal in coarse]
    return found


def _search(
    image: npt.NDArray[np.float32],
    factor: int,
    config: RpSsConfig,
    scales: tuple[float, float],
    count: int,
) -> list[tuple[float, npt.NDArray[np.float64]]]:
    """The ``count`` strongest lattices with scales in ``scales`` (of the small tile)."""
    period_px = config.tile / factor  # small tile period in working pixels at scale 1
    points = template(config.tile, config.r_lo, config.r_hi)
    # At least 4 bins between neighbouring peaks at the largest period searched.
    spec = spectrum(image, factor, int(4 * period_px * scales[1]))
    kept: list[tuple[float, npt.NDArray[np.float64]]] = []
    for _, coarse in _coarse(spec, config, factor, scales)[: 2 * count]:
        fine = refine(spec, coarse, points)
        if not _plausible(fine, factor, config, scales) or any(
            float(np.max(np.abs(fine - other))) <= 2e-3 * float(np.max(np.abs(other)))
            for _, other in kept
        ):
            continue
        kept.append((lattice_z(spec, fine, points), fine))
    kept.sort(key=lambda item: -item[0])
    return kept[:count]


def _plausible(
    reciprocal: npt.NDArray[np.float64],
    factor: int,
    config: RpSsConfig,
    scales: tuple[float, float],
) -> bool:
    """Within the searched ranges (with a margin): refinement may not wander off."""
    if not np.all(np.isfinite(reciprocal)):
        return False
    geometry = Geometry.from_reciprocal(reciprocal, factor, config.tile // 2, 0.0)
    low, high = scales
    return (
        low / 1.15 <= geometry.scale <= high * 1.15
        and abs(geometry.angle) <= config.max_angle + 2.0
        and min(config.aspects) / 1.15 <= geometry.aspect <= max(config.aspects) * 1.15
    )
