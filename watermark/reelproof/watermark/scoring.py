"""Detection, keyed part: phase-only correlation of folded tiles with one key's pilot.

Under "no mark with this key" the pilot phases are uniform and independent of the clip, so at
any hypothesis chosen without the key (a listed scale, or a geometry the key-independent
synchronisation measured) the statistic is a sum of ``n`` cosines of uniform random phases:
mean 0, variance n/2, sub-Gaussian (``I0(t) <= exp(t^2/4)``). The z-score is N(0, 1) per
hypothesis, and the p-value is Bonferroni-corrected for every shift, sub-pixel offset, geometry
(all listed ones plus the maximum number of synchronisation candidates, whether or not that many
were found), flip, look (checkpoints) and key tried.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from reelproof.watermark.accumulate import FoldAccumulator
from reelproof.watermark.coding import conv_encode, viterbi_decode
from reelproof.watermark.geometry import Geometry
from reelproof.watermark.layout import Layout

_SUBPIXEL = ((0.0, 0.0), (0.0, 0.5), (0.5, 0.0), (0.5, 0.5))
_SUB_DY = np.array([d[0] for d in _SUBPIXEL])
_SUB_DX = np.array([d[1] for d in _SUBPIXEL])


@dataclass(frozen=True)
class Score:
    """Best hypothesis of one key on one accumulator state."""

    z: float
    scale: float
    shift: tuple[int, int]
    flipped: bool
    angle: float
    soft: npt.NDArray[np.float64]  # (CODED_BITS,) payload soft values at the best hypothesis
    n_tests: int
    offset: tuple[float, float] = (0.0, 0.0)  # shift plus the sub-pixel step, in tile cells
    geometry: Geometry | None = None  # None: the identity of the accumulator's resolution
    runners_up: tuple[Score, ...] = ()  # the best of each other geometry, strongest first

    @property
    def hypothesis(self) -> tuple[float, float]:
        return (self.scale, self.angle)


def hypotheses_per_geometry(period: int, flips: bool) -> int:
    """Shifts x sub-pixel offsets x flips tested at one geometry."""
    return period * period * len(_SUBPIXEL) * (2 if flips else 1)


def n_tests(acc: FoldAccumulator, flips: bool) -> int:
    """Hypotheses one look at one key tries: for every tile size the clip's frame size allows,
    the listed geometries plus every possible synchronisation candidate (when the frame is big
    enough for the search), each at every shift, sub-pixel offset and flip. Only the frame
    size decides what is counted, never the content."""
    from reelproof.watermark.sync import coarse_measurable, measurable

    config = acc.config
    image = acc.whitened
    per_tile = len(config.hypotheses())
    if image is not None and measurable(image.shape[0], image.shape[1], acc.factor, config):
        per_tile += config.sync_candidates
    if image is not None and coarse_measurable(image.shape[0], image.shape[1], acc.factor, config):
        per_tile += config.coarse_candidates
    return sum(hypotheses_per_geometry(t // 2, flips) * per_tile for t in acc.tiles())


def _reference(layout: Layout, period: int) -> tuple[npt.NDArray[np.int64], ...]:
    """Folded-tile bin coordinates of the layout (and the mirrored kx)."""
    return layout.ky % period, layout.kx % period, (-layout.kx) % period


def soft_bits(raw: npt.NDArray[np.complex128], layout: Layout) -> npt.NDArray[np.float64]:
    """Log-likelihood ratios of the payload bins (maximal-ratio weighting per radial band).

    At the right shift every bin reads ``sign * a + noise`` with the sign known for the pilot:
    the pilot's real parts estimate the signal amplitude ``a`` of each frequency band, and the
    imaginary parts of all its bins (pilot and payload alike: the payload sign only flips the
    real part) the noise variance, so a band drowned by the host counts less than a clean one.
    The noise comes from every bin of the band, not only the pilot's: estimated from the
    pilot's two dozen bins alone it was off by a factor of three often enough to give one band
    a weight that sank the id where plain sign decisions would have read it.
    """
    radius = np.hypot(layout.ky, layout.kx)
    edges = np.quantile(radius[layout.pilot], np.linspace(0.0, 1.0, 7))
    band = np.clip(np.searchsorted(edges, radius, side="right") - 1, 0, 5)
    llr = np.zeros(layout.payload.shape[0])
    pilot_band = band[layout.pilot]
    payload_band = band[layout.payload]
    payload_values = raw[layout.payload].real
    for b in range(6):
        members = raw[layout.pilot[pilot_band == b]]
        if members.shape[0] < 4:
            continue
        amplitude = max(float(np.mean(members.real)), 0.0)
        noise = float(np.mean(raw[band == b].imag ** 2)) + 1e-12
        chosen = payload_band == b
        llr[chosen] = 2.0 * amplitude * payload_values[chosen] / noise
    return llr


def reference_rotor(layout: Layout) -> npt.NDArray[np.complex128]:
    """Conjugate reference phases of every bin in the folded tile."""
    # A fold cell averages 2 x 2 pixels of the original: its centre sits at x = 2u + 0.5.
    ref_phase = layout.phase + np.pi * (layout.ky + layout.kx) / layout.tile
    rotor: npt.NDArray[np.complex128] = np.exp(-1j * ref_phase)
    return rotor


def bin_values(
    tile: npt.NDArray[np.float64], layout: Layout, flipped: bool
) -> npt.NDArray[np.complex128]:
    """Spectrum of a folded tile at the layout's bins (mirrored when ``flipped``)."""
    ky_i, kx_i, kx_m = _reference(layout, tile.shape[0])
    values: npt.NDArray[np.complex128] = np.fft.fft2(tile)[ky_i, kx_m if flipped else kx_i]
    return values


