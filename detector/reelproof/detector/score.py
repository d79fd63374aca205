"""``DetectorScore``: the classifier's reading of one clip, light to import.

It crosses into the service's verdict, so it lives apart from the model code: importing it needs
neither scikit-learn nor torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from reelproof.core import Result

DetectorLabel = Literal["synthetic", "real", "inconclusive", "abstain"]
LABELS: tuple[DetectorLabel, ...] = ("synthetic", "real", "inconclusive", "abstain")


@dataclass(frozen=True)
class FaceTrack:
    """One face followed over the sampled frames (face mode).

    Attributes:
        track_id: 0, 1, ... in order of first appearance.
        start_s: time of the first sampled frame showing the face, in seconds.
        end_s: time of the last one, in seconds.
        p_synthetic: calibrated probability that the face was swapped or generated.
        label: "synthetic", "real" or "inconclusive" under the face head's thresholds.
        box: (x, y, width, height) in pixels of the frame: the face in its middle frame.
        frames_used: sampled frames in which the face was found.
        thumbnail_jpeg: a JPEG of the face (at most 96 pixels a side), for reports; JSON
            carries it as hex.
    """

    track_id: int
    start_s: float
    end_s: float
    p_synthetic: float
    label: str
    box: tuple[int, int, int, int]
    frames_used: int
    thumbnail_jpeg: bytes = field(repr=False)


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
            detector abstains (see ``code`` and ``reason``).
        label: "synthetic", "real", "inconclusive" (a score between the thresholds) or
            "abstain" (the clip is outside what the classifier can judge).
        segments: ``Segment(start_s, end_s, p_synthetic)`` per segment, in time order
            (each unpacks as a 3-tuple; JSON shows the named fields).
        frames_used: frames that contributed features.
        model: detector name, version and weights digest.
        reason: why the label is inconclusive or abstain, in words (None otherwise).
        thresholds: (threshold_low, threshold_high) the label was decided with.
        code: machine-readable form of ``reason``: "too_short", "too_small", "flat",
            "static", "slideshow", "panned_still", "heavy_compression" (abstain) or
            "between_thresholds" (inconclusive); None otherwise.
        faces: face tracks (face mode), in order of first appearance; empty when face mode
            is off or no face was found.
    """

    schema = "detector_score"

    p_synthetic: float | None
    label: DetectorLabel
    segments: tuple[Segment, ...]
    frames_used: int
    model: str
    reason: str | None = None
    thresholds: tuple[float, float] = field(default=(0.0, 1.0))
    code: str | None = None
    faces: tuple[FaceTrack, ...] = ()


__all__ = ["LABELS", "DetectorLabel", "DetectorScore", "FaceTrack", "Segment"]
