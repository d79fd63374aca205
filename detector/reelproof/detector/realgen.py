"""Training and evaluation data from real generators: the shared aivideo clips, their format
controls, and the decoder-reconstruction corpus, as cached frame features.

``aivideo_features`` returns one ``VideoFeatures`` per format variant ("orig" plus each of
``aivideo.VARIANTS``); every variant clip keeps its original's label, family and source, so
splits by family and by source hold across variants.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from reelproof.core import ConfigError
from reelproof.detector.aivideo import build_controls, read_manifest
from reelproof.detector.backbones import FeatureExtractor
from reelproof.detector.model import DetectorConfig
from reelproof.detector.protocol import videos_features
from reelproof.detector.training import VideoFeatures

Log = Callable[[str], None]
# Share of the picture left out on every side when choosing patches (logos and captions sit
# there), for the default weights and the benchmark that measures them.
SHIPPED_MARGIN = 0.08
ENV_AIVIDEO = "REELPROOF_AIVIDEO"
# Where a checkout finds the shared clips: the environment first, then beside the repository.
AIVIDEO_CANDIDATES = (Path("../shared/aivideo"), Path("../../shared/aivideo"))


def shipped_config(seed: int = 0) -> DetectorConfig:
    """The settings of the shipped default detector (and of the benchmark's grouped hold-out,
    which refits it per fold): traces backbone, fusion head with the temporal features, the
    "synthetic" threshold set for 1% false positives on out-of-fold camera clips."""
    return DetectorConfig(
        backbone="traces",
        head="fusion",
        temporal=True,
        margin=SHIPPED_MARGIN,
        target_fpr=0.01,
        seed=seed,
    )


def find_aivideo(explicit: Path | None = None) -> Path | None:
    """The shared aivideo folder: ``explicit``, ``$REELPROOF_AIVIDEO`` or ``../shared/aivideo``
    (None when none holds a manifest)."""
    candidates = [explicit] if explicit is not None else []
    if os.environ.get(ENV_AIVIDEO):
        candidates.append(Path(os.environ[ENV_AIVIDEO]))
    candidates += list(AIVIDEO_CANDIDATES)
    for path in candidates:
        if path is not None and (path / "manifest.csv").is_file():
            return path
    return None


def require_aivideo(explicit: Path | None = None) -> Path:
    """Like ``find_aivideo`` but raises ``ConfigError`` with what to do when it is missing."""
    found = find_aivideo(explicit)
    if found is None:
        raise ConfigError(
            "the shared real-generator clips (aivideo/manifest.csv) were not found",
            hint=f"pass --aivideo DIR or set {ENV_AIVIDEO} to the shared aivideo folder",
        )
    return found


def aivideo_features(
    root: Path,
    work_dir: Path,
    extractor: FeatureExtractor,
    max_frames: int,
    margin: float,
    log: Log | None = None,
) -> dict[str, VideoFeatures]:
    """Frame features of the shared clips and of their format controls (cached)."""
    videos = read_manifest(root)
    sets = {"orig": videos, **build_controls(videos, work_dir / "controls", log=log)}
    cache = work_dir / "features" / f"{extractor.name}_{max_frames}"
    return {
        name: videos_features(
            vs, extractor, max_frames, cache / f"aivideo_{name}.npz", log, margin, name
        )
        for name, vs in sets.items()
    }