def aligned_soft(
    values: npt.NDArray[np.complex128],
    layout: Layout,
    flipped: bool,
    offset: tuple[float, float],
    period: int,
) -> npt.NDArray[np.float64]:
    """Payload soft values of bin ``values`` once the shift ``offset`` is undone."""
    kx_ramp = -layout.kx if flipped else layout.kx  # flipping mirrors kx
    phase = 2j * np.pi * (layout.ky * offset[0] + kx_ramp * offset[1]) / period
    raw = values * reference_rotor(layout) * np.exp(phase)  # aligned, amplitudes kept
    return soft_bits(raw, layout)


def windowed_soft(
    tile: npt.NDArray[np.float64],
    filled: npt.NDArray[np.bool_],
    layout: Layout,
    flipped: bool,
    offset: tuple[float, float],
    rounds: int = 6,
    decoded_rounds: int = 3,
) -> npt.NDArray[np.float64]:
    """Payload soft values of a fold that holds only part of a tile, with the cross-talk removed.

    When the picture is smaller than the tile, the fold's empty cells smear every bin into its
    neighbours (over a half-tile window, bins an odd number apart are not orthogonal), so each
    payload value read by ``aligned_soft`` carries part of the pilot and of the other bits. A
    plain least-squares solve does not help: the window holds fewer degrees of freedom than the
    tile has bins. With the shift known, the leakage is a known linear map ``M`` from the bins'
    signed amplitudes to their read values; the pilot's share (signs known) is subtracted, and
    the payload's is cancelled in a few rounds from the current soft estimates of the other bits
    (parallel interference cancellation, damped), then in ``decoded_rounds`` more from the
    nearest codeword's signs (the code corrects most wrong bits, so the cancellation gets
    cleaner; the id read at the end is still checked by its MAC like any other). The noise is
    read from the imaginary parts.
    """
    period = tile.shape[0]
    kx_used = -layout.kx if flipped else layout.kx  # a mirrored clip is read at -kx
    shift = 2.0 * np.pi * (layout.ky * offset[0] + kx_used * offset[1]) / period
    rotor = reference_rotor(layout) * np.exp(1j * shift)  # fft value * rotor = sign * a
    rows, cols = np.nonzero(filled)
    waves = np.exp(2j * np.pi * (np.outer(rows, layout.ky) + np.outer(cols, kx_used)) / period)
    basis = (np.conj(rotor)[None, :] * waves).real  # each bin's cosine on the filled cells
    readout = (np.conj(waves) * rotor[None, :]).T  # filled cells -> aligned bin values
    values = readout @ tile[rows, cols]
    leakage = readout @ basis  # (bins, bins)
    own = np.real(np.diag(leakage))
    pilot, payload = layout.pilot, layout.payload
    signs = np.zeros(layout.ky.shape[0])
    signs[pilot] = 1.0
    llr = np.zeros(layout.ky.shape[0])
    for round_ in range(rounds + decoded_rounds):
        predicted = leakage @ signs
        amplitude = _amplitude(values[pilot], predicted[pilot])
        residual = values - amplitude * predicted
        estimate = residual.real / own + amplitude * signs  # each bin without the others
        noise = float(np.mean((residual.imag / own) ** 2)) + 1e-12
        llr = 2.0 * amplitude * estimate / noise
        if round_ < rounds:
            fresh = np.tanh(np.clip(llr[payload], -40.0, 40.0) / 2.0)
            signs[payload] = fresh if round_ == 0 else 0.5 * (signs[payload] + fresh)
        else:  # the code's own redundancy fixes most wrong signs before the next cancellation
            signs[payload] = _codeword_signs(llr[payload], layout.scramble)
    out: npt.NDArray[np.float64] = llr[payload]
    return out


