"""The ``fusion`` head and a detector whose frame rows carry the clip's temporal vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.detector import DetectorConfig
from reelproof.detector.datasets import discover
from reelproof.detector.heads import FusionHead, create_head
from reelproof.detector.metrics import binary_metrics
from reelproof.detector.model import ClipDetector, with_temporal
from reelproof.detector.temporal import TEMPORAL_DIM
from reelproof.detector.temporal_data import clip_vectors, join_vectors
from reelproof.detector.training import extract_features, fit_detector


def _two_views(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 3 frame features then TEMPORAL_DIM temporal ones; each view carries its own,
    independent evidence of the label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    frame = rng.normal(0, 1, (n, 3)) + 0.8 * y[:, None]
    clip = rng.normal(0, 1, (n, TEMPORAL_DIM)) + 0.8 * y[:, None]
    return np.concatenate([frame, clip], axis=1).astype(np.float32), y


def test_fusion_adds_the_two_logits_and_beats_either_view() -> None:
    x, y = _two_views(2000, seed=0)
    head = create_head("fusion", random_state=0).fit(x, y)
    assert isinstance(head, FusionHead)
    frame_z = head.frame_model.decision_function(x[:, :3])
    clip_z = head.temporal_model.decision_function(x[:, 3:])
    assert np.allclose(head.decision_function(x), frame_z + clip_z)
    test_x, test_y = _two_views(2000, seed=1)
    fused = binary_metrics(test_y, head.predict_proba(test_x)[:, 1]).auc
    frame_only = binary_metrics(test_y, head.frame_model.decision_function(test_x[:, :3])).auc
    clip_only = binary_metrics(test_y, head.temporal_model.decision_function(test_x[:, 3:])).auc
    assert fused is not None and frame_only is not None and clip_only is not None
    assert fused > max(frame_only, clip_only) + 0.02


def test_rows_without_a_temporal_vector_get_the_mean_vector_logit() -> None:
    x, y = _two_views(400, seed=2)
    x[::3, 3:] = np.nan  # clips too still to measure
    head = create_head("fusion").fit(x, y)
    missing = ~np.isfinite(x[:, 3:]).all(axis=1)
    z = head.decision_function(x)
    assert np.isfinite(z).all()
    mean = np.nanmean(x[~missing, 3:], axis=0)
    at_mean = head.temporal_model.decision_function(mean[None, :])[0]
    frame_z = head.frame_model.decision_function(x[missing, :3])
    assert np.allclose(z[missing], frame_z + at_mean)
    probabilities = head.predict_proba(x)
    assert probabilities.shape == (400, 2) and np.allclose(probabilities.sum(axis=1), 1.0)


@pytest.fixture(scope="module")
def temporal_detector(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> ClipDetector:
    """A detector trained as the default script trains one (frame rows + temporal vector)."""
    from reelproof.detector.backbones import create_backbone

    _layout, videos = discover(tiny_dataset)
    extractor = create_backbone("forensic")
    frames = extract_features(videos, extractor, max_frames=8)
    table = clip_vectors(frames.videos, tmp_path_factory.mktemp("vectors") / "t.npz")
    by_path = {str(v.path): table[i] for i, v in enumerate(frames.videos)}
    feats = join_vectors({"all": frames}, {"all": by_path})["all"]
    config = DetectorConfig(head="fusion", folds=4, temporal=True)
    return fit_detector(feats, config, extractor)


def test_a_temporal_detector_scores_files_with_their_temporal_vector(
    temporal_detector: ClipDetector, tiny_dataset: Path
) -> None:
    from reelproof.detector.sampling import sample_frames

    det = temporal_detector
    assert det.uses_temporal
    path = next((tiny_dataset / "real").glob("*.mp4"))
    by_file = det.score_file(path, max_frames=8)
    frames, stamps, fps = sample_frames(path, 8)
    vector = det.temporal_vector(path)
    assert vector.shape == (TEMPORAL_DIM,) and np.isfinite(vector).all()
    calls: list[int] = []

    def temporal_of() -> np.ndarray:
        calls.append(1)
        return vector

    with_vector = det.score_frames(frames, fps, stamps, temporal_of=temporal_of)
    assert calls == [1]
    assert by_file.p_synthetic == pytest.approx(with_vector.p_synthetic)
    # The vector reaches the head: its logit differs from the frame-only one (the tiny set is
    # so easy that both clip probabilities saturate, so compare before calibration).
    from reelproof.detector.model import clip_features

    feats, usable, _ = clip_features(det.extractor, frames, 64)
    rows = feats[usable]
    head = det.frame_model.head
    fused = head.decision_function(with_temporal(rows, vector))
    alone = head.decision_function(with_temporal(rows, None))
    assert not np.allclose(fused, alone)


def test_the_temporal_vector_is_not_computed_for_a_clip_that_abstains(
    temporal_detector: ClipDetector,
) -> None:
    still = np.full((20, 128, 128, 3), 90, dtype=np.uint8)  # blank: screened out

    def fail() -> np.ndarray:
        raise AssertionError("computed the temporal vector of a screened-out clip")

    score = temporal_detector.score_frames(still, 25.0, temporal_of=fail)
    assert score.label == "abstain"


def test_with_temporal_appends_the_vector_or_nan() -> None:
    rows = np.ones((3, 2), dtype=np.float32)
    vector = np.arange(TEMPORAL_DIM, dtype=np.float64)
    joined = with_temporal(rows, vector)
    assert joined.shape == (3, 2 + TEMPORAL_DIM) and np.array_equal(joined[1, 2:], vector)
    assert np.isnan(with_temporal(rows, None)[:, 2:]).all()


def test_temporal_rows_need_the_fusion_head() -> None:
    from reelproof.core import ConfigError

    with pytest.raises(ConfigError, match="go together"):
        DetectorConfig(head="logistic", temporal=True)
    with pytest.raises(ConfigError, match="go together"):
        DetectorConfig(head="fusion")


def test_a_picture_too_small_for_optical_flow_gets_no_vector_not_an_error(
    temporal_detector: ClipDetector, tmp_path: Path
) -> None:
    from .conftest import camera_like_frames, write_mp4

    tiny = write_mp4(tmp_path / "tiny.mp4", camera_like_frames(seed=3, size=12))
    assert np.isnan(temporal_detector.temporal_vector(tiny)).all()
