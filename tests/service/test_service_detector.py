"""The classifier as one signal of the verdict, with a tiny detector trained here on real footage.

Real: crops of the real clips. "Synthetic": the same crops through a crude decoder (2x block
average, nearest upsampling), the generator trace the forensic features look for. The point is
the service's handling of a real ``ClipDetector`` (scores, segments, the plot, the verdict rules),
not the detector's accuracy, which the detector's own benchmark measures.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from reelproof.service.pipeline import VerifyOptions, verify_clip
from reelproof.service.report import render_html


def decoder_like(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(np.float32)
    n, h, w, c = f.shape
    small = f.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
    up = ndimage.uniform_filter(small.repeat(2, axis=1).repeat(2, axis=2), size=(1, 2, 2, 1))
    return np.clip(up, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, real_video_paths: dict[str, Path]) -> Path:
    from reelproof.core import Clip
    from reelproof.core.io import read_clip, write_clip
    from reelproof.detector import DetectorConfig
    from reelproof.detector.training import train_from_folders

    root = tmp_path_factory.mktemp("tiny-data")
    for folder in ("real", "fake/nearest2x", "fake/nearest2x_b"):
        (root / folder).mkdir(parents=True)
    n = 0
    for path in real_video_paths.values():
        clip = read_clip(path, max_frames=32)
        w = clip.width
        for start in (0, 24):
            for left in (0, max(0, w - 128)):
                frames = np.ascontiguousarray(
                    clip.frames[start : start + 8, :128, left : left + 128]
                )
                real = Clip(frames=frames, fps=Fraction(25))
                write_clip(real, root / "real" / f"src{n}__c0.mp4", preset="ultrafast")
                fake = Clip(frames=decoder_like(frames), fps=Fraction(25))
                family = "nearest2x" if n % 2 else "nearest2x_b"
                write_clip(fake, root / "fake" / family / f"src{n}__c0.mp4", preset="ultrafast")
                n += 1
    model = train_from_folders([root], DetectorConfig(folds=4, min_side=64))
    return model.save(tmp_path_factory.mktemp("model") / "tiny.joblib")


def test_classifier_signal_in_verdict_and_report(tiny_model: Path, bikes_mp4: Path) -> None:
    verdict = verify_clip(
        bikes_mp4, VerifyOptions(detector_model=tiny_model, watermark_max_frames=16)
    )
    body = verdict.to_dict()
    det = body["detector"]
    assert det["status"] == "ok", det
    assert det["p_synthetic"] is None or 0.0 <= det["p_synthetic"] <= 1.0
    assert det["label"] in ("synthetic", "real", "inconclusive")
    assert det["model"].startswith("reelproof-detector@")
    assert body["versions"]["detector_model"] == det["model"]
    # Camera footage without credentials or mark: never "tampered" or "marked", whatever the
    # classifier says; a "synthetic" label alone gives at most "likely_synthetic".
    assert body["verdict"] in ("inconclusive", "likely_synthetic", "not_applicable")
    expected = {"synthetic": "high", "real": "low"}.get(det["label"], "uncertain")
    if det["p_synthetic"] is not None:
        assert body["synthetic_likelihood"] == expected
    assert det["segments"], "no per-segment scores"
    page = render_html(body, [])
    assert "<svg" in page and "<circle" in page
