"""Temporal vectors of training and evaluation clips, cached, and frame rows joined to them.

The default-weights script and ``reelproof eval detector`` both need every shared clip's (and
format control's) temporal vector: computing one decodes 24 frames, so they are cached per set
in an npz file keyed by the feature code and each file's name, size and modification time.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelproof.detector import temporal
from reelproof.detector.datasets import LabeledVideo
from reelproof.detector.protocol import update_with_files
from reelproof.detector.training import VideoFeatures, append_clip_vectors

Log = Callable[[str], None]


def clip_vectors(
    videos: Sequence[LabeledVideo], cache: Path, log: Log | None = None, label: str = "videos"
) -> npt.NDArray[np.float32]:
    """(V, TEMPORAL_DIM) temporal features of ``videos``, cached in the npz file ``cache``.

    The cache is keyed by the temporal modules' source and each file's name, size and time, so
    an edit to either recomputes it. Rows are NaN for clips with fewer than three distinct
    frames.
    """
    key = _cache_key(videos)
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            if str(stored["key"]) == key:
                return np.asarray(stored["X"], dtype=np.float32)
    from tqdm import tqdm

    rows = [
        temporal.clip_temporal_features(v.path)
        for v in tqdm(videos, desc=f"temporal features: {label}", disable=log is None)
    ]
    table = np.stack(rows).astype(np.float32) if rows else np.zeros((0, temporal.TEMPORAL_DIM))
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then renamed: an interrupted run never leaves a half-written cache.
    partial = cache.with_name(cache.stem + ".partial.npz")
    np.savez(partial, X=table, key=np.array(key))
    partial.replace(cache)
    return np.asarray(table, dtype=np.float32)


def _cache_key(videos: Sequence[LabeledVideo]) -> str:
    """What the vectors depend on: the feature code (temporal, the picture box, the luma
    reader), the decoder and OpenCV versions, and each file."""
    import av
    import cv2

    from reelproof.core.io import luma, reader
    from reelproof.detector import frames

    digest = hashlib.sha256()
    for module in (temporal, frames, luma, reader):
        digest.update(inspect.getsource(module).encode())
    digest.update(f"av {av.__version__} cv2 {cv2.__version__}".encode())
    update_with_files(digest, videos)
    return digest.hexdigest()


def set_vectors(
    sets: dict[str, VideoFeatures], cache_dir: Path, log: Log | None = None
) -> dict[str, npt.NDArray[np.float32]]:
    """Each set's (V, TEMPORAL_DIM) clip vectors, in the order of its videos."""
    return {
        name: clip_vectors(feats.videos, cache_dir / f"temporal_{name}.npz", log, name)
        for name, feats in sets.items()
    }


def join_vectors(
    sets: dict[str, VideoFeatures], vectors: dict[str, dict[str, npt.NDArray[np.floating[Any]]]]
) -> dict[str, VideoFeatures]:
    """Frame rows with their clip's temporal vector appended, as ``ClipDetector`` builds them
    when ``DetectorConfig.temporal`` is set (NaN for clips without one).

    Args:
        sets: frame features per set.
        vectors: per set, clip path -> temporal vector (``vectors_by_path``).
    """
    return {
        name: append_clip_vectors(feats, _lookup(vectors[name])) for name, feats in sets.items()
    }


def _lookup(
    known: dict[str, npt.NDArray[np.floating[Any]]],
) -> Callable[[LabeledVideo], npt.NDArray[np.floating[Any]] | None]:
    def vector_of(video: LabeledVideo) -> npt.NDArray[np.floating[Any]] | None:
        return known.get(str(video.path))

    return vector_of


def vectors_by_path(
    sets: dict[str, VideoFeatures], tables: dict[str, npt.NDArray[np.float32]]
) -> dict[str, dict[str, npt.NDArray[np.float32]]]:
    """Per set, clip path -> its row of ``tables[set]`` (rows in the order of the set's videos)."""
    return {
        name: {str(v.path): tables[name][i] for i, v in enumerate(feats.videos)}
        for name, feats in sets.items()
    }
