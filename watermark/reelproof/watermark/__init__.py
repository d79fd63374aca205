"""reelproof.watermark: a keyed, calibrated, CPU-only invisible video watermark.

Light by design (numpy and scipy only). ``create_watermarker("rp-ss", key=...)`` builds the
ReelProof spread-spectrum mark; ``dwtDct`` and ``dwtDctSvd`` (from ``invisible-watermark``, the
``eval`` extra) are registered as baselines and import their library lazily.
"""

from reelproof.watermark import baselines as _baselines  # noqa: F401  (registers the baselines)
from reelproof.watermark.base import (
    WATERMARKERS,
    FrameSource,
    Watermarker,
    create_watermarker,
    list_watermarkers,
)
from reelproof.watermark.files import detect_file
from reelproof.watermark.keys import DEMO_KEY_ID, Keyring, WatermarkKey
from reelproof.watermark.reading import WatermarkReading
from reelproof.watermark.rpss import RpSsConfig, RpSsWatermarker, StreamDetector
from reelproof.watermark.stills import MarkedStill, detect_frames, detect_still, embed_still

__all__ = [
    "DEMO_KEY_ID",
    "WATERMARKERS",
    "FrameSource",
    "Keyring",
    "MarkedStill",
    "RpSsConfig",
    "RpSsWatermarker",
    "StreamDetector",
    "WatermarkKey",
    "WatermarkReading",
    "Watermarker",
    "create_watermarker",
    "detect_file",
    "detect_frames",
    "detect_still",
    "embed_still",
    "list_watermarkers",
]
