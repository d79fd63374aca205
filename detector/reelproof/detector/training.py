"""Fit a ``ClipDetector``: features per video, source-grouped calibration, thresholds, card.

Splits are always grouped by source (never by frame): calibration folds, out-of-fold clip
scores for the clip calibrator and the thresholds, and the card's metrics all come from models
that never saw the source they score.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.core import ConfigError
from reelproof.detector.backbones import FeatureExtractor, create_backbone
from reelproof.detector.datasets import LabeledVideo
from reelproof.detector.heads import create_head, head_grid
from reelproof.detector.metrics import binary_metrics
from reelproof.detector.model import ClipDetector, DetectorConfig, _logit, clip_features
from reelproof.detector.sampling import sample_frames


@dataclass(frozen=True)
class VideoFeatures:
    """Frame features of a set of videos.

    Attributes:
        X: (F, D) float32 features of the usable frames of all videos.
        video: (F,) int index into ``videos`` per frame row.
        videos: the videos, in order.
        skipped: videos without a usable frame, with the reason.
    """

    X: npt.NDArray[np.float32]
    video: npt.NDArray[np.int64]
    videos: tuple[LabeledVideo, ...]
    skipped: tuple[tuple[LabeledVideo, str], ...] = ()

    @property
    def y_frames(self) -> npt.NDArray[np.int64]:
        """(F,) labels per frame row."""
        labels = np.array([v.label for v in self.videos], dtype=np.int64)
        return labels[self.video]

    @property
    def y_videos(self) -> npt.NDArray[np.int64]:
        """(V,) label per video."""
        return np.array([v.label for v in self.videos], dtype=np.int64)

    def groups(self) -> npt.NDArray[np.str_]:
        """(F,) source id per frame row."""
        return np.array([self.videos[i].source for i in self.video])

    def subset(self, keep: Callable[[LabeledVideo], bool]) -> VideoFeatures:
        """Only the videos for which ``keep`` is true (frame rows follow)."""
        chosen = [i for i, v in enumerate(self.videos) if keep(v)]
        remap = -np.ones(len(self.videos), dtype=np.int64)
        remap[chosen] = np.arange(len(chosen))
        rows = remap[self.video] >= 0
        return VideoFeatures(
            X=self.X[rows],
            video=remap[self.video[rows]],
            videos=tuple(self.videos[i] for i in chosen),
        )


def extract_features(
    videos: Sequence[LabeledVideo],
    extractor: FeatureExtractor,
    max_frames: int = 16,
    min_side: int = 64,
    log: Callable[[str], None] | None = None,
    margin: float = 0.0,
) -> VideoFeatures:
    """Sample frames of every video and compute their features (same path as scoring)."""
    rows: list[npt.NDArray[np.float32]] = []
    index: list[npt.NDArray[np.int64]] = []
    kept: list[LabeledVideo] = []
    skipped: list[tuple[LabeledVideo, str]] = []
    from tqdm import tqdm

    for video in tqdm(videos, desc="features", unit="clip", disable=log is None, leave=False):
        frames, _stamps, _fps = sample_frames(video.path, max_frames)
        feats, usable, reason = clip_features(extractor, frames, min_side, margin)
        if reason is not None:
            skipped.append((video, reason))
            continue
        rows.append(feats[usable])
        index.append(np.full(int(usable.sum()), len(kept), dtype=np.int64))
        kept.append(video)
    if not kept:
        raise ConfigError("no video had a usable frame", hint="check the data folder")
    return VideoFeatures(
        X=np.concatenate(rows).astype(np.float32),
        video=np.concatenate(index),
        videos=tuple(kept),
        skipped=tuple(skipped),
    )


def _balanced_weights(y: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Sample weights giving both classes equal total weight (a 50/50 prior)."""
    counts = np.bincount(y, minlength=2).astype(np.float64)
    return len(y) / (2.0 * np.maximum(counts, 1.0))[y]


