"""rp-ss: ReelProof's keyed spread-spectrum video watermark (CPU, numpy only).

Embedding (``embedding``) adds a keyed periodic tile to R, G and B alike, scaled per 16x16 block
by a texture mask. Detection sums the frames' high-pass luma residuals (``accumulate``), measures
the tile's lattice in the sum's spectrum without the key (``sync``: scale 0.4-2.5x, rotation,
squeeze, any offset), folds the sum at the listed and the measured geometries and runs a
phase-only correlation with each key's pilot over every cyclic shift (``scoring``). The p-value
is Bonferroni-corrected for all shifts, sub-pixel offsets, geometries, flips, looks and keys; the
key-independent search costs only the number of candidates it hands over.

This module holds the streaming detector with its sequential stopping rules and the
``Watermarker`` registered as "rp-ss"; the names the rest of the project imports from here are
re-exported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from reelproof.core.clip import FrameArray
from reelproof.core.errors import ConfigError, InputError
from reelproof.core.payload import Payload
from reelproof.watermark.accumulate import FoldAccumulator, half_luma, residuals
from reelproof.watermark.base import WATERMARKERS, FrameSource, Watermarker, as_chunks, check_frames
from reelproof.watermark.coding import ID_BITS, decode_payload
from reelproof.watermark.config import MIN_SIDE, RpSsConfig
from reelproof.watermark.embedding import block_activity, block_gain, embed_frame, pattern_for
from reelproof.watermark.geometry import Geometry
from reelproof.watermark.keys import WatermarkKey
from reelproof.watermark.layout import Layout, make_layout
from reelproof.watermark.reading import WatermarkReading
from reelproof.watermark.scoring import (
    Score,
    fixed_hypothesis_z,
    n_looks,
    p_value,
    plain_soft,
    score_key,
    windowed_soft,
)

__all__ = [
    "METHOD",
    "FoldAccumulator",
    "RpSsConfig",
    "RpSsWatermarker",
    "Score",
    "StreamDetector",
    "block_activity",
    "block_gain",
    "embed_frame",
    "fixed_hypothesis_z",
    "futility_boundary",
    "half_luma",
    "n_looks",
    "p_value",
    "plain_soft",
    "residuals",
    "score_key",
    "z_threshold",
]

METHOD = "rp-ss"
_LOOK_RATIO = 4  # checkpoints at 1, 4, 16, 64, ... frames (see ``scoring.n_looks``)
_EXTRA_READS = 3  # further geometries the id is read at once a mark is detected


def z_threshold(p_threshold: float, n_tests: int) -> float:
    """The z a hypothesis needs for ``p_value(z, n_tests) < p_threshold``."""
    lo, hi = 0.0, 40.0
    for _ in range(60):  # bisection on the monotone tail
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if p_value(mid, n_tests) >= p_threshold else (lo, mid)
    return hi


def futility_boundary(frames: int, budget: int, z_needed: float, beta: float) -> float:
    """Largest best-z at which a look after ``frames`` frames may give up (sequential test).

    Model: at the true hypothesis of a marked clip, each frame adds an independent unit-variance
    increment of mean ``mu`` to ``S_n = z_n * sqrt(n)``. The weakest mark the frame ``budget``
    can reveal has ``mu_min = z_needed / sqrt(budget)``. For any ``mu >= mu_min`` the process
    ``exp(-mu_min * S_n + n * mu_min**2 / 2)`` is a non-negative supermartingale starting at 1,
    so by Ville's inequality it ever exceeds ``1 / beta`` with probability at most ``beta``;
    that event is ``z_n <= mu_min * sqrt(n) / 2 - ln(1 / beta) / (mu_min * sqrt(n))``. The best
    z over all hypotheses is never below the true one, so giving up whenever the best z is under
    this boundary loses such a mark with probability at most ``beta``, over all looks together.
    Unmarked clips keep their best z near the null maximum (about 4.5 here), so the rule ends
    them only where a minimal mark would have been found anyway; it is a guarantee, not a speed-up.
    """
    if beta <= 0.0 or frames < 1 or budget < 1:
        return -math.inf
    mu_min = z_needed / math.sqrt(budget)
    root = mu_min * math.sqrt(frames)
    return root / 2.0 - math.log(1.0 / beta) / root


class StreamDetector:
    """Accumulates frames and scores one or several keys at checkpoints (1, 4, 16, ... frames).

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
        # One layout per key and tile size; ``layouts`` keeps the small tile's, key by key.
        self.tile_layouts = [
            [make_layout(k, t, config.r_lo, config.r_hi) for t in config.tiles()] for k in self.keys
        ]
        self.layouts = [per_key[0] for per_key in self.tile_layouts]
        self._next_look = 1
        self._reading: WatermarkReading | None = None
        self._gave_up = False
        self.done = False

    def update(self, frames: FrameArray) -> bool:
        """Fold (n, H, W, 3) uint8 RGB frames; returns True once the reading is settled."""
        check_frames(frames)
        for frame in frames:
            if self.done:
                break
            self.acc.add_frame(frame)
            self._after_frame()
        return self.done

    def update_luma(self, plane: npt.NDArray[np.uint8]) -> bool:
        """Fold one decoded (H, W) uint8 luma plane; returns True once the reading is settled."""
        if plane.ndim != 2 or plane.dtype != np.uint8:
            raise InputError(f"a luma plane must be (H, W) uint8, got {plane.shape} {plane.dtype}")
        if not self.done:
            self.acc.add_luma(plane)
            self._after_frame()
        return self.done

    def _after_frame(self) -> None:
        if self.acc.frames_seen >= self.max_frames or self.acc.too_small:
            self.done = True  # budget spent, or frames too small to carry the tile
        if self.acc.frames_used >= self._next_look:
            self._next_look *= _LOOK_RATIO
            self._look()

    def _look(self) -> None:
        reading = self._evaluate(fresh=False)
        self._reading = reading
        if reading.detected and reading.payload_verified:
            self.done = True
        elif not reading.detected and reading.evaluable and self._futile(reading):
            self._gave_up = True
            self.done = True

    def _futile(self, reading: WatermarkReading) -> bool:
        """Sequential early stop for clips the remaining budget cannot reveal a mark in."""
        if reading.hypotheses <= 0:
            return False
        needed = z_threshold(self.config.p_threshold, reading.hypotheses)
        bound = futility_boundary(
            self.acc.frames_used, self.max_frames, needed, self.config.futility_beta
        )
        return reading.z < bound

    def _evaluate(self, fresh: bool = True) -> WatermarkReading:
        n_keys = len(self.keys)
        key_id = self.keys[0].key_id if n_keys == 1 else None
        if self.acc.frames_used == 0:
            if self.acc.too_small:
                reason = f"frames smaller than {MIN_SIDE} px cannot carry the mark's tile"
            elif self.acc.frames_seen == 0:
                reason = "no frames"
            else:
                reason = "flat or black video: no texture to carry or reveal a mark"
            return WatermarkReading.not_evaluable(reason, METHOD, key_id, 0)
        # Key-independent: the geometries of each tile size are shared by all keys.
        geometries = {t: self.acc.geometries(t, fresh) for t in self.acc.tiles()}
        best_reading: WatermarkReading | None = None
        for key, layouts in zip(self.keys, self.tile_layouts, strict=True):
            for layout in layouts:
                if layout.tile not in geometries:
                    continue
                score = score_key(
                    self.acc, layout, self.config.search_flip, geometries[layout.tile]
                )
                if score is None:
                    continue
                reading = self._reading_for(key, layout, score, n_keys, geometries[layout.tile])
                if best_reading is None or _better(reading, best_reading):
                    best_reading = reading
        if best_reading is None:
            return WatermarkReading.not_evaluable(
                "too little usable signal in the clip", METHOD, key_id, self.acc.frames_used
            )
        return best_reading

    def _reading_for(
        self,
        key: WatermarkKey,
        layout: Layout,
        score: Score,
        n_keys: int,
        geometries: list[Geometry],
    ) -> WatermarkReading:
        n_tests = score.n_tests * n_looks(self.max_frames) * n_keys
        p = p_value(score.z, n_tests)
        detected = p < self.config.p_threshold
        payload_hex: str | None = None
        soft = score.soft
        best = score
        if detected:
            # The id is read at the best geometry, then at other geometries that are
            # significant on their own (a re-post measured two ways: e.g. the listed scale 1 and
            # a measured 0.999). Each read is checked by the 16-bit MAC; see ``_read_payload``.
            payload_hex, soft = self._read_payload(layout, score)
            if payload_hex is None:
                full = score_key(self.acc, layout, self.config.search_flip, geometries, True)
                others = full.runners_up if full is not None else ()
                significant = [r for r in others if p_value(r.z, n_tests) < 1e-3]
                for candidate in significant[:_EXTRA_READS]:
                    payload_hex, soft = self._read_payload(layout, candidate)
                    if payload_hex is not None:
                        best = candidate
                        break
            if payload_hex is None:
                soft = score.soft
        geometry = best.geometry
        return WatermarkReading(
            detected=detected,
            p_value=p,
            z=score.z,
            payload=payload_hex,
            payload_verified=payload_hex is not None,
            frames_used=self.acc.frames_used,
            scale=best.scale,
            shift=best.shift,
            key_id=key.key_id if (detected or n_keys == 1) else None,
            method=METHOD,
            flipped=best.flipped,
            angle=best.angle,
            hypotheses=n_tests,
            bit_reliability=float(np.mean(np.abs(soft))),
            aspect=geometry.aspect if geometry is not None else 1.0,
        )

    def _read_payload(
        self, layout: Layout, score: Score
    ) -> tuple[str | None, npt.NDArray[np.float64]]:
        """(payload hex or None, the soft values it came from) at a detected position.

        The whitened residual is read first, then the plain one (scale 1 only); each with its
        soft values and then with their signs alone (equal weights: when the per-band weights
        are misjudged at low signal, plain decisions still read ids the weighted ones lose).
        Pictures smaller than the tile then get the cross-talk-cancelling reads of both
        residuals (``_windowed_reads``, soft values only). Each read is checked by the 16-bit
        MAC, so a wrong id passes with probability at most 2**-16 per read, and reads happen
        only once a mark is detected: at most 4 here (6 under 128 px), and at most 16 (24)
        with the other significant geometries (``_EXTRA_READS``): 2.4e-4 (3.7e-4).
        """
        residuals = [score.soft]
        plain = plain_soft(self.acc, layout, score)
        if plain is not None:
            residuals.append(plain)
        attempts = [(values, soft) for values in residuals for soft in (values, np.sign(values))]
        attempts += [(values, values) for values in self._windowed_reads(layout, score)]
        for values, soft in attempts:
            id_bits = decode_payload(soft, layout.mac_key, layout.scramble)
            if id_bits is not None:
                return Payload.from_array(id_bits).to_hex(), values
        return None, score.soft

    def _windowed_reads(self, layout: Layout, score: Score) -> list[npt.NDArray[np.float64]]:
        """Cross-talk-cancelled soft values of both residuals when the picture holds only part
        of a tile (see ``windowed_soft``); none for larger pictures, whose folds are whole."""
        image = self.acc.whitened
        if image is None or min(image.shape) * self.acc.factor >= layout.tile:
            return []
        period = layout.tile // 2
        geometry = score.geometry or Geometry.fixed(1.0, 0.0, self.acc.factor)
        filled = self.acc.filled(geometry, period)
        reads = [windowed_soft(self.acc.fold(geometry, period=period), filled, layout,
                               score.flipped, score.offset)]  # fmt: skip
        if geometry.is_identity and self.acc.plain is not None:
            plain = self.acc.fold(geometry, plain=True, period=period)
            reads.append(windowed_soft(plain, filled, layout, score.flipped, score.offset))
        return reads

    def reading(self) -> WatermarkReading:
        """The reading so far (scores the latest frames if no checkpoint covered them)."""
        if self._reading is None or self._reading.frames_used != self.acc.frames_used:
            self._reading = self._evaluate()
        reading = self._reading
        if self._gave_up and not reading.detected and reading.reason is None:
            note = (
                f"stopped after {reading.frames_used} frames: the sequential test found too "
                "little evidence for the frame budget to reveal a mark"
            )
            reading = WatermarkReading(**{**reading.__dict__, "reason": note})
        return reading


