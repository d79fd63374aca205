"""rp-ss: ReelProof's keyed spread-spectrum video watermark (CPU, numpy only).

Embedding adds a keyed periodic tile (see ``layout``) to R, G and B alike (so only luma changes),
scaled per 16x16 block by a texture mask. Detection folds the high-passed luma of every frame into
one small accumulator per scale hypothesis, then runs a phase-only correlation against the pilot
over every cyclic shift. Under "no mark with this key" the pilot phases are uniform and independent
of the clip, so each hypothesis' statistic is a sum of ``n`` cosines of uniform random phases:
mean 0, variance n/2, sub-Gaussian (``I0(t) <= exp(t^2/4)``). The z-score is therefore N(0, 1) per
hypothesis, and the p-value is Bonferroni-corrected for all shifts, sub-pixel offsets, scales,
flips, looks (early-stopping checkpoints) and keys tried.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from reelproof.core.clip import FrameArray
from reelproof.core.errors import ConfigError, InputError
from reelproof.core.payload import Payload
from reelproof.watermark.base import WATERMARKERS, FrameSource, Watermarker, as_chunks, check_frames
from reelproof.watermark.coding import ID_BITS, decode_payload, encode_payload
from reelproof.watermark.keys import WatermarkKey
from reelproof.watermark.layout import Layout, make_layout, synthesize_tile
from reelproof.watermark.reading import WatermarkReading

METHOD = "rp-ss"
_BLOCK = 16  # mask block size in pixels
_PATTERN_Q = 32  # fixed point of the pattern (int16)
_ALPHA_Q = 16  # fixed point of the block gain (int16); product stays below 2**15
_SUBPIXEL = ((0.0, 0.0), (0.0, 0.5), (0.5, 0.0), (0.5, 0.5))


@dataclass(frozen=True)
class RpSsConfig:
    """Settings of rp-ss (defaults are the benchmarked ones).

    Attributes:
        tile: tile size in pixels (the detector works at half resolution on tile/2).
        r_lo, r_hi: band of tile frequencies used (cycles per tile).
        pilot_weight: amplitude of pilot bins relative to payload bins.
        strength: multiplier of the embedding amplitude (1.0 = default quality).
        base_rms: pattern RMS in 8-bit levels where the texture mask is 1.
        mask_floor, mask_cap: limits of the texture mask (flat areas get ``mask_floor``).
        act_ref: block activity (mean |gradient| at quarter resolution) where the mask is 1.
        min_psnr: per-frame luma PSNR floor (dB); the amplitude is lowered to respect it.
        scales: clip/original scale factors searched by the detector.
        angles: extra rotation hypotheses in degrees (at scale 1), e.g. a grid over +-2 degrees;
            none by default: each angle costs one more fold per frame (see the benchmark).
        search_flip: also test horizontally mirrored clips (cheap: a re-indexing of the spectrum).
        p_threshold: ``detected`` when the corrected p-value is below it.
        max_frames: default frame budget of detection.
    """

    tile: int = 128
    r_lo: float = 3.0
    r_hi: float = 18.0
    pilot_weight: float = 1.0
    strength: float = 1.0
    base_rms: float = 2.4
    mask_floor: float = 0.25
    mask_cap: float = 1.8
    act_ref: float = 10.0
    min_psnr: float = 42.0
    scales: tuple[float, ...] = (1.0, 0.5, 2.0 / 3.0, 0.75, 1.5, 2.0)
    angles: tuple[float, ...] = ()
    search_flip: bool = True
    p_threshold: float = 1e-6
    max_frames: int = 256

    def __post_init__(self) -> None:
        if self.tile % 32 != 0 or self.tile < 64:
            raise ConfigError(f"tile must be a multiple of 32 and >= 64, got {self.tile}")
        if not 0.0 < self.strength <= 4.0:
            raise ConfigError(f"strength must be in (0, 4], got {self.strength}")
        if not self.scales or any(s <= 0.0 for s in self.scales):
            raise ConfigError("scales must be positive")
        if any(abs(a) > 45.0 for a in self.angles):
            raise ConfigError("angles must be within +-45 degrees")

    def hypotheses(self) -> tuple[tuple[float, float], ...]:
        """(scale, angle in degrees) pairs folded by the detector."""
        extra = tuple((1.0, float(a)) for a in self.angles if a != 0.0)
        return tuple((float(s), 0.0) for s in self.scales) + extra
        if not 0.0 < self.p_threshold < 1.0:
            raise ConfigError("p_threshold must be in (0, 1)")
        if self.max_frames < 1:
            raise ConfigError("max_frames must be >= 1")


# ---------------------------------------------------------------------------------------------
# Embedding


@lru_cache(maxsize=8)
def _pattern_for(
    key: WatermarkKey, config: RpSsConfig, id_hex: str, height: int, width: int
) -> npt.NDArray[np.int16]:
    """Tiled pattern for one (key, payload, frame size), fixed point, shape (Hb, 16, Wb * 16)."""
    layout = make_layout(key, config.tile, config.r_lo, config.r_hi)
    id_bits = Payload.from_hex(id_hex, ID_BITS).to_array()
    coded = encode_payload(id_bits, layout.mac_key, layout.scramble)
    tile = synthesize_tile(layout, coded, config.pilot_weight)
    hb, wb = -(-height // _BLOCK), -(-width // _BLOCK)
    reps = (-(-hb * _BLOCK // config.tile), -(-wb * _BLOCK // config.tile))
    full = np.tile(tile, reps)[: hb * _BLOCK, : wb * _BLOCK]
    fixed = np.rint(np.clip(full, -5.0, 5.0) * _PATTERN_Q).astype(np.int16)
    fixed.flags.writeable = False
    return fixed.reshape(hb, _BLOCK, wb * _BLOCK)


def block_activity(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Mean |gradient| of green at quarter resolution per 16x16 block; (ceil(H/16), ceil(W/16))."""
    import cv2  # deferred: importing the package stays light

    height, width = frame.shape[:2]
    hb, wb = -(-height // _BLOCK), -(-width // _BLOCK)
    step = _BLOCK // 4
    quarter = np.ascontiguousarray(frame[::4, ::4, 1])
    # One extra replicated row and column so every block has its forward differences.
    padded = cv2.copyMakeBorder(
        quarter,
        0,
        hb * step + 1 - quarter.shape[0],
        0,
        wb * step + 1 - quarter.shape[1],
        cv2.BORDER_REPLICATE,
    )
    grad = cv2.add(
        cv2.absdiff(padded[:-1, 1:], padded[:-1, :-1]),
        cv2.absdiff(padded[1:, :-1], padded[:-1, :-1]),
        dtype=cv2.CV_16U,
    )
    # Area resampling by exactly `step` is the per-block mean.
    activity = cv2.resize(grad.astype(np.float32), (wb, hb), interpolation=cv2.INTER_AREA)
    return np.asarray(activity, dtype=np.float32).reshape(hb, wb)


# The floor is set from the nominal pattern RMS; over a real frame (partial tiles, the int16
# quantisation of pattern x gain) the measured PSNR can land a few hundredths of a dB below it
# (41.99 dB on the benchmark's synthetic 720p clip), so the floor aims this much higher.
_PSNR_MARGIN_DB = 0.1


def block_gain(frame: npt.NDArray[np.uint8], config: RpSsConfig) -> npt.NDArray[np.float32]:
    """Per-block amplitude (8-bit levels of pattern RMS) from the texture mask and the PSNR floor."""
    act = block_activity(frame)
    mask = np.clip(act / config.act_ref, config.mask_floor, config.mask_cap)
    gain = _box_mean(mask.astype(np.float32), 3) * np.float32(config.base_rms * config.strength)
    target_mse = 255.0**2 / 10.0 ** ((config.min_psnr + _PSNR_MARGIN_DB) / 10.0)
    mse = float(np.mean(gain.astype(np.float64) ** 2)) + 1.0 / 12.0
    if mse > target_mse:
        gain *= np.float32(math.sqrt(max(target_mse - 1.0 / 12.0, 1e-3) / (mse - 1.0 / 12.0)))
    # Clamp so the int16 product pattern * gain cannot overflow.
    clamped: npt.NDArray[np.float32] = np.minimum(
        gain, np.float32(32767 / (5 * _PATTERN_Q * _ALPHA_Q) - 0.1)
    )
    return clamped


_SHIFT = int(math.log2(_PATTERN_Q * _ALPHA_Q))
_OFFSET = 128  # the signed delta travels as uint8 with this offset
_STRIPE_BLOCKS = 8  # rows of 16-pixel blocks marked per pass: the temporaries stay in cache


def embed_frame(
    frame: npt.NDArray[np.uint8],
    pattern4: npt.NDArray[np.int16],
    config: RpSsConfig,
    out: npt.NDArray[np.uint8] | None = None,
) -> npt.NDArray[np.uint8]:
    """Mark one (H, W, 3) uint8 frame with a (Hb, 16, Wp) fixed-point pattern.

    The same delta goes to R, G and B. It is split into its positive and negative parts so that
    the frame is changed by two saturating uint8 passes (OpenCV) rather than widened to int16;
    work proceeds in stripes of block rows so that every temporary stays in the CPU cache.

    Args:
        frame: The frame to mark.
        pattern4: The tiled pattern from ``_pattern_for``.
        config: Strength settings.
        out: Destination (H, W, 3) uint8, may not alias ``frame``; a new array when ``None``.
    """
    import cv2  # deferred: importing the package stays light

    height, width = frame.shape[:2]
    if out is None:
        out = np.empty_like(frame)
    gain = np.rint(block_gain(frame, config) * _ALPHA_Q).astype(np.int16)
    gain_rows = np.repeat(gain, _BLOCK, axis=1)[:, None, :]  # (Hb, 1, Wp): contiguous broadcast
    for b0 in range(0, pattern4.shape[0], _STRIPE_BLOCKS):
        b1 = min(pattern4.shape[0], b0 + _STRIPE_BLOCKS)
        delta = pattern4[b0:b1] * gain_rows[b0:b1]
        delta += 1 << (_SHIFT - 1)  # round half up on the arithmetic shift below
        delta >>= _SHIFT
        delta += _OFFSET
        r0, r1 = b0 * _BLOCK, min(height, b1 * _BLOCK)
        shifted = delta.reshape(-1, pattern4.shape[2])[: r1 - r0, :width].astype(np.uint8)
        # Scalar operands are OpenCV API; its type stubs only list arrays.
        up = cv2.subtract(shifted, _OFFSET)  # type: ignore[call-overload]  # max(delta, 0)
        down = cv2.subtract(_OFFSET, shifted)  # type: ignore[call-overload]  # max(-delta, 0)
        stripe = out[r0:r1]
        cv2.add(frame[r0:r1], cv2.cvtColor(up, cv2.COLOR_GRAY2RGB), dst=stripe)
        cv2.subtract(stripe, cv2.cvtColor(down, cv2.COLOR_GRAY2RGB), dst=stripe)
    return out


# ---------------------------------------------------------------------------------------------
# Detection: key-independent accumulation


_HALF_LUMA_WEIGHTS = np.array([1, 2, 1, 1, 2, 1], dtype=np.float32) / np.float32(16.0)


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


def _box_mean(image: npt.NDArray[np.float32], size: int) -> npt.NDArray[np.float32]:
    """``size`` x ``size`` mean with edge replication, same shape; one helper for the texture
    mask, the high-pass residual and its local spread."""
    import cv2  # deferred: importing the package stays light

    mean = cv2.blur(image, (size, size), borderType=cv2.BORDER_REPLICATE)
    return np.asarray(mean, dtype=np.float32).reshape(image.shape)


_LOCAL_WINDOW = 5  # half-resolution pixels over which the residual's local spread is measured
_LOCAL_FLOOR = 0.25  # floor of the local spread, as a fraction of the frame's mean spread


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
    one instead; it is folded at scale 1 only (see ``StreamDetector``).
    """
    res = luma - _box_mean(luma, 3)
    magnitude = np.abs(res)
    spread = float(np.mean(magnitude))
    if spread < 0.02:  # flat, black or frozen-blank frame: nothing to fold
        return None
    plain = res * np.float32(1.0 / spread)
    np.clip(plain, -4.0, 4.0, out=plain)
    local = _box_mean(magnitude, _LOCAL_WINDOW)
    local += np.float32(_LOCAL_FLOOR * spread)
    res /= local
    res *= np.float32(1.0 / max(float(np.mean(np.abs(res))), 1e-6))
    np.clip(res, -4.0, 4.0, out=res)
    return res, plain


@lru_cache(maxsize=64)
def _fold_index(
    height: int, width: int, period: int, scale: float, angle: float = 0.0
) -> npt.NDArray[np.intp]:
    """Tile cell of every (half-resolution) pixel for a clip scaled by ``scale`` and rotated by
    ``angle`` degrees (about the centre: other centres are translations, which the shift search
    covers); (H*W,) intp."""
    if angle == 0.0:
        ys = np.floor(np.arange(height) / scale + 0.5).astype(np.int64) % period
        xs = np.floor(np.arange(width) / scale + 0.5).astype(np.int64) % period
        index = (ys[:, None] * period + xs[None, :]).ravel().astype(np.intp)
    else:
        theta = math.radians(angle)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
        yy -= height / 2.0
        xx -= width / 2.0
        u = (math.cos(theta) * xx - math.sin(theta) * yy) / scale
        v = (math.sin(theta) * xx + math.cos(theta) * yy) / scale
        us = np.floor(u + 0.5).astype(np.int64) % period
        vs = np.floor(v + 0.5).astype(np.int64) % period
        index = (vs * period + us).ravel().astype(np.intp)
    index.flags.writeable = False
    return index


def _fold_exact(res: npt.NDArray[np.float32], period: int) -> npt.NDArray[np.float64]:
    """Sum of all (period x period) tiles, partial edge tiles included; (period * period,)."""
    height, width = res.shape
    hp, wp = -(-height // period) * period, -(-width // period) * period
    padded = np.zeros((hp, wp), dtype=np.float32)
    padded[:height, :width] = res
    tiles = padded.reshape(hp // period, period, wp // period, period)
    folded: npt.NDArray[np.float64] = tiles.sum(axis=(0, 2), dtype=np.float64).ravel()
    return folded


@lru_cache(maxsize=64)
def _fold_counts(
    height: int, width: int, period: int, scale: float, angle: float = 0.0
) -> npt.NDArray[np.float64]:
    """Pixels folded into each tile cell per frame; (period * period,) float64."""
    index = _fold_index(height, width, period, scale, angle)
    counts = np.bincount(index, minlength=period * period).astype(np.float64)
    counts.flags.writeable = False
    return counts


@dataclass
class FoldAccumulator:
    """Folds frames into one (period x period) accumulator per scale hypothesis.

    Key-independent: one pass over a clip serves every key of a keyring.
    """

    config: RpSsConfig
    sums: dict[tuple[float, float], npt.NDArray[np.float64]] = field(default_factory=dict)
    counts: dict[tuple[float, float], npt.NDArray[np.float64]] = field(default_factory=dict)
    plain_sum: npt.NDArray[np.float64] | None = None  # fold of the plain residual, scale 1
    frames_seen: int = 0
    frames_used: int = 0
    too_small: bool = False

    @property
    def period(self) -> int:
        return self.config.tile // 2

    def add_frame(self, frame: npt.NDArray[np.uint8]) -> None:
        """Fold one (H, W, 3) uint8 frame."""
        self.frames_seen += 1
        if min(frame.shape[0], frame.shape[1]) < self.config.tile:
            self.too_small = True
            return
        pair = residuals(half_luma(frame))
        if pair is None:
            return
        res, plain = pair
        self.frames_used += 1
        plain_total = _fold_exact(plain, self.period)
        if self.plain_sum is None:
            self.plain_sum = plain_total
        else:
            self.plain_sum += plain_total
        flat = res.ravel()
        cells = self.period * self.period
        for hypothesis in self.config.hypotheses():
            scale, angle = hypothesis
            if scale == 1.0 and angle == 0.0:
                total = _fold_exact(res, self.period)
            else:
                index = _fold_index(res.shape[0], res.shape[1], self.period, scale, angle)
                total = np.bincount(index, weights=flat, minlength=cells).astype(np.float64)
            count = _fold_counts(res.shape[0], res.shape[1], self.period, scale, angle)
            if hypothesis in self.sums:
                self.sums[hypothesis] += total
                self.counts[hypothesis] += count
            else:
                self.sums[hypothesis] = total
                self.counts[hypothesis] = count.copy()

    def tile(self, hypothesis: tuple[float, float], plain: bool = False) -> npt.NDArray[np.float64]:
        """Mean-folded tile for one (scale, angle); (period, period) float64, zero mean.

        ``plain`` selects the fold of the plain residual, which exists at scale 1 only.
        """
        counts = self.counts[hypothesis]
        sums = self.sums[hypothesis]
        if plain:
            if hypothesis != (1.0, 0.0) or self.plain_sum is None:
                raise ValueError("the plain residual is folded at scale 1 without rotation only")
            sums = self.plain_sum
        mean = np.divide(sums, counts, out=np.zeros_like(counts), where=counts > 0)
        tile: npt.NDArray[np.float64] = mean.reshape(self.period, self.period)
        centred: npt.NDArray[np.float64] = tile - tile.mean()
        return centred


# ---------------------------------------------------------------------------------------------
# Detection: keyed scoring


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

    @property
    def hypothesis(self) -> tuple[float, float]:
        return (self.scale, self.angle)


def _reference(layout: Layout) -> tuple[npt.NDArray[np.int64], ...]:
    """Half-resolution bin coordinates and reference phases of the layout."""
    period = layout.tile // 2
    ky = layout.ky % period
    kx = layout.kx % period
    kx_mirror = (-layout.kx) % period
    return ky, kx, kx_mirror


def _soft_bits(raw: npt.NDArray[np.complex128], layout: Layout) -> npt.NDArray[np.float64]:
    """Log-likelihood ratios of the payload bins (maximal-ratio weighting per radial band).

    At the right shift the pilot bins read ``a + noise``: their real parts estimate the signal
    amplitude ``a`` and their imaginary parts the noise variance of each frequency band, so a bin
    whose band is drowned by the host counts less than a clean one.
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
        noise = float(np.mean(members.imag**2)) + 1e-12
        chosen = payload_band == b
        llr[chosen] = 2.0 * amplitude * payload_values[chosen] / noise
    return llr


def _reference_rotor(layout: Layout) -> npt.NDArray[np.complex128]:
    """Conjugate reference phases of every bin at half resolution."""
    # 2x2 averaging samples the full-resolution tile at x = 2u + 0.5: a fixed phase offset.
    ref_phase = layout.phase + np.pi * (layout.ky + layout.kx) / layout.tile
    rotor: npt.NDArray[np.complex128] = np.exp(-1j * ref_phase)
    return rotor


def _bin_values(
    tile: npt.NDArray[np.float64], layout: Layout, flipped: bool
) -> npt.NDArray[np.complex128]:
    """Spectrum of a folded tile at the layout's bins (mirrored when ``flipped``)."""
    ky_i, kx_i, kx_m = _reference(layout)
    values: npt.NDArray[np.complex128] = np.fft.fft2(tile)[ky_i, kx_m if flipped else kx_i]
    return values


def _aligned_soft(
    values: npt.NDArray[np.complex128],
    layout: Layout,
    flipped: bool,
    offset: tuple[float, float],
) -> npt.NDArray[np.float64]:
    """Payload soft values of bin ``values`` once the shift ``offset`` is undone."""
    period = layout.tile // 2
    kx_ramp = -layout.kx if flipped else layout.kx  # flipping mirrors kx
    phase = 2j * np.pi * (layout.ky * offset[0] + kx_ramp * offset[1]) / period
    raw = values * _reference_rotor(layout) * np.exp(phase)  # aligned, amplitudes kept
    return _soft_bits(raw, layout)


def plain_soft(
    acc: FoldAccumulator, layout: Layout, score: Score
) -> npt.NDArray[np.float64] | None:
    """Soft values read from the plain residual at ``score``'s position (scale 1 only)."""
    if score.hypothesis != (1.0, 0.0) or acc.plain_sum is None:
        return None
    values = _bin_values(acc.tile(score.hypothesis, plain=True), layout, score.flipped)
    return _aligned_soft(values, layout, score.flipped, score.offset)


def score_key(acc: FoldAccumulator, layout: Layout, flips: bool) -> Score | None:
    """Scan every scale, flip, sub-pixel offset and cyclic shift for the pilot of ``layout``."""
    period = acc.period
    ky_i, _, _ = _reference(layout)
    ref = _reference_rotor(layout)
    pilot = layout.pilot
    best: Score | None = None
    n_tests = 0
    for hypothesis in acc.config.hypotheses():
        if hypothesis not in acc.sums:
            continue
        scale, angle = hypothesis
        tile = acc.tile(hypothesis)
        for flipped in (False, True) if flips else (False,):
            values = _bin_values(tile, layout, flipped)
            magnitude = np.abs(values)
            unit = np.divide(values, magnitude, out=np.zeros_like(values), where=magnitude > 1e-12)
            aligned = unit * ref  # ~ exp(i * linear phase of the shift) when marked
            n_valid = int(np.count_nonzero(magnitude[pilot] > 1e-12))
            if n_valid < 16:
                continue
            sigma = math.sqrt(n_valid / 2.0)
            # Flipping mirrors kx, so the shift phase ramp runs along -kx.
            kx_ramp = -layout.kx if flipped else layout.kx
            for dy, dx in _SUBPIXEL:
                n_tests += period * period
                ramp = np.exp(2j * np.pi * (layout.ky * dy + kx_ramp * dx) / period)
                grid = np.zeros((period, period), dtype=np.complex128)
                grid[ky_i[pilot], kx_ramp[pilot] % period] = aligned[pilot] * ramp[pilot]
                corr = np.fft.ifft2(grid).real * (period * period)
                flat_index = int(np.argmax(corr))
                z = float(corr.flat[flat_index]) / sigma
                if best is None or z > best.z:
                    sy, sx = divmod(flat_index, period)
                    offset = (sy + dy, sx + dx)
                    soft = _aligned_soft(values, layout, flipped, offset)
                    best = Score(z, scale, (sy, sx), flipped, angle, soft, 0, offset)
    if best is None:
        return None
    return replace(best, n_tests=n_tests)


def fixed_hypothesis_z(acc: FoldAccumulator, layout: Layout) -> float | None:
    """z of one fixed hypothesis (scale 1, shift (0, 0), no flip): N(0, 1) under the null.

    Used to check the calibration empirically (the benchmark's false-positive run).
    """
    if (1.0, 0.0) not in acc.sums:
        return None
    values = _bin_values(acc.tile((1.0, 0.0)), layout, False)[layout.pilot]
    magnitude = np.abs(values)
    valid = magnitude > 1e-12
    if int(np.count_nonzero(valid)) < 16:
        return None
    aligned = values[valid] / magnitude[valid] * _reference_rotor(layout)[layout.pilot][valid]
    return float(np.sum(aligned.real) / math.sqrt(np.count_nonzero(valid) / 2.0))


def n_looks(max_frames: int) -> int:
    """Checkpoints at 1, 2, 4, ... frames and at the end: the early-stopping looks to correct for."""
    return max_frames.bit_length() + 1


def p_value(z: float, n_tests: int) -> float:
    """Bonferroni-corrected one-sided normal tail."""
    tail = 0.5 * math.erfc(z / math.sqrt(2.0))
    return min(1.0, tail * n_tests)


class StreamDetector:
    """Accumulates frames and scores one or several keys at checkpoints (1, 2, 4, ... frames).

    Args:
        keys: keys to test (the p-value is corrected for their number).
        config: rp-ss settings.
        max_frames: frame budget (``config.max_frames`` when None).
    """

    def __init__(
        self, keys: Sequence[WatermarkKey], config: RpSsConfig, max_frames: int | None = None
    ) -> None:
        if not keys:
            raise ConfigError("detection needs at least one watermark key")
        self.keys = list(keys)
        self.config = config
        self.max_frames = max_frames if max_frames is not None else config.max_frames
        if self.max_frames < 1:
            raise InputError("max_frames must be >= 1")
        self.acc = FoldAccumulator(config)
        self.layouts = [make_layout(k, config.tile, config.r_lo, config.r_hi) for k in self.keys]
        self._next_look = 1
        self._reading: WatermarkReading | None = None
        self.done = False

    def update(self, frames: FrameArray) -> bool:
        """Fold (n, H, W, 3) uint8 frames; returns True once the reading is settled."""
        check_frames(frames)
        for frame in frames:
            if self.done:
                break
            self.acc.add_frame(frame)
            if self.acc.frames_seen >= self.max_frames or self.acc.too_small:
                self.done = True  # budget spent, or frames smaller than the tile (size is fixed)
            if self.acc.frames_used >= self._next_look:
                self._next_look *= 2
                self._look()
        return self.done

    def _look(self) -> None:
        reading = self._evaluate()
        self._reading = reading
        if reading.detected and reading.payload_verified:
            self.done = True

    def _evaluate(self) -> WatermarkReading:
        n_keys = len(self.keys)
        key_id = self.keys[0].key_id if n_keys == 1 else None
        if self.acc.frames_used == 0:
            if self.acc.too_small:
                reason = f"clip smaller than the {self.config.tile}-px tile"
            elif self.acc.frames_seen == 0:
                reason = "no frames"
            else:
                reason = "flat or black video: no texture to carry or reveal a mark"
            return WatermarkReading.not_evaluable(reason, METHOD, key_id, 0)
        best_reading: WatermarkReading | None = None
        for key, layout in zip(self.keys, self.layouts, strict=True):
            score = score_key(self.acc, layout, self.config.search_flip)
            if score is None:
                continue
            n_tests = score.n_tests * n_looks(self.max_frames) * n_keys
            p = p_value(score.z, n_tests)
            detected = p < self.config.p_threshold
            payload_hex: str | None = None
            soft = score.soft
            if detected:
                payload_hex, soft = self._read_payload(layout, score)
            reading = WatermarkReading(
                detected=detected,
                p_value=p,
                z=score.z,
                payload=payload_hex,
                payload_verified=payload_hex is not None,
                frames_used=self.acc.frames_used,
                scale=score.scale,
                shift=score.shift,
                key_id=key.key_id if (detected or n_keys == 1) else None,
                method=METHOD,
                flipped=score.flipped,
                angle=score.angle,
                hypotheses=n_tests,
                bit_reliability=float(np.mean(np.abs(soft))),
            )
            if best_reading is None or _better(reading, best_reading):
                best_reading = reading
        if best_reading is None:
            return WatermarkReading.not_evaluable(
                "too little usable signal in the clip", METHOD, key_id, self.acc.frames_used
            )
        return best_reading

    def _read_payload(
        self, layout: Layout, score: Score
    ) -> tuple[str | None, npt.NDArray[np.float64]]:
        """(payload hex or None, the soft values it came from) at a detected position.

        The whitened residual is read first, then the plain one (scale 1 only). Each read is
        checked by the 16-bit MAC, so trying two readings makes a wrong id pass with probability
        about 2 * 2**-16 instead of 2**-16, and only once a mark was already detected.
        """
        candidates = [score.soft]
        plain = plain_soft(self.acc, layout, score)
        if plain is not None:
            candidates.append(plain)
        for soft in candidates:
            id_bits = decode_payload(soft, layout.mac_key, layout.scramble)
            if id_bits is not None:
                return Payload.from_array(id_bits).to_hex(), soft
        return None, score.soft

    def reading(self) -> WatermarkReading:
        """The reading so far (scores the latest frames if no checkpoint covered them)."""
        if self._reading is None or self._reading.frames_used != self.acc.frames_used:
            self._reading = self._evaluate()
        return self._reading


def _better(a: WatermarkReading, b: WatermarkReading) -> bool:
    return (a.payload_verified, a.detected, a.z) > (b.payload_verified, b.detected, b.z)


# ---------------------------------------------------------------------------------------------
# The watermarker


class RpSsWatermarker(Watermarker):
    """ReelProof spread spectrum: keyed periodic tile, texture mask, phase-only detection.

    Args:
        key: watermark key (public demo key when None).
        config: settings; individual fields may also be given as keyword arguments.
    """

    name = METHOD

    @property
    def min_side(self) -> int:
        """Frames need at least one whole tile on each side."""
        return self.config.tile

    def __init__(
        self, key: WatermarkKey | None = None, config: RpSsConfig | None = None, **overrides: object
    ) -> None:
        super().__init__(key)
        base = config if config is not None else RpSsConfig()
        if overrides:
            try:
                base = RpSsConfig(**{**base.__dict__, **overrides})
            except TypeError as err:
                raise ConfigError(f"unknown rp-ss option: {err}") from None
        self.config = base

    def embed(self, frames: FrameArray, payload: Payload) -> FrameArray:
        """Mark (T, H, W, 3) uint8 RGB frames with a 64-bit payload; returns (T, H, W, 3) uint8."""
        check_frames(frames)
        pattern = self._pattern(payload, frames.shape[1], frames.shape[2])
        out = np.empty_like(frames)
        for index in range(frames.shape[0]):
            embed_frame(frames[index], pattern, self.config, out=out[index])
        return out

    def embed_stream(self, chunks: Iterable[FrameArray], payload: Payload) -> Iterator[FrameArray]:
        """Mark a stream of (n, H, W, 3) uint8 chunks."""
        for chunk in as_chunks(chunks):
            yield self.embed(chunk, payload)

    def _pattern(self, payload: Payload, height: int, width: int) -> npt.NDArray[np.int16]:
        if len(payload) != ID_BITS:
            raise InputError(
                f"rp-ss carries a {ID_BITS}-bit id, got {len(payload)} bits",
                hint="use Payload.random(64) or 16 hex digits",
            )
        return _pattern_for(self.key, self.config, payload.to_hex(), height, width)

    def stream_detector(
        self, keys: Sequence[WatermarkKey] | None = None, max_frames: int | None = None
    ) -> StreamDetector:
        """A detector to feed chunk by chunk (``update``) and read (``reading``)."""
        return StreamDetector(list(keys) if keys else [self.key], self.config, max_frames)

    def detect(self, frames: FrameSource, max_frames: int | None = None) -> WatermarkReading:
        """Detect this key's mark in a (T, H, W, 3) array or an iterable of chunks."""
        detector = self.stream_detector(max_frames=max_frames)
        for chunk in as_chunks(frames):
            if detector.update(chunk):
                break
        return detector.reading()


@WATERMARKERS.register("rp-ss")
def _make_rpss(key: WatermarkKey | None = None, **config: object) -> Watermarker:
    """ReelProof spread spectrum (keyed tile, calibrated p-value, 64-bit id; CPU, numpy)."""
    return RpSsWatermarker(key, None, **config)
