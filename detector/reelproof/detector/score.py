"""``DetectorScore``: the classifier's reading of one clip, light to import.

It crosses into the service's verdict, so it lives apart from the model code: importing it needs
neither scikit-learn nor torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from reelproof.core import Result

DetectorLabel = Literal["synthetic", "real", "inconclusive"]
LABELS: tuple[DetectorLabel, ...] = ("synthetic", "real", "inconclusive")


@dataclass(frozen=True)
class Segment:
    """One time segment's score; unpacks like the tuple ``(start_s, end_s, p_synthetic)``.

    A dataclass rather than a bare tuple so JSON shows named fields.
    """

    start_s: float
    end_s: float
    p_synthetic: float

    def __iter__(self) -> Iterator[float]:
        return iter((self.start_s, self.end_s, self.p_synthetic))

    def __getitem__(self, index: int) -> float:
        return (self.start_s, self.end_s, self.p_synthetic)[index]

    def __len__(self) -> int:
        return 3


@dataclass(frozen=True)
class DetectorScore(Result):
    """The classifier's reading of one clip.

    Attributes:
        p_synthetic: calibrated probability that the clip is synthetic; None when the
            detector could not judge (see ``reason``).
        label: "synthetic", "real" or "inconclusive".
        segments: ``Segment(start_s, end_s, p_synthetic)`` per segment, in time order
            (each unpacks as a 3-tuple; JSON shows the named fields).
        frames_used: frames that contributed features.
        model: detector name, version and weights digest.
        reason: why the label is inconclusive (None otherwise).
        thresholds: (threshold_low, threshold_high) the label was decided with.
    """

    schema = "detector_score"

    p_synthetic: float | None
    label: DetectorLabel
    segments: tuple[Segment, ...]
    frames_used: int
    model: str
    reason: str | None = None
    thresholds: tuple[float, float] = field(default=(0.0, 1.0))


__all__ = ["LABELS", "DetectorLabel", "DetectorScore", "Segment"]
