"""Binary detection metrics: AUC, AP, EER, TPR at fixed FPR, expected calibration error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from reelproof.core import Result

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BinaryMetrics(Result):
    """Scores of one evaluation set (label 1 = synthetic).

    Attributes:
        n_real: negatives.
        n_fake: positives.
        auc: ROC AUC (None when one class is missing).
        ap: average precision.
        eer: equal error rate.
        tpr_at_1fpr: true-positive rate at 1% false-positive rate.
        tpr_at_5fpr: true-positive rate at 5% false-positive rate.
        ece: expected calibration error (15 equal-width bins, class-balanced by default).
    """

    schema = "detector_metrics"

    n_real: int
    n_fake: int
    auc: float | None
    ap: float | None
    eer: float | None
    tpr_at_1fpr: float | None
    tpr_at_5fpr: float | None
    ece: float


def class_balanced_weights(y: npt.ArrayLike) -> FloatArray:
    """Weights that give real and synthetic samples equal total weight (a 50/50 prior)."""
    y_arr = np.asarray(y, dtype=int)
    counts = np.bincount(y_arr, minlength=2).astype(np.float64)
    return 0.5 / np.maximum(counts, 1.0)[y_arr]  # type: ignore[no-any-return]


def expected_calibration_error(
    y: npt.ArrayLike, p: npt.ArrayLike, bins: int = 15, weights: npt.ArrayLike | None = None
) -> float:
    """Weighted mean |observed synthetic share - mean p| over equal-width probability bins.

    Args:
        y: labels (1 synthetic).
        p: predicted p(synthetic).
        bins: number of equal-width bins on [0, 1].
        weights: optional sample weights (``class_balanced_weights`` evaluates calibration
            under the 50/50 prior the detector is calibrated for).
    """
    y_arr = np.asarray(y, dtype=np.float64)
    p_arr = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    if y_arr.size == 0:
        return float("nan")
    w = np.ones_like(y_arr) if weights is None else np.asarray(weights, dtype=np.float64)
    index = np.minimum((p_arr * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        wb = w[mask].sum()
        if wb > 0:
            observed = float((w[mask] * y_arr[mask]).sum() / wb)
            predicted = float((w[mask] * p_arr[mask]).sum() / wb)
            total += wb * abs(observed - predicted)
    return float(total / w.sum())


def ece_noise_floor(
    p: npt.ArrayLike, positive_share: float, draws: int = 500, seed: int = 0
) -> tuple[float, float, float]:
    """What class-balanced ECE a perfectly calibrated detector would measure with these same
    probabilities on this many clips: (median, 5th, 95th percentile) over ``draws`` label sets.

    ``p`` is calibrated for a 50/50 prior (as the detector is); on a set whose share of
    positives is ``positive_share`` the same clip is positive with the prior-shifted
    probability, so labels are drawn from that and scored, like the real labels, with
    class-balanced weights. ECE is estimated from a finite set, so it stays above zero even
    for a perfect calibrator; with a few hundred clips and probabilities near 0.5 the floor
    is several hundredths.
    """
    p_arr = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1.0 - 1e-6)
    share = min(max(positive_share, 1e-6), 1.0 - 1e-6)
    shifted = 1.0 / (1.0 + (1.0 - p_arr) / p_arr * (1.0 - share) / share)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(draws):
        y = (rng.uniform(size=p_arr.size) < shifted).astype(int)
        values.append(expected_calibration_error(y, p_arr, weights=class_balanced_weights(y)))
    low, mid, high = np.quantile(values, [0.05, 0.5, 0.95])
    return float(mid), float(low), float(high)


def tpr_at_fpr(y: npt.ArrayLike, p: npt.ArrayLike, fpr_target: float) -> float:
    """Highest TPR whose FPR does not exceed ``fpr_target`` (ROC step interpolation)."""
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(p))
    ok = fpr <= fpr_target + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def equal_error_rate(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """The error rate where false-positive and false-negative rates meet."""
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(p))
    fnr = 1.0 - tpr
    i = int(np.argmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2.0)


def binary_metrics(
    y: npt.ArrayLike, p: npt.ArrayLike, weights: str | None = "balanced"
) -> BinaryMetrics:
    """All metrics of scores ``p`` (probability of synthetic) against labels ``y``.

    Args:
        y: labels (1 synthetic).
        p: predicted p(synthetic).
        weights: "balanced" computes ECE under a 50/50 prior (the detector's calibration
            target); None computes it on the raw sample mix. Ranking metrics are unweighted.
    """
    y_arr = np.asarray(y, dtype=int)
    p_arr = np.asarray(p, dtype=np.float64)
    w = class_balanced_weights(y_arr) if weights == "balanced" else None
    n_fake = int(y_arr.sum())
    n_real = int(y_arr.size - n_fake)
    both = n_fake > 0 and n_real > 0
    return BinaryMetrics(
        n_real=n_real,
        n_fake=n_fake,
        auc=float(roc_auc_score(y_arr, p_arr)) if both else None,
        ap=float(average_precision_score(y_arr, p_arr)) if both else None,
        eer=equal_error_rate(y_arr, p_arr) if both else None,
        tpr_at_1fpr=tpr_at_fpr(y_arr, p_arr, 0.01) if both else None,
        tpr_at_5fpr=tpr_at_fpr(y_arr, p_arr, 0.05) if both else None,
        ece=expected_calibration_error(y_arr, p_arr, weights=w),
    )