def _better(a: WatermarkReading, b: WatermarkReading) -> bool:
    return (a.payload_verified, a.detected, a.z) > (b.payload_verified, b.detected, b.z)


class RpSsWatermarker(Watermarker):
    """ReelProof spread spectrum: keyed periodic tile, texture mask, phase-only detection.

    Args:
        key: watermark key (public demo key when None).
        config: settings; individual fields may also be given as keyword arguments.
    """

    name = METHOD

    @property
    def min_side(self) -> int:
        """Frames down to 64 px a side are marked and read (smaller ones hold a cropped tile)."""
        return MIN_SIDE

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
        if min(height, width) < MIN_SIDE:
            raise InputError(
                f"{width}x{height} frames are too small for rp-ss (at least {MIN_SIDE} px a side)",
                hint=f"mark videos or pictures of {MIN_SIDE}x{MIN_SIDE} pixels or more",
            )
        return pattern_for(self.key, self.config, payload.to_hex(), height, width)

    def stream_detector(
        self, keys: Sequence[WatermarkKey] | None = None, max_frames: int | None = None
    ) -> StreamDetector:
        """A detector to feed chunk by chunk (``update``) and read (``reading``)."""
        return StreamDetector(list(keys) if keys else [self.key], self.config, max_frames)

    def detect(self, frames: FrameSource, max_frames: int | None = None) -> WatermarkReading:
        """Detect this key's mark in a (T, H, W, 3) array or an iterable of chunks.

        For an array the frame budget is at most its length, known before anything is read,
        so the p-value counts only the checkpoints that can happen.
        """
        if isinstance(frames, np.ndarray) and frames.ndim == 4:
            budget = max_frames if max_frames is not None else self.config.max_frames
            max_frames = max(1, min(budget, frames.shape[0]))
        detector = self.stream_detector(max_frames=max_frames)
        for chunk in as_chunks(frames):
            if detector.update(chunk):
                break
        return detector.reading()


@WATERMARKERS.register("rp-ss")
def _make_rpss(key: WatermarkKey | None = None, **config: object) -> Watermarker:
    """ReelProof spread spectrum (keyed tile, calibrated p-value, 64-bit id; CPU, numpy)."""
    return RpSsWatermarker(key, None, **config)
