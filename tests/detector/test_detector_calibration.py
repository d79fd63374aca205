"""Metrics, calibration and thresholds on controlled synthetic features (no media)."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from reelproof.core import ConfigError
from reelproof.detector import DetectorConfig, LabeledVideo, create_head, list_heads
from reelproof.detector.metrics import binary_metrics, expected_calibration_error
from reelproof.detector.training import VideoFeatures, choose_thresholds, fit_detector


def _features(seed: int, n_sources: int, shift: float) -> VideoFeatures:
    """Two Gaussian classes in 6-d, 4 frames per video, one real + two fakes per source."""
    rng = np.random.default_rng(seed)
    rows, index, videos = [], [], []
    for s in range(n_sources):
        for label, family in ((0, "real"), (1, "a"), (1, "b")):
            centre = np.zeros(6) + (shift if label else 0.0)
            rows.append(rng.normal(centre, 1.0, (4, 6)))
            index += [len(videos)] * 4
            videos.append(LabeledVideo(path=__file__, label=label, family=family, source=f"s{s}"))  # type: ignore[arg-type]
    return VideoFeatures(
        X=np.concatenate(rows).astype(np.float32),
        video=np.asarray(index, dtype=np.int64),
        videos=tuple(videos),
    )


def test_metrics_on_known_cases() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    perfect = binary_metrics(y, [0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert perfect.auc == 1.0 and perfect.eer == 0.0 and perfect.tpr_at_1fpr == 1.0
    inverted = binary_metrics(y, [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    assert inverted.auc == 0.0
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20000)
    calibrated = (rng.uniform(size=p.size) < p).astype(int)
    assert expected_calibration_error(calibrated, p) < 0.02
    assert expected_calibration_error(calibrated, (p > 0.5).astype(float)) > 0.2


def test_the_ece_noise_floor_shrinks_with_more_clips_and_surer_probabilities() -> None:
    from reelproof.detector.metrics import ece_noise_floor

    # (Class balancing pins a single bin's share at one half: spread the probabilities.)
    unsure_few, low, high = ece_noise_floor(np.linspace(0.3, 0.7, 100), 0.5, draws=200)
    assert 0.0 < low <= unsure_few <= high
    assert 0.03 < unsure_few < 0.2
    unsure_many, _, _ = ece_noise_floor(np.linspace(0.3, 0.7, 10000), 0.5, draws=50)
    assert unsure_many < unsure_few / 4
    sure, _, _ = ece_noise_floor(np.r_[np.full(50, 0.01), np.full(50, 0.99)], 0.5, draws=200)
    assert sure < unsure_few
    # A set with more negatives than positives: labels follow the prior-shifted probability,
    # so class balancing gives the calibrated p back and the floor does not grow with the mix.
    rng = np.random.default_rng(1)
    p = rng.uniform(0.2, 0.8, 3000)
    balanced, _, _ = ece_noise_floor(p, 0.5, draws=100)
    skewed, _, _ = ece_noise_floor(p, 0.2, draws=100)
    assert skewed < 2 * balanced + 0.01


@pytest.mark.parametrize("head", ["logistic", "hgb"])
def test_calibrated_probabilities_match_held_out_frequencies(head: str) -> None:
    assert head in list_heads()
    train = _features(seed=1, n_sources=30, shift=1.2)
    # One OpenMP thread: gradient boosting on shared, busy cores otherwise spins for a minute.
    with threadpool_limits(1):
        det = fit_detector(train, DetectorConfig(head=head, folds=4), extractor=_Dummy())
    test = _features(seed=2, n_sources=60, shift=1.2)
    p = det.frame_probabilities(test.X)
    m = binary_metrics(test.y_frames, p)
    assert m.auc is not None and m.auc > 0.85
    assert m.ece < 0.08  # class-balanced ECE of calibrated frame probabilities
    assert 0.0 <= det.thresholds[0] <= 0.5 <= det.thresholds[1]


def test_thresholds_hit_the_target_false_positive_rate() -> None:
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.beta(2, 5, 1000), rng.beta(5, 2, 1000)])
    y = np.repeat([0, 1], 1000)
    low, high = choose_thresholds(p, y, target_fpr=0.02, target_fnr=0.05)
    assert np.mean(p[y == 0] >= high) <= 0.02
    assert np.mean(p[y == 1] <= low) <= 0.05
    assert low <= 0.5 <= high


def test_one_source_cannot_be_calibrated() -> None:
    feats = _features(seed=4, n_sources=1, shift=2.0)
    with pytest.raises(ConfigError, match="at least 2 sources"):
        fit_detector(feats, DetectorConfig(), extractor=_Dummy())


def test_heads_follow_sklearn_conventions() -> None:
    for name in list_heads():
        head = create_head(name, random_state=0)
        x = np.random.default_rng(0).normal(size=(40, 3))
        y = (x[:, 0] > 0).astype(int)
        assert head.fit(x, y) is head
        assert head.predict_proba(x).shape == (40, 2)


class _Dummy:
    name = "dummy"
    dim = 6

    def extract(self, frames: np.ndarray) -> np.ndarray:  # pragma: no cover - unused
        raise AssertionError


def test_head_setting_is_chosen_on_training_folds_by_log_loss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A grid entry that cannot fit (near-zero C: constant scores) loses to a sensible one,
    and the choice is recorded on the card."""
    from reelproof.detector import heads
    from reelproof.detector.training import select_frame_model

    monkeypatch.setitem(heads.HEAD_GRIDS, "logistic", ({"C": 1e-7}, {"C": 1.0}))
    train = _features(seed=3, n_sources=12, shift=1.5)
    config = DetectorConfig(head="logistic", folds=4)
    chosen = select_frame_model(train, config)
    assert chosen.params == {"C": 1.0}
    det = fit_detector(train, config, extractor=_Dummy())
    assert det.card["head_params"] == {"C": 1.0}
    assert "C" in det.card["head_selection"]


def test_out_of_fold_scores_do_not_learn_each_folds_class_mix() -> None:
    """Folds that hold out whole generator families have unequal class mixes. Features with
    no signal must score near chance out of fold: a sigmoid fitted per fold would learn each
    fold's mix as an intercept, and rank clips by the fold they fell in."""
    rng = np.random.default_rng(3)
    rows, index, videos = [], [], []
    specs = [(0, "real", f"cam{s}") for s in range(8)] + [
        (1, f"fam{f}", f"fam{f}") for f in range(4)
    ]
    for label, family, source in specs:
        for _clip in range(7 if family in ("fam1", "fam3") else 1):
            rows.append(rng.normal(0.0, 1.0, (4, 6)))
            index += [len(videos)] * 4
            videos.append(LabeledVideo(path=__file__, label=label, family=family, source=source))  # type: ignore[arg-type]
    feats = VideoFeatures(
        X=np.concatenate(rows).astype(np.float32),
        video=np.asarray(index, dtype=np.int64),
        videos=tuple(videos),
    )
    with threadpool_limits(1):
        det = fit_detector(feats, DetectorConfig(folds=4))
    assert det.card["out_of_fold"]["video"]["auc"] < 0.75
