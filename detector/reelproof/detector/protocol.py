"""The offline data protocol shared by the default-weights script and the benchmark.

- ``prepare_roots``: build (once, cached under ``work_dir``) the decoder corpus and its
  re-encoded / resampled variants, each a folder in the GenVideo-style layout.
- ``root_features``: frame features of one root, cached as ``.npz`` keyed by backbone and
  frame budget, and recomputed when the file list, a file's size or time, the extractor or the
  feature code changes (a stale cache would silently score yesterday's features).
- ``concat_features``: stack several roots (e.g. the base corpus plus augmentation variants).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.detector import backbones, features, training
from reelproof.detector.backbones import FeatureExtractor
from reelproof.detector.datasets import LabeledVideo, discover
from reelproof.detector.training import VideoFeatures, extract_features

Log = Callable[[str], None]


def prepare_roots(
    data_dir: Path, work_dir: Path, variant_names: Sequence[str], log: Log = print
) -> dict[str, Path]:
    """Corpus roots by name: ``base`` (camera slice), ``cgi`` and each requested variant.

    Builds what is missing: the corpus (decoder training, minutes on one core) and variants.
    """
    from reelproof.detector.corpus import (
        EVAL_VARIANTS,
        TRAIN_VARIANTS,
        build_corpus,
        build_variants,
    )

    corpus = work_dir / "corpus"
    if not (corpus / "corpus.json").is_file():
        log(f"building the decoder corpus in {corpus} (one-time, a few minutes)")
        build_corpus(data_dir, corpus, log=log)
    known = {v.name: v for v in (*TRAIN_VARIANTS, *EVAL_VARIANTS)}
    wanted = [known[name] for name in variant_names]
    roots = {"base": corpus / "camera", "cgi": corpus / "cgi"}
    for root in build_variants(corpus / "camera", work_dir / "variants", wanted, log=log):
        roots[root.name] = root
    return roots


def root_features(
    root: Path,
    extractor: FeatureExtractor,
    max_frames: int,
    cache_dir: Path | None = None,
    log: Log | None = None,
    margin: float = 0.0,
) -> VideoFeatures:
    """Features of every video under ``root`` (layouts as ``discover``), cached as npz."""
    _layout, videos = discover(root)
    cache = None
    if cache_dir is not None:
        cache = cache_dir / f"{extractor.name}_{max_frames}" / f"{_cache_name(root)}.npz"
    return videos_features(videos, extractor, max_frames, cache, log, margin, label=str(root))


def videos_features(
    videos: Sequence[LabeledVideo],
    extractor: FeatureExtractor,
    max_frames: int,
    cache: Path | None = None,
    log: Log | None = None,
    margin: float = 0.0,
    label: str = "videos",
) -> VideoFeatures:
    """Features of ``videos``, cached in the npz file ``cache`` (None: no cache)."""
    videos = list(videos)
    key = cache_key(extractor, videos) + f":{margin}" if cache is not None else None
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if "key" in z.files and str(z["key"]) == key:
                return _from_cache(videos, z["X"], z["video"], z["kept"])
    if log:
        log(f"features: {label} ({len(videos)} videos)")
    feats = extract_features(videos, extractor, max_frames, margin=margin)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        index = {id(v): i for i, v in enumerate(videos)}
        kept = np.array([index[id(v)] for v in feats.videos], dtype=np.int64)
        paths = np.array([str(v.path) for v in videos])
        np.savez(cache, X=feats.X, video=feats.video, paths=paths, kept=kept, key=np.array(key))
    return feats


def cache_key(extractor: FeatureExtractor, videos: Sequence[LabeledVideo]) -> str:
    """Digest of what the cached features depend on.

    Each file by family folder + name (so the cache survives the root being spelled
    differently), size and modification time; the extractor's repr; and the source of the
    feature code, so an edit to it invalidates old caches instead of mixing feature versions.
    """
    h = hashlib.sha256()
    for module in (features, backbones, training):
        h.update(inspect.getsource(module).encode())
    h.update(repr(extractor).encode())
    update_with_files(h, videos)
    return h.hexdigest()


def update_with_files(h: hashlib._Hash, videos: Sequence[LabeledVideo]) -> None:
    """Add each file to digest ``h`` by family folder + name, size and modification time."""
    for v in videos:
        st = v.path.stat()
        h.update(f"{'/'.join(v.path.parts[-2:])}:{st.st_size}:{st.st_mtime_ns}\n".encode())


def _cache_name(root: Path) -> str:
    return "_".join(root.parts[-2:])


def _from_cache(
    videos: list[LabeledVideo],
    x: npt.NDArray[np.float32],
    video: npt.NDArray[np.int64],
    kept: npt.NDArray[np.int64],
) -> VideoFeatures:
    return VideoFeatures(
        X=x.astype(np.float32), video=video.astype(np.int64), videos=tuple(videos[i] for i in kept)
    )


def concat_features(parts: Sequence[VideoFeatures]) -> VideoFeatures:
    """One ``VideoFeatures`` holding all videos of ``parts`` (frame rows re-indexed)."""
    offset = 0
    xs, idx, vids = [], [], []
    for part in parts:
        xs.append(part.X)
        idx.append(part.video + offset)
        vids += list(part.videos)
        offset += len(part.videos)
    return VideoFeatures(X=np.concatenate(xs), video=np.concatenate(idx), videos=tuple(vids))