def _codeword_signs(
    soft: npt.NDArray[np.float64], scramble: npt.NDArray[np.uint8]
) -> npt.NDArray[np.float64]:
    """+-1 signs of the scrambled codeword nearest to ``soft`` (Viterbi, MAC not checked)."""
    flip = 1.0 - 2.0 * scramble.astype(np.float64)
    coded = conv_encode(viterbi_decode(soft * flip)) ^ scramble
    out: npt.NDArray[np.float64] = 1.0 - 2.0 * coded.astype(np.float64)
    return out


def _amplitude(values: npt.NDArray[np.complex128], predicted: npt.NDArray[np.complex128]) -> float:
    """Least-squares signal amplitude of bins read as ``values`` where amplitude 1 reads
    ``predicted`` (never below a tiny positive value: a negative one means no mark)."""
    gain = float(np.sum((np.conj(predicted) * values).real) / np.sum(np.abs(predicted) ** 2))
    return max(gain, 1e-9)


def plain_soft(
    acc: FoldAccumulator, layout: Layout, score: Score
) -> npt.NDArray[np.float64] | None:
    """Soft values read from the plain residual at ``score``'s position (scale 1 only)."""
    if score.hypothesis != (1.0, 0.0) or acc.plain is None:
        return None
    geometry = score.geometry or Geometry.fixed(1.0, 0.0, acc.factor)
    if not geometry.is_identity:
        return None
    period = layout.tile // 2
    values = bin_values(acc.fold(geometry, plain=True, period=period), layout, score.flipped)
    return aligned_soft(values, layout, score.flipped, score.offset, period)


def score_key(
    acc: FoldAccumulator,
    layout: Layout,
    flips: bool,
    geometries: Sequence[Geometry] | None = None,
    runners_up: bool = False,
) -> Score | None:
    """Scan every geometry, flip, sub-pixel offset and cyclic shift for the pilot of ``layout``.

    Args:
        acc: the accumulated clip.
        layout: the key's layout for one tile size.
        flips: also test the mirrored clip.
        geometries: hypotheses to fold at; the listed and the synchronised ones when None.
        runners_up: also fill ``Score.runners_up`` (the best of each other geometry, with its
            soft values): only needed to read an id once a mark is detected.

    Returns:
        The best hypothesis, or None when no fold has enough valid pilot bins. Its ``n_tests``
        counts every hypothesis of every tile size (see ``n_tests``): callers try each tile's
        layout and keep the best.
    """
    if acc.whitened is None:
        return None
    period = layout.tile // 2
    chosen = list(geometries) if geometries is not None else acc.geometries(layout.tile)
    found: list[tuple[Geometry, _Peak]] = []
    partial = min(acc.whitened.shape) * acc.factor < layout.tile  # less than one whole tile
    for geometry in chosen:
        peak = _best_at(acc.fold(geometry, period=period), layout, flips, period, partial)
        if peak is not None:
            found.append((geometry, peak))
    if not found:
        return None
    found.sort(key=lambda item: -item[1].z)
    total = n_tests(acc, flips)
    kept = found if runners_up else found[:1]
    scores = [_score(geometry, peak, layout, period, total) for geometry, peak in kept]
    return replace(scores[0], runners_up=tuple(scores[1:]))


def _score(geometry: Geometry, peak: _Peak, layout: Layout, period: int, total: int) -> Score:
    offset = refine_offset(peak, layout, period)
    soft = aligned_soft(peak.values, layout, peak.flipped, offset, period)
    return Score(
        peak.z,
        geometry.scale,
        (int(peak.offset[0]), int(peak.offset[1])),
        peak.flipped,
        geometry.angle,
        soft,
        total,
        offset,
        geometry,
    )


_FINE = np.linspace(-0.25, 0.25, 9)


def refine_offset(peak: _Peak, layout: Layout, period: int) -> tuple[float, float]:
    """The tile offset (cells) within a quarter cell of the peak's that best aligns the pilot.

    The shift search steps by half cells; the payload is read with the phase ramp of this
    finer offset, so the highest frequencies lose less to a residual sub-cell misalignment.
    """
    pilot = layout.pilot
    magnitude = np.abs(peak.values[pilot])
    unit = peak.values[pilot] / np.maximum(magnitude, 1e-12) * reference_rotor(layout)[pilot]
    kx = (-layout.kx if peak.flipped else layout.kx)[pilot]
    ky = layout.ky[pilot]
    dy = peak.offset[0] + _FINE[:, None, None]
    dx = peak.offset[1] + _FINE[None, :, None]
    phase = 2.0 * np.pi * (ky * dy + kx * dx) / period  # (9, 9, n_pilot)
    score = np.sum((unit * np.exp(1j * phase)).real, axis=-1)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    return (float(peak.offset[0] + _FINE[i]), float(peak.offset[1] + _FINE[j]))


