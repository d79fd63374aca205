"""Held-out splits of the real-generator clips: by family for generated clips, by source for
camera clips, never by frame.

Two protocols:

- ``leave_one_family_out``: for every generator family and every fold of camera sources, a
  light model (the detector's head, no calibration) trains without that family and without
  those sources, and scores that family's clips and those sources' camera clips (originals
  and format controls). Ranking metrics (AUC, TPR at 1%/5% FPR) come from these scores.
- ``grouped_holdout``: K folds, each holding out a share of the families *and* of the camera
  sources; the full detector (calibration, thresholds chosen on its own training folds) is
  fitted on the rest. Calibration (ECE) and the false-positive rate at the "synthetic"
  threshold come from these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.detector.model import ClipDetector, DetectorConfig, _logit
from reelproof.detector.protocol import concat_features
from reelproof.detector.training import VideoFeatures, fit_detector, pool_logits

Log = Callable[[str], None]
HeadFactory = Callable[[], Any]
# Builds the feature sets for one split from the rule that says which clips it may train on
# (the traces backbone trains its CNN there); None: the sets are used as they are.
Prepare = Callable[[Callable[[Any], bool]], dict[str, VideoFeatures]]
# Families per LOFO CNN training: the CNN of a job is trained without the held-out family's
# whole group (stricter than needed, and a fifth of the trainings).
PREPARE_GROUP = 5


@dataclass(frozen=True)
class ClipScore:
    """One held-out clip's score.

    Attributes:
        path: the clip file.
        variant: "orig" or a format control's name.
        label: 1 generated, 0 camera.
        family: generator family ("real" for camera clips).
        source: source id.
        score: the held-out score (a logit for LOFO, a probability for grouped hold-out).
        verdict: the detector's label at its own thresholds (grouped hold-out only).
        held_out: the family the scoring model was trained without (LOFO only; camera clips
            get one score per held-out family, so each family's AUC compares scores of the
            same models).
    """

    path: str
    variant: str
    label: int
    family: str
    source: str
    score: float
    verdict: str = ""
    held_out: str = ""


def _fold_map(keys: Sequence[str], folds: int, seed: int) -> dict[str, int]:
    order = sorted(set(keys))
    np.random.default_rng(seed).shuffle(order)
    return {k: i % folds for i, k in enumerate(order)}


def _keep(feats: VideoFeatures, rule: Callable[[Any], bool]) -> VideoFeatures:
    return feats.subset(rule)


def leave_one_family_out(
    sets: dict[str, VideoFeatures],
    head: HeadFactory,
    extra_train: VideoFeatures | None = None,
    real_folds: int = 4,
    seed: int = 0,
    families: Sequence[str] | None = None,
    log: Log | None = None,
    prepare: Prepare | None = None,
) -> list[ClipScore]:
    """Held-out scores of every generated clip (original only) and every camera clip (all
    variants), from models that never saw the clip's family or source.

    Args:
        sets: "orig" and format-control variants of the shared clips.
        head: builds an unfitted scikit-learn classifier (frame level).
        extra_train: more training clips (the decoder corpus); its real clips whose source
            falls in the held-out fold are left out as well.
        real_folds: folds of camera sources.
        seed: fold assignment.
        families: families to hold out (default: every generated family).
        log: progress sink.
        prepare: per-split features (see ``Prepare``); called once per camera fold and group
            of ``PREPARE_GROUP`` families with a rule that leaves out both.
    """
    from tqdm import tqdm

    all_videos = [v for f in sets.values() for v in f.videos]
    fold_of = _fold_map([v.source for v in all_videos if v.label == 0], real_folds, seed)
    fams = sorted(families or {v.family for v in all_videos if v.label == 1})
    ai_scores: dict[tuple[str, str], list[float]] = {}
    real_scores: list[ClipScore] = []
    jobs = [(k, f) for k in range(real_folds) for f in fams]
    group_of = {f: i // PREPARE_GROUP for i, f in enumerate(fams)}
    prepared: tuple[tuple[int, int], dict[str, VideoFeatures]] | None = None
    base = sets
    for k, family in tqdm(jobs, desc="leave-one-family-out", disable=log is None):
        if prepare is not None:
            key = (k, group_of[family])
            if prepared is None or prepared[0] != key:

                def split_rule(v: Any, k: int = k, g: int = key[1]) -> bool:
                    held = v.label == 1 and group_of.get(v.family, -1) == g
                    return not held and (v.label == 1 or fold_of.get(v.source, -1) != k)

                prepared = (key, prepare(split_rule))
            sets = prepared[1]
        else:
            sets = base

        def train_rule(v: Any, k: int = k, family: str = family) -> bool:
            return v.family != family and (v.label == 1 or fold_of.get(v.source, -1) != k)

        def extra_rule(v: Any, k: int = k) -> bool:
            return fold_of.get(v.source, -1) != k

        parts = [_keep(f, train_rule) for f in sets.values()]
        if extra_train is not None:
            parts.append(_keep(extra_train, extra_rule))
        train = concat_features(parts)
        model = head().fit(train.X, train.y_frames)
        for name, feats in sets.items():

            def test_rule(v: Any, k: int = k, family: str = family, name: str = name) -> bool:
                return (v.family == family and name == "orig") or (
                    v.label == 0 and fold_of.get(v.source, -1) == k
                )

            test = _keep(feats, test_rule)
            if not test.videos:
                continue
            z = _clip_logits(model, test)
            for v, score in zip(test.videos, z, strict=True):
                if v.label == 1:
                    ai_scores.setdefault((str(v.path), v.family), []).append(float(score))
                else:
                    real_scores.append(
                        ClipScore(str(v.path), name, 0, "real", v.source, float(score), "", family)
                    )
    out = [
        ClipScore(path, "orig", 1, family, family, float(np.mean(s)), "", family)
        for (path, family), s in ai_scores.items()
    ]
    return out + real_scores


def _clip_logits(model: Any, feats: VideoFeatures) -> npt.NDArray[np.float64]:
    p = np.asarray(model.predict_proba(feats.X)[:, 1], dtype=np.float64)
    return pool_logits(p, feats.video, len(feats.videos))


def grouped_holdout(
    sets: dict[str, VideoFeatures],
    config: DetectorConfig,
    extra_train: VideoFeatures | None = None,
    folds: int = 4,
    seed: int = 0,
    log: Log | None = None,
    prepare: Prepare | None = None,
) -> tuple[list[ClipScore], list[ClipDetector]]:
    """Calibrated held-out probabilities and labels from the full training pipeline.

    Returns:
        (scores of every held-out clip, original generated clips and all camera variants;
        the fold models).
    """
    all_videos = [v for f in sets.values() for v in f.videos]
    fam_fold = _fold_map([v.family for v in all_videos if v.label == 1], folds, seed)
    src_fold = _fold_map([v.source for v in all_videos if v.label == 0], folds, seed + 1)

    def fold(v: Any) -> int:
        return fam_fold[v.family] if v.label == 1 else src_fold.get(v.source, -1)

    out: list[ClipScore] = []
    models = []
    for k in range(folds):
        if log:
            log(f"grouped hold-out fold {k + 1}/{folds}: fitting the calibrated detector")

        def train_rule(v: Any, k: int = k) -> bool:
            return fold(v) != k

        def extra_rule(v: Any, k: int = k) -> bool:
            return src_fold.get(v.source, -1) != k

        fold_sets = prepare(train_rule) if prepare is not None else sets
        parts = [_keep(f, train_rule) for f in fold_sets.values()]
        if extra_train is not None:
            parts.append(_keep(extra_train, extra_rule))
        det = fit_detector(concat_features(parts), config)
        models.append(det)
        for name, feats in fold_sets.items():

            def test_rule(v: Any, k: int = k, name: str = name) -> bool:
                return fold(v) == k and (v.label == 0 or name == "orig")

            test = _keep(feats, test_rule)
            if not test.videos:
                continue
            frame_p = det.frame_probabilities(test.X)
            for i, v in enumerate(test.videos):
                p = det.pool(frame_p[test.video == i])
                out.append(
                    ClipScore(str(v.path), name, v.label, v.family, v.source, p, det.label_for(p))
                )
    return out, models


def logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Clipped logit (for turning probabilities into ranking scores)."""
    return _logit(p)
