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


def test_faces_and_abstentions_reach_the_verdict(carphone_mp4: Path, tmp_path: Path) -> None:
    """Face mode's tracks are in the verdict's JSON and report; an abstaining classifier says
    why, and the verdict stays valid against the generated schema."""
    from reelproof.service.api.models import VerdictModel

    verdict = verify_clip(carphone_mp4, VerifyOptions(watermark=False))
    body = verdict.to_dict()
    VerdictModel.model_validate(body)
    faces = body["detector"]["faces"]  # type: ignore[index]
    assert faces and faces[0]["end_s"] > faces[0]["start_s"]
    assert bytes.fromhex(faces[0]["thumbnail_jpeg"])[:2] == b"\xff\xd8"  # a JPEG
    assert any(e["code"] in ("faces_scored", "face_likely_synthetic") for e in body["evidence"])  # type: ignore[union-attr]
    page = render_html(body, [])
    assert 'id="faces"' in page and "data:image/jpeg;base64," in page

    still = tmp_path / "still.mp4"  # one picture held for 4 seconds: nothing to judge
    from reelproof.core.io import read_clip, write_clip

    clip = read_clip(carphone_mp4, max_frames=1)
    write_clip(clip.with_frames(np.repeat(clip.frames, 100, axis=0)), still)
    abstained = verify_clip(still, VerifyOptions(watermark=False, faces=False)).to_dict()
    VerdictModel.model_validate(abstained)
    assert abstained["detector"]["label"] == "abstain"  # type: ignore[index]
    assert abstained["detector"]["code"] == "static" and abstained["detector"]["reason"]  # type: ignore[index]
    assert abstained["synthetic_likelihood"] == "unknown"
