"""Classifier heads with scikit-learn conventions (``fit`` returns self, ``predict_proba``).

A head maps one feature row (one frame) to a synthetic score; ``ClipDetector`` calibrates it
with one sigmoid on out-of-fold scores and pools frames into segments and clips.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from reelproof.core import Registry

HEADS: Registry[Any] = Registry("head")


@HEADS.register("logistic")
def _logistic(random_state: int = 0, C: float = 0.5) -> Any:  # noqa: N803 (sklearn's name)
    """Standardised logistic regression (L2, balanced classes): linear, robust, tiny."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=random_state),
    )


class FusionHead:
    """Two standardised logistic regressions added in logit space: one on the frame features,
    one on the clip's temporal vector (the last ``temporal_dim`` columns of every row).

    The sum is the naive-Bayes way to join two views of the clip: each model's log-odds are
    evidence, added with the same weight, fixed a priori rather than tuned on held-out scores
    (the clip calibrator rescales the sum). A row whose temporal vector is missing (NaN: fewer
    than three distinct consecutive frames) gets the temporal logit of the training rows'
    mean vector, so its sum stays on the scale the calibrator was fitted on.
    """

    def __init__(self, temporal_dim: int, random_state: int = 0, C: float = 0.5) -> None:  # noqa: N803
        self.temporal_dim = temporal_dim
        self.random_state = random_state
        self.C = C
        self.frame_model: Any = None
        self.temporal_model: Any = None
        self.temporal_mean: npt.NDArray[np.float32] | None = None

    def fit(self, x: npt.NDArray[np.float32], y: npt.NDArray[np.int64]) -> FusionHead:
        """Fit both parts; the temporal one on the rows that have a temporal vector."""
        frame, clip = self._split(x)
        self.frame_model = _logistic(self.random_state, self.C).fit(frame, y)
        known = np.isfinite(clip).all(axis=1)
        self.temporal_model = None
        if len(np.unique(y[known])) == 2:
            self.temporal_model = _logistic(self.random_state, self.C).fit(clip[known], y[known])
            self.temporal_mean = clip[known].mean(axis=0)
        return self

    def decision_function(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """(N,) fused logits."""
        frame, clip = self._split(x)
        z = np.asarray(self.frame_model.decision_function(frame), dtype=np.float64)
        if self.temporal_model is not None and self.temporal_mean is not None:
            known = np.asarray(np.isfinite(clip).all(axis=1))
            filled = np.where(known[:, None], clip, self.temporal_mean[None, :])
            z += self.temporal_model.decision_function(filled)
        return z

    def predict_proba(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """(N, 2) probabilities of (real, synthetic) from the fused logits."""
        p = expit(self.decision_function(x))
        return np.stack([1.0 - p, p], axis=1)

    def _split(
        self, x: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        cut = x.shape[1] - self.temporal_dim
        return x[:, :cut], x[:, cut:]


@HEADS.register("fusion")
def _fusion(random_state: int = 0, C: float = 0.5) -> Any:  # noqa: N803 (sklearn's name)
    """Frame logistic + temporal logistic, logits added (``FusionHead``; rows end with the
    clip's temporal vector, as ``DetectorConfig(temporal=True)`` builds them)."""
    from reelproof.detector.temporal import TEMPORAL_DIM

    return FusionHead(TEMPORAL_DIM, random_state=random_state, C=C)


# Settings tried per training run (chosen by source-grouped out-of-fold log loss on the
# training data, see ``training.fit_detector``); heads without an entry are fitted as registered.
HEAD_GRIDS: dict[str, tuple[dict[str, float], ...]] = {
    "logistic": tuple({"C": c} for c in (0.5, 2.0, 8.0, 32.0)),
    "fusion": tuple({"C": c} for c in (0.5, 2.0, 8.0, 32.0)),
}


@HEADS.register("hgb")
def _hgb(random_state: int = 0) -> Any:
    """Histogram gradient boosting (shallow trees, balanced classes): non-linear, fast."""
    return HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        class_weight="balanced",
        random_state=random_state,
    )


def head_grid(name: str) -> tuple[dict[str, float], ...]:
    """Settings a training run tries for head ``name`` (one empty setting when it has no grid)."""
    return HEAD_GRIDS.get(name, ({},))


def create_head(name: str, random_state: int = 0, **params: float) -> Any:
    """An unfitted scikit-learn classifier registered as ``name`` (``list_heads()``), with
    optional settings from ``HEAD_GRIDS``."""
    return HEADS.create(name, random_state=random_state, **params)


def list_heads() -> list[str]:
    """Names of every registered head."""
    return HEADS.list()
