"""The traces backbone: residual patches, the tiny CNN (numpy and torch), its training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.core import ConfigError
from reelproof.detector import create_backbone
from reelproof.detector.datasets import LabeledVideo
from reelproof.detector.traces import (
    PATCHES,
    SIDE,
    TracesExtractor,
    random_net,
    residual_patches,
    trace_features,
)
from reelproof.detector.traces_training import (
    fit_traces,
    mirrored,
    train_trace_net,
    training_patches,
    with_traces,
)
from reelproof.detector.training import VideoFeatures

from .conftest import camera_like_frames, decoder_like


def test_residual_patches_shapes_and_flat_frames() -> None:
    frames = camera_like_frames(seed=1, n=3, size=128)
    frames[1] = 120  # a blank frame has no textured patch
    rows = residual_patches(frames)
    assert rows.shape == (3, PATCHES * SIDE * SIDE) and rows.dtype == np.float32
    assert np.isfinite(rows[[0, 2]]).all() and np.isnan(rows[1]).all()
    assert np.abs(rows[0]).max() <= 4.0  # truncated residual
    # High-pass: a constant brightness change leaves the residual as it was.
    brighter = np.clip(frames.astype(int) + 10, 0, 255).astype(np.uint8)
    assert np.allclose(residual_patches(brighter)[0], rows[0], atol=1e-3)


def test_traces_backbone_numpy_and_torch_agree_and_are_deterministic() -> None:
    frames = camera_like_frames(seed=2, n=4, size=128)
    rows = residual_patches(frames)
    net = random_net(seed=5)
    a = trace_features(net, rows)
    b = trace_features(net, rows, use_torch=True)
    assert a.shape == (4, 2) and np.allclose(a, b, atol=1e-4)
    ext = create_backbone("traces")
    assert isinstance(ext, TracesExtractor) and ext.dim == 42
    feats = ext.extract(frames)
    assert feats.shape == (4, 42) and np.isfinite(feats).all()
    assert np.array_equal(feats, create_backbone("traces").extract(frames))
    with pytest.raises(ConfigError):
        create_backbone("traces", pretrained_path=Path("x.pth"))


def _patch_set(n_clips: int = 6) -> VideoFeatures:
    """Residual patches of camera-like clips and their decoder-like copies (one video each)."""
    rows, index, videos = [], [], []
    for i in range(n_clips):
        real = camera_like_frames(seed=10 + i, n=4, size=128)
        for label, frames in ((0, real), (1, decoder_like(real))):
            rows.append(residual_patches(frames))
            index.append(np.full(4, len(videos)))
            family = "real" if label == 0 else "decoder"
            videos.append(LabeledVideo(Path(f"{family}{i}.mp4"), label, family, f"s{i}"))
    return VideoFeatures(
        X=np.concatenate(rows), video=np.concatenate(index).astype(np.int64), videos=tuple(videos)
    )


def test_trained_cnn_separates_decoder_traces_and_is_seeded() -> None:
    patches = _patch_set()
    x, y = training_patches(patches, seed=0, per_frame=4)
    assert x.shape == (len(y), SIDE, SIDE) and set(np.unique(y)) == {0, 1}
    net = train_trace_net(x, y, seed=0, epochs=3)
    again = train_trace_net(x, y, seed=0, epochs=3)
    assert all(
        np.array_equal(w1, w2) for (w1, _), (w2, _) in zip(net.convs, again.convs, strict=True)
    )
    feats = trace_features(net, patches.X)
    mean_logit = feats[:, 0]
    frame_y = patches.y_frames
    # Every decoder-like frame above every camera-like frame on the training clips.
    assert mean_logit[frame_y == 1].min() > mean_logit[frame_y == 0].max()
    with pytest.raises(ConfigError):
        train_trace_net(x, np.zeros_like(y), seed=0, epochs=1)


def test_with_traces_joins_aligned_rows_and_refuses_misaligned_ones() -> None:
    patches = _patch_set(n_clips=2)
    forensic = VideoFeatures(
        X=np.zeros((patches.X.shape[0], 40), np.float32), video=patches.video, videos=patches.videos
    )
    joined = with_traces(forensic, patches, random_net())
    assert joined.X.shape == (patches.X.shape[0], 42) and joined.videos == patches.videos
    shuffled = VideoFeatures(X=forensic.X, video=forensic.video[::-1], videos=forensic.videos)
    with pytest.raises(ConfigError, match="not of the same frames"):
        with_traces(shuffled, patches, random_net())


def test_mirrored_copies_keep_labels_and_fit_traces_is_seeded() -> None:
    patches = _patch_set(n_clips=2)
    x, y = training_patches(patches, seed=0)
    mx, my = mirrored(x, y)
    assert mx.shape == (4 * len(x), SIDE, SIDE) and np.array_equal(my, np.tile(y, 4))
    assert np.array_equal(mx[len(x) : 2 * len(x)], x[:, ::-1, :])
    assert np.array_equal(mx[3 * len(x) :], x.transpose(0, 2, 1))
    a, b = fit_traces(patches, seed=1), fit_traces(patches, seed=1)
    assert np.array_equal(a.fc_w, b.fc_w) and a.fc_b == b.fc_b