def grouped_splits(
    groups: npt.NDArray[Any], y: npt.NDArray[np.int64], folds: int
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Source-grouped K-fold splits whose training parts hold both classes."""
    from sklearn.model_selection import GroupKFold

    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ConfigError(
            f"need videos from at least 2 sources to calibrate, found {n_groups}",
            hint="name files <source>__<clip>.mp4 so the source is known, or add sources",
        )
    k = min(folds, n_groups)
    splits = list(GroupKFold(n_splits=k).split(np.zeros(len(y)), y, groups))
    for train, _test in splits:
        if len(np.unique(y[train])) < 2:
            raise ConfigError(
                "a calibration fold has only one class",
                hint="add real and fake videos from more sources",
            )
    return [(np.asarray(a), np.asarray(b)) for a, b in splits]


class PlattCalibrated:
    """A fitted head whose scores pass through one sigmoid fitted on out-of-fold scores.

    One calibrator for all folds, fitted with class-balanced weights on the pooled out-of-fold
    logits. (``CalibratedClassifierCV(ensemble=True)`` fits one sigmoid per fold instead; with
    folds grouped by generator family, each fold's class mix differs, each sigmoid learns its
    fold's mix as an intercept, and the averaged members flatten every probability.)
    """

    def __init__(self, head: Any, slope: float, intercept: float) -> None:
        self.head = head
        self.slope = slope
        self.intercept = intercept

    def predict_proba(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """(N, D) features -> (N, 2) calibrated probabilities of (real, synthetic)."""
        z = _logit(np.asarray(self.head.predict_proba(x)[:, 1], dtype=np.float64))
        p = 1.0 / (1.0 + np.exp(-(self.slope * z + self.intercept)))
        return np.stack([1.0 - p, p], axis=1)


def fit_frame_model(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.int64],
    groups: npt.NDArray[Any],
    config: DetectorConfig,
    params: dict[str, float] | None = None,
) -> tuple[Any, npt.NDArray[np.float64]]:
    """Fit the calibrated frame head; also return out-of-fold frame probabilities.

    The head is fitted once per group-wise fold to score the held-out groups, the sigmoid is
    fitted on those out-of-fold scores, and the head is refitted on everything.

    Returns:
        (fitted ``PlattCalibrated``, (F,) float64 out-of-fold p(synthetic)).
    """

    def head() -> Any:
        return create_head(config.head, random_state=config.seed, **(params or {}))

    raw = np.empty(len(y), dtype=np.float64)
    for train, test in grouped_splits(groups, y, config.folds):
        raw[test] = _logit(head().fit(x[train], y[train]).predict_proba(x[test])[:, 1])
    slope, intercept = fit_clip_calibrator(raw, y)
    oof = 1.0 / (1.0 + np.exp(-(slope * raw + intercept)))
    return PlattCalibrated(head().fit(x, y), slope, intercept), oof


@dataclass(frozen=True)
class _Fitted:
    """One fitted frame model with its out-of-fold clip scores."""

    model: Any
    params: dict[str, float]
    oof: npt.NDArray[np.float64]  # (F,) out-of-fold frame probabilities
    calibrator: tuple[float, float]
    p_video: npt.NDArray[np.float64]  # (V,) calibrated out-of-fold clip probabilities
    log_loss: float


def _fit_and_score(
    features: VideoFeatures, config: DetectorConfig, params: dict[str, float]
) -> _Fitted:
    """Fit with ``params``; score by class-balanced out-of-fold clip log loss."""
    from sklearn.metrics import log_loss

    frame_model, oof = fit_frame_model(
        features.X, features.y_frames, features.groups(), config, params
    )
    z = pool_logits(oof, features.video, len(features.videos))
    yv = features.y_videos
    slope, intercept = fit_clip_calibrator(z, yv)
    p_video = 1.0 / (1.0 + np.exp(-(slope * z + intercept)))
    loss = float(log_loss(yv, p_video, sample_weight=_balanced_weights(yv), labels=[0, 1]))
    return _Fitted(frame_model, params, oof, (slope, intercept), p_video, loss)


def select_frame_model(features: VideoFeatures, config: DetectorConfig) -> _Fitted:
    """Fit every setting of the head's grid (``HEAD_GRIDS``) and keep the best.

    The criterion is the class-balanced log loss of out-of-fold clip probabilities, so the
    choice uses the training data only (never a held-out source) and rewards calibration as
    well as separation.
    """
    fits = [_fit_and_score(features, config, dict(params)) for params in head_grid(config.head)]
    return min(fits, key=lambda fit: fit.log_loss)


def pool_logits(
    frame_p: npt.NDArray[np.float64], video: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.float64]:
    """(V,) mean frame logit per video."""
    z = _logit(frame_p)
    sums = np.bincount(video, weights=z, minlength=n)
    counts = np.maximum(np.bincount(video, minlength=n), 1)
    return sums / counts


def fit_clip_calibrator(
    z: npt.NDArray[np.float64], y: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """Platt scaling of mean frame logits to clip probabilities (balanced prior).

    Practically unregularised (C = 1e4): Platt scaling fits two numbers, and an L2 penalty on
    the slope would flatten every probability towards 0.5 whenever the pooled logits span a
    narrow range (a head that is weak out of fold), however well they rank.
    """
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e4, class_weight="balanced")
    platt.fit(z[:, None], y)
    slope = float(platt.coef_[0, 0])
    if slope <= 0.0:
        # Out-of-fold scores that rank worse than chance (a head that does not carry over to
        # held-out groups can anti-learn) must not be inverted: that would turn the held-out
        # groups' labels into a score. The honest reading is "no information": p = 0.5.
        return 0.0, 0.0
    return slope, float(platt.intercept_[0])


def choose_thresholds(
    p: npt.NDArray[np.float64], y: npt.NDArray[np.int64], target_fpr: float, target_fnr: float
) -> tuple[float, float]:
    """(low, high): ``high`` keeps real validation clips under ``target_fpr``; ``low`` keeps
    fake ones under ``target_fnr``; both sit on their side of 0.5."""
    real, fake = p[y == 0], p[y == 1]
    high = 0.5
    if real.size:
        q = float(np.quantile(real, 1.0 - target_fpr, method="higher"))
        high = max(high, float(np.nextafter(q, 1.0)))
    high = min(high, 0.999)
    low = 0.5
    if fake.size:
        low = min(low, float(np.quantile(fake, target_fnr, method="lower")))
    return max(0.0, min(low, high)), high


def fit_detector(
    features: VideoFeatures,
    config: DetectorConfig,
    extractor: FeatureExtractor | None = None,
    card: dict[str, Any] | None = None,
    name: str = "reelproof-detector",
) -> ClipDetector:
    """Fit a detector on extracted features (see the module docs for the protocol).

    Args:
        features: frame features of the training videos.
        config: detector settings.
        extractor: the backbone the features came from (default: ``config.backbone``).
        card: extra model-card fields (data description, splits).
        name: model name for reports.

    Returns:
        The fitted detector; its card holds out-of-fold frame and video metrics.
    """
    extractor = extractor or create_backbone(config.backbone)
    y = features.y_frames
    fitted = select_frame_model(features, config)
    frame_model, oof, p_video = fitted.model, fitted.oof, fitted.p_video
    slope, intercept = fitted.calibrator
    n = len(features.videos)
    yv = features.y_videos
    thresholds = choose_thresholds(p_video, yv, config.target_fpr, config.target_fnr)
    full_card = {
        **(card or {}),
        "config": config.__dict__,
        "backbone": repr(extractor),
        "training": {
            "videos": n,
            "real_videos": int((yv == 0).sum()),
            "fake_videos": int((yv == 1).sum()),
            "frames": len(y),
            "sources": sorted({v.source for v in features.videos}),
            "families": sorted({v.family for v in features.videos if v.label == 1}),
            "skipped": [(str(v.path), r) for v, r in features.skipped],
        },
        "out_of_fold": {
            "note": "source-grouped cross-validation inside the training data",
            "frame": binary_metrics(y, oof, weights="balanced").to_dict(),
            "video": binary_metrics(yv, p_video, weights="balanced").to_dict(),
        },
        "thresholds": {"low": thresholds[0], "high": thresholds[1]},
        "head_params": fitted.params,
        "head_selection": "best out-of-fold clip log loss over "
        + repr([dict(params) for params in head_grid(config.head)]),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    return ClipDetector(
        config=config,
        extractor=extractor,
        frame_model=frame_model,
        clip_calibrator=(slope, intercept),
        thresholds=thresholds,
        card=full_card,
        name=name,
    )


def train_from_folders(
    roots: Sequence[Path],
    config: DetectorConfig,
    pretrained_path: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> ClipDetector:
    """Discover dataset folders, extract features and fit (what ``detector train`` runs)."""
    from reelproof.detector.datasets import discover

    videos: list[LabeledVideo] = []
    layouts = []
    for root in roots:
        layout, found = discover(Path(root))
        layouts.append({"root": str(root), "layout": layout, "videos": len(found)})
        videos += found
    if log:
        log(f"{len(videos)} videos from {len({v.source for v in videos})} sources")
    extractor = create_backbone(config.backbone, pretrained_path=pretrained_path)
    feats = extract_features(videos, extractor, config.max_frames, config.min_side, log)
    if config.temporal:
        feats = append_clip_vectors(feats, clip_vector_of)
    return fit_detector(feats, config, extractor, card={"data": layouts})


def append_clip_vectors(
    feats: VideoFeatures, vector_of: Callable[[LabeledVideo], Any]
) -> VideoFeatures:
    """Each frame row with its clip's temporal vector appended, as ``ClipDetector`` scores
    when ``DetectorConfig.temporal`` is set; ``vector_of`` gives a clip's vector (None or NaN:
    unknown)."""
    from reelproof.detector.model import with_temporal

    rows = [
        with_temporal(feats.X[feats.video == i], vector_of(v)) for i, v in enumerate(feats.videos)
    ]
    order = np.concatenate([np.flatnonzero(feats.video == i) for i in range(len(feats.videos))])
    return VideoFeatures(
        X=np.concatenate(rows).astype(np.float32),
        video=feats.video[order],
        videos=feats.videos,
        skipped=feats.skipped,
    )


def clip_vector_of(video: LabeledVideo) -> Any:
    """A clip's temporal vector from its file (for ``append_clip_vectors``)."""
    from reelproof.detector.temporal import clip_temporal_features

    return clip_temporal_features(video.path)


def _versions() -> dict[str, str]:
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
    }
