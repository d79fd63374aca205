"""Evaluate a fitted detector on a labelled folder (``reelproof detector eval``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core import Result
from reelproof.detector.datasets import discover
from reelproof.detector.metrics import BinaryMetrics, binary_metrics
from reelproof.detector.model import ClipDetector
from reelproof.detector.training import (
    VideoFeatures,
    append_clip_vectors,
    clip_vector_of,
    extract_features,
)


@dataclass(frozen=True)
class EvalRow(Result):
    """Metrics of one slice.

    Attributes:
        name: slice name ("video", "frame", "video: <family>").
        metrics: ranking and calibration metrics.
        fpr_at_threshold: share of real items labelled synthetic.
        tpr_at_threshold: share of fake items labelled synthetic.
        inconclusive: share of items in the inconclusive band.
    """

    schema = "detector_eval_row"

    name: str
    metrics: BinaryMetrics
    fpr_at_threshold: float
    tpr_at_threshold: float
    inconclusive: float


@dataclass(frozen=True)
class FolderEvaluation(Result):
    """``reelproof detector eval`` output."""

    schema = "detector_eval"

    root: str
    layout: str
    model: str
    rows: tuple[EvalRow, ...]
    skipped: tuple[tuple[str, str], ...]


def video_scores(
    detector: ClipDetector, feats: VideoFeatures
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(frame p (F,), video p (V,)) of every video in ``feats``."""
    frame_p = detector.frame_probabilities(feats.X)
    video_p = np.array([detector.pool(frame_p[feats.video == i]) for i in range(len(feats.videos))])
    return frame_p, video_p


def threshold_row(
    name: str, detector: ClipDetector, y: npt.NDArray[np.int64], p: npt.NDArray[np.float64]
) -> EvalRow:
    """Metrics plus rates at the detector's thresholds."""
    labels = np.array([detector.label_for(float(v)) for v in p])
    synthetic = labels == "synthetic"
    real, fake = y == 0, y == 1
    return EvalRow(
        name=name,
        metrics=binary_metrics(y, p),
        fpr_at_threshold=float(synthetic[real].mean()) if real.any() else float("nan"),
        tpr_at_threshold=float(synthetic[fake].mean()) if fake.any() else float("nan"),
        inconclusive=float((labels == "inconclusive").mean()),
    )


def evaluate_folder(detector: ClipDetector, root: Path, max_frames: int = 16) -> FolderEvaluation:
    """Score every video under ``root`` and report video-, frame- and per-family metrics."""
    layout, videos = discover(root)
    feats = extract_features(videos, detector.extractor, max_frames, detector.config.min_side)
    if detector.uses_temporal:
        feats = append_clip_vectors(feats, clip_vector_of)
    frame_p, video_p = video_scores(detector, feats)
    yv = feats.y_videos
    rows = [
        threshold_row("video", detector, yv, video_p),
        threshold_row("frame", detector, feats.y_frames, frame_p),
    ]
    families = sorted({v.family for v in feats.videos if v.label == 1})
    if len(families) > 1:
        for family in families:
            keep = np.array([v.label == 0 or v.family == family for v in feats.videos])
            rows.append(threshold_row(f"video: {family}", detector, yv[keep], video_p[keep]))
    return FolderEvaluation(
        root=str(root),
        layout=layout,
        model=detector.model_id,
        rows=tuple(rows),
        skipped=tuple((str(v.path), r) for v, r in feats.skipped),
    )
