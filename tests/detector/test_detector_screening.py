"""Out-of-domain clips on real files: stills, slideshows, short, compressed, letterboxed and
vertical clips; face mode with MTCNN on real face footage."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from reelproof.core.io import VideoWriter, read_clip
from reelproof.detector import ClipDetector
from reelproof.detector.faces import FaceHead, FaceTrack

from .conftest import camera_like_frames, write_mp4


def _write(path: Path, frames: np.ndarray, fps: int = 25, crf: int = 23) -> Path:
    with VideoWriter(
        path, fps=Fraction(fps), width=frames.shape[2], height=frames.shape[1], crf=crf
    ) as writer:
        writer.write(frames)
    return path


def test_still_recorded_as_a_five_second_movie_abstains(
    tiny_detector: ClipDetector, bikes_mp4: Path, tmp_path: Path
) -> None:
    still = np.asarray(read_clip(bikes_mp4, max_frames=1).frames)[0]
    path = _write(tmp_path / "still.mp4", np.stack([still] * 125))  # 5 s at 25 fps
    score = tiny_detector.score_file(path)
    assert score.label == "abstain" and score.p_synthetic is None and score.code == "static"
    assert score.reason is not None and score.reason.startswith("static picture")


def test_slideshow_abstains(tiny_detector: ClipDetector, bikes_mp4: Path, tmp_path: Path) -> None:
    frames = np.asarray(read_clip(bikes_mp4).frames)
    stills = [frames[0], frames[120], frames[240]]  # three scenes of the street footage
    show = np.stack([s for s in stills for _ in range(50)])  # 2 s each
    score = tiny_detector.score_file(_write(tmp_path / "show.mp4", show))
    assert score.label == "abstain" and score.code == "slideshow"
    assert score.reason is not None and "slideshow" in score.reason


def test_one_second_clip_is_scored_and_a_fraction_of_one_abstains(
    tiny_detector: ClipDetector, bikes_mp4: Path, tmp_path: Path
) -> None:
    frames = np.asarray(read_clip(bikes_mp4, max_frames=25).frames)[:, :240, :320]
    one_second = tiny_detector.score_file(_write(tmp_path / "one.mp4", frames))
    assert one_second.p_synthetic is not None and one_second.label != "abstain"
    short = tiny_detector.score_file(_write(tmp_path / "short.mp4", frames[:12]))
    assert short.label == "abstain" and short.code == "too_short"
    assert short.reason == "too short: 0.5 s; the classifier needs 0.75 s"


def test_heavy_compression_abstains(tiny_detector: ClipDetector, bikes_mp4: Path) -> None:
    frames = np.asarray(read_clip(bikes_mp4, max_frames=25).frames)
    score = tiny_detector.score_frames(frames, 25.0, bits_per_pixel=0.002)
    assert score.label == "abstain" and score.code == "heavy_compression"
    assert tiny_detector.score_frames(frames, 25.0, bits_per_pixel=0.2).label != "abstain"


def test_letterboxed_and_vertical_clips_are_scored(
    tiny_detector: ClipDetector, tmp_path: Path
) -> None:
    frames = camera_like_frames(seed=21, size=128)
    boxed = np.zeros((frames.shape[0], 256, 128, 3), np.uint8)  # vertical, bars above/below
    boxed[:, 64:192] = frames
    plain = tiny_detector.score_file(write_mp4(tmp_path / "plain.mp4", frames))
    framed = tiny_detector.score_file(write_mp4(tmp_path / "framed.mp4", boxed))
    assert plain.p_synthetic is not None and framed.p_synthetic is not None
    assert framed.label == plain.label
    assert abs(framed.p_synthetic - plain.p_synthetic) < 0.1


@pytest.fixture(scope="module")
def face_head(carphone_mp4: Path) -> FaceHead:
    """A face head fitted on carphone's face and its self-blended copies (real code path)."""
    from reelproof.detector.face_training import (
        FaceSamples,
        clip_face_samples,
        fit_face_model,
    )
    from reelproof.detector.sampling import sample_frames

    frames, _stamps, _fps = sample_frames(carphone_mp4, 12)
    parts = [
        clip_face_samples(frames[i::3], f"c{i}", 0, "real", f"s{i}", sbi_seed=i) for i in range(3)
    ]
    samples = FaceSamples.concat(parts)
    assert set(samples.family) == {"real", "self-blended"} and samples.y.sum() > 0
    return FaceHead(fit_face_model(samples), (1.0, 0.0), (0.3, 0.7))


def test_face_mode_tracks_the_face_in_real_footage(
    tiny_detector: ClipDetector, face_head: FaceHead, carphone_mp4: Path
) -> None:
    from PIL import Image

    tiny_detector.face_head = face_head
    try:
        score = tiny_detector.score_file(carphone_mp4, faces=True)
    finally:
        tiny_detector.face_head = None
    assert score.faces, "carphone shows one face for its whole length"
    track = score.faces[0]
    assert isinstance(track, FaceTrack) and track.track_id == 0
    assert 0.0 <= track.start_s < track.end_s <= 4.1
    assert 0.0 <= track.p_synthetic <= 1.0 and track.label in ("synthetic", "real", "inconclusive")
    x, y, w, h = track.box
    assert x >= 0 and y >= 0 and x + w <= 176 + 2 and y + h <= 144 + 2 and min(w, h) >= 30
    with Image.open(io.BytesIO(track.thumbnail_jpeg)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 96
    body = score.to_dict()["faces"][0]
    assert set(body) >= {"start_s", "end_s", "p_synthetic", "box", "thumbnail_jpeg"}


def test_face_mode_without_a_face_head_says_what_to_do(
    tiny_detector: ClipDetector, carphone_mp4: Path
) -> None:
    from reelproof.core import ConfigError

    with pytest.raises(ConfigError, match="no face head"):
        tiny_detector.score_file(carphone_mp4, faces=True)
