"""reelproof.detector: a calibrated classifier for synthetic (AI-made) video.

A fallback signal behind provenance: it scores clips that carry no credentials or whose
credentials were stripped. Quick use::

    from reelproof.detector import load_detector
    score = load_detector().score_file("clip.mp4", faces=True)   # shipped default weights
    score.p_synthetic, score.label, score.code, score.segments, score.faces

``label`` is "synthetic", "real", "inconclusive" or "abstain" (the clip is outside what the
classifier can judge: too short, too small, blank, a still, a slideshow, heavily compressed;
``code`` and ``reason`` say which). ``faces`` holds one ``FaceTrack`` per face in face mode.

Importing this package loads numpy and scikit-learn only; torch is imported only by the timm
backbones, the training-corpus decoders and face mode (MTCNN from facenet-pytorch).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reelproof.detector.backbones import (
    BACKBONES,
    FeatureExtractor,
    create_backbone,
    list_backbones,
)
from reelproof.detector.datasets import LabeledVideo, discover
from reelproof.detector.faces import FaceTrack
from reelproof.detector.heads import HEADS, create_head, list_heads
from reelproof.detector.model import ClipDetector, DetectorConfig, DetectorScore, Segment

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
