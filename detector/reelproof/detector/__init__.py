"""reelproof.detector: a calibrated classifier for synthetic (AI-made) video.

A fallback signal behind provenance: it scores clips that carry no credentials or whose
credentials were stripped. Quick use::

    from reelproof.detector import load_detector
    score = load_detector().score_file("clip.mp4", faces=True)   # shipped default weights
    score.p_synthetic, score.label, score.code, score.segments, score.faces

``label`` is "synthetic", "real", "inconclusive" or "abstain" (the clip is outside what the
classifier can judge: too short, too small, blank, a still, a slideshow, heavily compressed;
``code`` and ``reason`` say which). ``faces`` holds one ``FaceTrack`` per face in face mode.

Importing this package loads almost nothing; its names import their modules on first use
(scikit-learn with the heads and models; torch only with the timm backbones, the
training-corpus decoders and face mode, MTCNN from facenet-pytorch).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from reelproof.core.lazy import lazy_getattr

if TYPE_CHECKING:
    from reelproof.detector.backbones import (
        BACKBONES,
        FeatureExtractor,
        create_backbone,
        list_backbones,
    )
    from reelproof.detector.datasets import LabeledVideo, discover
    from reelproof.detector.heads import HEADS, create_head, list_heads
    from reelproof.detector.model import ClipDetector, DetectorConfig
    from reelproof.detector.score import DetectorScore, FaceTrack, Segment

# Imported on first use (PEP 562): the verdict needs ``DetectorScore`` without scikit-learn's
# seconds-long import, and a service without the detector extra still starts.
_LAZY = {
    "BACKBONES": "backbones",
    "FeatureExtractor": "backbones",
    "create_backbone": "backbones",
    "list_backbones": "backbones",
    "LabeledVideo": "datasets",
    "discover": "datasets",
    "HEADS": "heads",
    "create_head": "heads",
    "list_heads": "heads",
    "ClipDetector": "model",
    "DetectorConfig": "model",
    "DetectorScore": "score",
    "Segment": "score",
    "FaceTrack": "score",
}

__getattr__ = lazy_getattr(__name__, _LAZY)


DEFAULT_WEIGHTS = "default.joblib"

__all__ = [
    "BACKBONES",
    "DEFAULT_WEIGHTS",
    "HEADS",
    "ClipDetector",
    "DetectorConfig",
    "DetectorScore",
    "FaceTrack",
    "FeatureExtractor",
    "LabeledVideo",
    "Segment",
    "create_backbone",
    "create_head",
    "discover",
    "list_backbones",
    "list_heads",
    "load_detector",
]


def load_detector(path: Path | str | None = None) -> ClipDetector:
    """Load a saved detector; ``None`` loads the shipped default weights.

    Model files are joblib pickles: load only files you trust (the shipped default and models
    you trained). The file's sha256 becomes part of ``DetectorScore.model``.

    Raises:
        ConfigError: the file is missing or is not a ReelProof detector.
    """
    from reelproof.detector.persist import load_model_file

    if path is not None:
        return load_model_file(Path(path))
    ref = resources.files("reelproof.detector") / "weights" / DEFAULT_WEIGHTS
    with resources.as_file(ref) as real_path:
        return load_model_file(real_path)
