"""WatermarkReading: what a detector found in a clip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from reelproof.core.results import Result


@dataclass(frozen=True)
class WatermarkReading(Result):
    """The outcome of watermark detection on one clip.

    Attributes:
        detected: True when ``p_value`` is below the detector's threshold (default 1e-6).
        p_value: probability that an unmarked clip scores at least this high, corrected for every
            hypothesis tried (shifts, scales, flips, looks, keys); 1.0 when nothing was evaluated.
        z: the largest standardised correlation found (N(0, 1) per hypothesis under the null).
        payload: the decoded 64-bit id as 16 hex digits, or None when it is not readable exactly.
        payload_verified: True only when the id's 16-bit keyed check matched.
        frames_used: frames that contributed evidence.
        scale: the clip's scale relative to the marked original at the best hypothesis.
        shift: (dy, dx) cyclic offset of the tile at the best hypothesis (detector pixels).
        key_id: id of the key that matched (or that was tried, when only one was).
        method: watermark method name ("rp-ss", "dwtDct", ...).
        evaluable: False when the clip cannot carry or reveal a mark (too small, flat, empty).
        reason: why the clip is not evaluable, or a note on the reading.
        flipped: True when the best hypothesis is a horizontally mirrored clip.
        hypotheses: number of hypotheses the p-value is corrected for.
        bit_reliability: mean |log-likelihood ratio| of the payload bins at the best hypothesis.
        angle: rotation in degrees of the best hypothesis (measured by the synchronisation).
        aspect: horizontal over vertical scale of the best hypothesis (1: not squeezed).
    """

    schema: ClassVar[str] = "watermark_reading"

    detected: bool
    p_value: float
    z: float
    payload: str | None
    payload_verified: bool
    frames_used: int
    scale: float
    shift: tuple[int, int]
    key_id: str | None
    method: str
    evaluable: bool = True
    reason: str | None = None
    flipped: bool = False
    hypotheses: int = 0
    bit_reliability: float | None = None
    angle: float = 0.0
    aspect: float = 1.0

    @classmethod
    def not_evaluable(
        cls, reason: str, method: str, key_id: str | None = None, frames_used: int = 0
    ) -> WatermarkReading:
        """A reading for a clip that cannot be tested, saying why."""
        return cls(
            detected=False,
            p_value=1.0,
            z=0.0,
            payload=None,
            payload_verified=False,
            frames_used=frames_used,
            scale=1.0,
            shift=(0, 0),
            key_id=key_id,
            method=method,
            evaluable=False,
            reason=reason,
        )
