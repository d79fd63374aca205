"""Classifier heads with scikit-learn conventions (``fit`` returns self, ``predict_proba``).

A head maps one feature row (one frame) to a synthetic score; ``ClipDetector`` calibrates it
with one sigmoid on out-of-fold scores and pools frames into segments and clips.
"""

from __future__ import annotations

from typing import Any

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


# Settings tried per training run (chosen by source-grouped out-of-fold log loss on the
# training data, see ``training.fit_detector``); heads without an entry are fitted as registered.
HEAD_GRIDS: dict[str, tuple[dict[str, float], ...]] = {
    "logistic": tuple({"C": c} for c in (0.5, 2.0, 8.0, 32.0)),
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
