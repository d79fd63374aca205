"""Held-out splits with per-split features (the traces CNN's hook): every split's training rule
leaves out the family and the camera sources it scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from reelproof.detector.datasets import LabeledVideo
from reelproof.detector.heads import create_head
from reelproof.detector.model import DetectorConfig
from reelproof.detector.training import VideoFeatures
from reelproof.eval.detector_splits import grouped_holdout, leave_one_family_out

FAMILIES = [f"fam{i}" for i in range(7)]
SOURCES = [f"cam{i}" for i in range(4)]


def _sets() -> dict[str, VideoFeatures]:
    """Two clips per family and per camera source, 3 frames each; feature 0 carries the label."""
    rng = np.random.default_rng(0)
    videos = [LabeledVideo(Path(f"{f}_{i}.mp4"), 1, f, f) for f in FAMILIES for i in range(2)] + [
        LabeledVideo(Path(f"{s}_{i}.mp4"), 0, "real", s) for s in SOURCES for i in range(2)
    ]
    video = np.repeat(np.arange(len(videos)), 3)
    labels = np.array([v.label for v in videos])[video]
    x = rng.normal(size=(len(video), 4)).astype(np.float32)
    x[:, 0] += 1.5 * labels
    return {"orig": VideoFeatures(X=x, video=video, videos=tuple(videos))}


def _head() -> Any:
    return create_head("logistic")


def test_lofo_prepare_trains_without_the_held_out_family_group_and_sources() -> None:
    sets = _sets()
    videos = sets["orig"].videos
    calls: list[tuple[set[str], set[str]]] = []

    def prepare(rule: Any) -> dict[str, VideoFeatures]:
        dropped_families = {v.family for v in videos if v.label == 1 and not rule(v)}
        dropped_sources = {v.source for v in videos if v.label == 0 and not rule(v)}
        calls.append((dropped_families, dropped_sources))
        return sets

    with_hook = leave_one_family_out(sets, _head, real_folds=2, prepare=prepare)
    plain = leave_one_family_out(sets, _head, real_folds=2)
    # Two camera folds x two groups of families (5 + 2): four CNN trainings, not 14.
    assert len(calls) == 4
    assert all(0 < len(fams) <= 5 and 0 < len(srcs) < len(SOURCES) for fams, srcs in calls)
    for fold_sources in {frozenset(s) for _, s in calls}:
        covered = set().union(*(f for f, s in calls if frozenset(s) == fold_sources))
        assert covered == set(FAMILIES)  # in every camera fold, every family was held out once
    # Every scored clip came from a split whose training rule left it out.
    for score in with_hook:
        assert any(
            (score.label == 1 and score.family in fams)
            or (score.label == 0 and score.source in srcs)
            for fams, srcs in calls
        )
    # A hook that changes nothing changes no score.
    assert [s.score for s in with_hook] == [s.score for s in plain]


def test_grouped_holdout_prepare_rule_leaves_out_the_scored_fold() -> None:
    sets = _sets()
    videos = sets["orig"].videos
    kept: list[set[str]] = []

    def prepare(rule: Any) -> dict[str, VideoFeatures]:
        kept.append({str(v.path) for v in videos if rule(v)})
        return sets

    config = DetectorConfig(folds=2)
    scores, models = grouped_holdout(sets, config, folds=2, prepare=prepare)
    assert len(kept) == len(models) == 2
    for score in scores:
        trained_on = [k for k in kept if score.path in k]
        assert len(trained_on) == 1  # scored by the one fold model that did not train on it
