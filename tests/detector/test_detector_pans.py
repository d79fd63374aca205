"""The panned-still screening rule on real photos panned into clips and on real footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelproof.core.io import read_clip
from reelproof.detector import ClipDetector
from reelproof.detector.frames import find_content_box, gray_u8
from reelproof.detector.pans import centre_crop, is_panned_still, pair_shift, pan_profile

from .conftest import camera_like_frames, write_mp4

PHOTOS = Path(__file__).resolve().parents[2] / "data" / "photos"


def _photo(name: str = "astronaut.png", side: int = 400) -> np.ndarray:
    path = PHOTOS / name
    if not path.is_file():
        pytest.fail(f"{path} missing; run `make data` first", pytrace=False)
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:side, :side])


def _pan(rgb: np.ndarray, n: int = 50, step: tuple[int, int] = (1, 1)) -> np.ndarray:
    """A still moved ``step`` pixels per frame (rows, columns): a photo panned into a clip."""
    dy, dx = step
    h, w = rgb.shape[0] - n * dy, rgb.shape[1] - n * dx
    return np.stack([rgb[i * dy : i * dy + h, i * dx : i * dx + w] for i in range(n)])


def test_phase_correlation_recovers_a_known_shift_and_leaves_no_residual() -> None:
    rgb = _photo()
    gray = gray_u8(np.stack([rgb[10:310, 10:310], rgb[7:307, 13:313]]))  # moved 3 down, 3 left
    crops = centre_crop(gray, find_content_box(gray))
    s = pair_shift(crops[0], crops[1])
    assert s.dx == pytest.approx(-3.0, abs=0.1) and s.dy == pytest.approx(3.0, abs=0.1)
    assert s.raw > 5.0 and s.aligned < 0.1 and s.translated
    # The inputs are left as they were (OpenCV windows its inputs in place unless copied).
    assert np.array_equal(crops[0], gray[0, 22:278, 22:278].astype(np.float32))


@pytest.mark.parametrize("vertical", [False, True])
def test_photo_panned_into_a_clip_abstains_as_panned_still(
    tiny_detector: ClipDetector, tmp_path: Path, vertical: bool
) -> None:
    pan = _pan(_photo())
    if vertical:  # a 9:16 canvas: bars above and below stay put while the picture moves
        canvas = np.zeros((pan.shape[0], pan.shape[2] * 16 // 9 // 2 * 2, pan.shape[2], 3))
        top = (canvas.shape[1] - pan.shape[1]) // 2
        canvas[:, top : top + pan.shape[1]] = pan
        pan = canvas.astype(np.uint8)
    score = tiny_detector.score_file(write_mp4(tmp_path / "pan.mp4", pan))
    assert score.label == "abstain" and score.code == "panned_still"
    assert score.p_synthetic is None and score.reason is not None
    assert score.reason.startswith("panned still")


def test_real_camera_footage_is_not_taken_for_a_panned_still(
    tiny_detector: ClipDetector, bikes_mp4: Path, carphone_mp4: Path
) -> None:
    for path in (bikes_mp4, carphone_mp4):
        frames = np.asarray(read_clip(path, max_frames=64).frames)[::4]
        gray = gray_u8(frames)
        shifts = pan_profile(gray, find_content_box(gray))
        assert len(shifts) == frames.shape[0] - 1
        assert not is_panned_still(shifts, 0.8)
        score = tiny_detector.score_file(path)
        assert score.code != "panned_still" and score.p_synthetic is not None


def test_a_pan_of_synthetic_texture_with_fresh_noise_in_each_frame_is_scored() -> None:
    # camera_like_frames pans a texture by whole pixels but adds new sensor noise per frame:
    # after alignment the noise stays, as in a real camera pan, so the rule must not fire.
    frames = camera_like_frames(seed=3, n=12, size=128)
    gray = gray_u8(frames)
    shifts = pan_profile(gray, find_content_box(gray))
    assert not is_panned_still(shifts, 0.8)
    # The same texture without the noise, moved rigidly, is a panned still.
    still = np.repeat(_photo(side=200)[None], 1, axis=0)[0]
    rigid = gray_u8(_pan(still, n=12, step=(0, 2)))
    assert is_panned_still(pan_profile(rigid, find_content_box(rigid)), 0.8)
