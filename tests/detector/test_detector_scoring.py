"""ClipDetector on real files: separation, calibration sanity, abstentions, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelproof.core import ConfigError, InputError
from reelproof.detector import ClipDetector, DetectorScore, load_detector
from reelproof.detector.frames import find_content_box, to_luma

from .conftest import camera_like_frames, decoder_like, write_mp4


def test_tiny_detector_separates_held_out_clips(
    tiny_detector: ClipDetector, tmp_path: Path
) -> None:
    real = camera_like_frames(seed=100)
    fake = decoder_like(real)
    p_real = tiny_detector.score_file(write_mp4(tmp_path / "r.mp4", real)).p_synthetic
    p_fake = tiny_detector.score_file(write_mp4(tmp_path / "f.mp4", fake)).p_synthetic
    assert p_real is not None and p_fake is not None
    assert p_fake > 0.5 > p_real


def test_card_and_thresholds(tiny_detector: ClipDetector) -> None:
    low, high = tiny_detector.thresholds
    assert 0.0 <= low <= 0.5 <= high < 1.0
    card = tiny_detector.card
    assert card["training"]["real_videos"] == 8 and card["training"]["fake_videos"] == 8
    assert card["out_of_fold"]["video"]["auc"] > 0.9
    assert set(card["training"]["families"]) == {"nearest2x", "nearest2x_b"}


def test_score_is_a_result_with_segments(tiny_detector: ClipDetector) -> None:
    frames = np.concatenate([camera_like_frames(seed=7, n=6)] * 5)  # 30 frames at 25 fps
    score = tiny_detector.score_frames(frames, fps=25.0)
    assert isinstance(score, DetectorScore)
    assert score.label in ("synthetic", "real", "inconclusive")
    assert score.code in (None, "between_thresholds")
    assert score.frames_used == 30
    assert [s.start_s for s in score.segments] == [0.0, 1.0]
    start, end, p = score.segments[0]  # unpacks like a tuple
    assert end - start == 1.0 and 0.0 <= p <= 1.0
    body = score.to_dict()
    assert body["schema"].startswith("reelproof.detector_score/")
    assert set(body["segments"][0]) == {"start_s", "end_s", "p_synthetic"}


def _textured(n: int, size: int) -> np.ndarray:
    return np.concatenate([camera_like_frames(seed=3, n=20, size=size)] * (n // 20 + 1))[:n]


@pytest.mark.parametrize(
    ("frames", "code", "words"),
    [
        (_textured(25, 48), "too_small", "too small: the picture is 48x48"),
        (np.full((25, 128, 128, 3), 90, np.uint8), "flat", "blank picture"),
        (camera_like_frames(seed=4, n=3), "too_short", "3 distinct frames"),
        (camera_like_frames(seed=4, n=10), "too_short", "too short: 0.4 s"),
    ],
)
def test_unjudgeable_clips_abstain_with_a_code_and_a_reason(
    tiny_detector: ClipDetector, frames: np.ndarray, code: str, words: str
) -> None:
    score = tiny_detector.score_frames(frames, fps=25.0)
    assert score.label == "abstain" and score.p_synthetic is None
    assert score.code == code and score.frames_used == 0 and score.segments == ()
    assert score.reason is not None and words in score.reason
    body = score.to_dict()
    assert body["label"] == "abstain" and body["code"] == code and body["faces"] == []


def test_grayscale_input_is_handled(tiny_detector: ClipDetector) -> None:
    gray = camera_like_frames(seed=9)[..., 0]  # (T, H, W)
    score = tiny_detector.score_frames(gray, fps=25.0)
    assert score.p_synthetic is not None and score.frames_used == gray.shape[0]


def test_bad_frames_raise_input_error(tiny_detector: ClipDetector) -> None:
    with pytest.raises(InputError):
        tiny_detector.score_frames(np.zeros((2, 64, 64, 3), np.float32), fps=25.0)  # type: ignore[arg-type]


def test_letterbox_bars_are_cropped(tiny_detector: ClipDetector) -> None:
    frames = camera_like_frames(seed=11)
    boxed = np.zeros((frames.shape[0], 128 + 64, 128, 3), np.uint8)
    boxed[:, 32:160] = frames
    box = find_content_box(to_luma(boxed))
    assert box.top >= 32 and box.bottom <= 160 and box.top % 16 == 0
    a = tiny_detector.score_frames(boxed, fps=25.0)
    b = tiny_detector.score_frames(frames[:, 16:], fps=25.0)
    assert a.p_synthetic is not None and b.p_synthetic is not None
    assert abs(a.p_synthetic - b.p_synthetic) < 0.05


def test_save_and_load_round_trip(tiny_detector: ClipDetector, tmp_path: Path) -> None:
    path = tiny_detector.save(tmp_path / "det.joblib")
    card = path.with_name("det.joblib.card.json")
    assert card.is_file() and "sha256" in card.read_text()
    loaded = load_detector(path)
    frames = camera_like_frames(seed=12)
    assert loaded.score_frames(frames, 25.0).p_synthetic == pytest.approx(
        tiny_detector.score_frames(frames, 25.0).p_synthetic
    )
    assert loaded.model_id.endswith(loaded.digest[:12])
    with pytest.raises(ConfigError):
        load_detector(tmp_path / "missing.joblib")
    (tmp_path / "junk.joblib").write_bytes(b"junk")
    with pytest.raises(ConfigError):
        load_detector(tmp_path / "junk.joblib")


def test_shipped_default_weights_load_and_score_real_footage(carphone_mp4: Path) -> None:
    det = load_detector()
    assert det.card["training"]["fake_videos"] > 0
    score = det.score_file(carphone_mp4, max_frames=8)
    assert score.p_synthetic is not None and score.frames_used == 8
    assert score.model.startswith("reelproof-default@")


def test_rounded_luma_finds_the_same_bars() -> None:
    """The letterbox search runs on rounded uint8 luma (fast); it agrees with float luma."""
    from reelproof.detector.frames import gray_u8

    frames = camera_like_frames(seed=13)
    boxed = np.zeros((frames.shape[0], 128 + 64, 128 + 32, 3), np.uint8)
    boxed[:, 32:160, 16:144] = frames
    gray, luma = gray_u8(boxed), to_luma(boxed)
    assert gray.dtype == np.uint8 and gray.shape == luma.shape
    assert np.abs(gray.astype(np.float32) - luma).max() <= 0.5 + 1e-3
    assert find_content_box(gray) == find_content_box(luma)
    assert find_content_box(gray).top >= 32