@dataclass(frozen=True)
class _Peak:
    """Best shift of one folded tile: z, flip, offset (cells) and the bin values it came from."""

    z: float
    flipped: bool
    offset: tuple[float, float]
    values: npt.NDArray[np.complex128]


def _best_at(
    tile: npt.NDArray[np.float64], layout: Layout, flips: bool, period: int, partial: bool = False
) -> _Peak | None:
    """Best shift, sub-pixel offset and flip of one folded tile."""
    ky_i, _, _ = _reference(layout, period)
    ref = reference_rotor(layout)
    pilot = layout.pilot
    best: _Peak | None = None
    for flipped in (False, True) if flips else (False,):
        values = bin_values(tile, layout, flipped)
        magnitude = np.abs(values)
        weight = _weights(magnitude, partial)
        unit = np.divide(values, magnitude, out=np.zeros_like(values), where=magnitude > 1e-12)
        aligned = unit * ref * weight  # ~ w * exp(i * linear phase of the shift) when marked
        n_valid = int(np.count_nonzero(magnitude[pilot] > 1e-12))
        if n_valid < 16:
            continue
        sigma = math.sqrt(float(np.sum(weight[pilot] ** 2)) / 2.0)
        # Flipping mirrors kx, so the shift phase ramp runs along -kx.
        kx_ramp = -layout.kx if flipped else layout.kx
        ramps = np.exp(
            2j * np.pi * (np.outer(_SUB_DY, layout.ky) + np.outer(_SUB_DX, kx_ramp)) / period
        )
        grids = np.zeros((len(_SUBPIXEL), period, period), dtype=np.complex128)
        grids[:, ky_i[pilot], kx_ramp[pilot] % period] = aligned[pilot] * ramps[:, pilot]
        corr = _ifft2(grids)
        flat_index = int(np.argmax(corr))
        z = float(corr.flat[flat_index]) * (period * period) / sigma
        if best is None or z > best.z:
            sub, cell = divmod(flat_index, period * period)
            sy, sx = divmod(cell, period)
            dy, dx = _SUBPIXEL[sub]
            best = _Peak(z, flipped, (sy + dy, sx + dx), values)
    return best


def _weights(magnitude: npt.NDArray[np.float64], partial: bool) -> npt.NDArray[np.float64]:
    """Per-bin weights of the correlation, from magnitudes only (never the key's phases).

    Any weights that do not depend on the key keep the statistic a weighted sum of cosines of
    independent uniform phases: mean 0, variance ``sum(w**2) / 2``, sub-Gaussian. Phase-only
    (equal weights) is robust to strong host bins and is used when the frame holds whole tiles.
    When it holds only part of one (``partial``, decided by the frame size alone), the square
    root of the magnitude is used: bins the mark dominates count more, which lifted 64-px clips
    by about half a z (it gave nothing, or a little less, on whole tiles).
    """
    if not partial:
        return (magnitude > 1e-12).astype(np.float64)
    root = np.sqrt(magnitude)
    mean = float(np.mean(root[root > 0])) if np.any(root > 0) else 1.0
    out: npt.NDArray[np.float64] = root / mean
    return out


def _ifft2(grids: npt.NDArray[np.complex128]) -> npt.NDArray[np.float64]:
    """Real part of the inverse 2-D FFT over the last two axes (one call for a stack)."""
    import scipy.fft  # deferred: importing the package stays light

    out: npt.NDArray[np.float64] = scipy.fft.ifft2(grids, axes=(-2, -1), workers=1).real
    return out


def fixed_hypothesis_z(acc: FoldAccumulator, layout: Layout) -> float | None:
    """z of one fixed hypothesis (scale 1, shift (0, 0), no flip): N(0, 1) under the null.

    Used to check the calibration empirically (the benchmark's false-positive run).
    """
    if acc.whitened is None:
        return None
    tile = acc.fold(Geometry.fixed(1.0, 0.0, acc.factor), period=layout.tile // 2)
    values = bin_values(tile, layout, False)[layout.pilot]
    magnitude = np.abs(values)
    valid = magnitude > 1e-12
    if int(np.count_nonzero(valid)) < 16:
        return None
    aligned = values[valid] / magnitude[valid] * reference_rotor(layout)[layout.pilot][valid]
    return float(np.sum(aligned.real) / math.sqrt(np.count_nonzero(valid) / 2.0))


def n_looks(max_frames: int) -> int:
    """Checkpoints at 1, 4, 16, ... frames and at the end: the early-stopping looks to correct
    for. A fourfold step (not twofold) halves the looks: each costs a fold per geometry and a
    lattice search, and an unmarked clip pays for all of them."""
    return (max_frames.bit_length() - 1) // 2 + 2


def p_value(z: float, n_tests: int) -> float:
    """Bonferroni-corrected one-sided normal tail."""
    tail = 0.5 * math.erfc(z / math.sqrt(2.0))
    return min(1.0, tail * n_tests)
