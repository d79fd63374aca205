"""rp-ss on real footage: fidelity, round trips, geometry, keys, bad input, calibration."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from reelproof.core import Clip
from reelproof.core.errors import InputError, UnknownNameError
from reelproof.core.payload import Payload
from reelproof.watermark import (
    Keyring,
    WatermarkKey,
    create_watermarker,
    detect_file,
    list_watermarkers,
)
from reelproof.watermark.layout import make_layout
from reelproof.watermark.rpss import (
    FoldAccumulator,
    RpSsConfig,
    StreamDetector,
    fixed_hypothesis_z,
    plain_soft,
    score_key,
)

from .conftest import PAYLOAD


def luma_psnr(a: np.ndarray, b: np.ndarray) -> float:
    w = np.array([0.299, 0.587, 0.114])
    mse = float(np.mean(((a.astype(float) - b) @ w) ** 2))
    return 10 * np.log10(255**2 / mse)


def test_registry_lists_rpss_and_baselines() -> None:
    assert {"rp-ss", "dwtDct", "dwtDctSvd"} <= set(list_watermarkers())
    with pytest.raises(UnknownNameError, match="rp-ss"):
        create_watermarker("rp-sss")


def test_embed_is_invisible_by_psnr_and_leaves_input_untouched(
    bikes_frames: np.ndarray, marked_bikes: np.ndarray
) -> None:
    before = bikes_frames.copy()
    again = create_watermarker("rp-ss").embed(bikes_frames, PAYLOAD)
    assert np.array_equal(bikes_frames, before)
    assert again.shape == bikes_frames.shape and again.dtype == np.uint8
    assert np.array_equal(again, marked_bikes)  # deterministic
    assert 42.0 <= luma_psnr(bikes_frames, marked_bikes) < 50.0
    # Only luma changes: R, G and B move together wherever no channel saturated at 0 or 255.
    diff = marked_bikes.astype(int) - bikes_frames
    unclipped = (marked_bikes > 0).all(-1) & (marked_bikes < 255).all(-1)
    assert np.array_equal(diff[..., 0][unclipped], diff[..., 1][unclipped])


def test_embed_stream_matches_embed(bikes_frames: np.ndarray, marked_bikes: np.ndarray) -> None:
    wm = create_watermarker("rp-ss")
    chunks = [bikes_frames[i : i + 5] for i in range(0, 24, 5)]
    streamed = np.concatenate(list(wm.embed_stream(iter(chunks), PAYLOAD)))
    assert np.array_equal(streamed, marked_bikes)


def test_detects_exact_id_and_streams_chunks(marked_bikes: np.ndarray) -> None:
    wm = create_watermarker("rp-ss")
    reading = wm.detect(iter([marked_bikes[i : i + 4] for i in range(0, 24, 4)]))
    assert reading.detected and reading.p_value < 1e-6
    assert reading.payload == PAYLOAD.to_hex() and reading.payload_verified
    assert reading.method == "rp-ss" and reading.evaluable and reading.key_id == "demo-public"
    assert reading.frames_used < 24  # stopped early once settled
    body = reading.to_dict()
    assert body["schema"].startswith("reelproof.watermark_reading/")


def test_unmarked_and_wrong_key_do_not_detect(
    bikes_frames: np.ndarray, marked_bikes: np.ndarray
) -> None:
    assert not create_watermarker("rp-ss").detect(bikes_frames).detected
    other = create_watermarker("rp-ss", key=WatermarkKey.generate())
    reading = other.detect(marked_bikes)
    assert not reading.detected and reading.payload is None


def test_survives_h264_crf28_through_the_core_writer(
    tmp_path: Path, marked_bikes: np.ndarray
) -> None:
    from reelproof.core.io import write_clip

    path = write_clip(
        Clip(frames=marked_bikes, fps=Fraction(25)), tmp_path / "m.mp4", crf=28, tune=None
    )
    reading = detect_file(path, keyring=Keyring([WatermarkKey.generate(), WatermarkKey.demo()]))
    assert reading.detected and reading.payload == PAYLOAD.to_hex()
    assert reading.key_id == "demo-public"


@pytest.mark.parametrize("attack", ["crop", "resize_0.5", "hflip", "shift_3px"])
def test_survives_geometry(marked_bikes: np.ndarray, attack: str) -> None:
    import cv2

    frames = marked_bikes[:6]
    if attack == "crop":  # 70 % of the area, off-centre
        out = frames[:, 20:248, 50:585]
    elif attack == "resize_0.5":
        out = np.stack(
            [
                cv2.resize(cv2.resize(f, (320, 136), interpolation=cv2.INTER_AREA), (640, 272))
                for f in frames
            ]
        )
    elif attack == "hflip":
        out = frames[:, :, ::-1]
    else:
        out = frames[:, 3:, 3:]
    reading = create_watermarker("rp-ss").detect(np.ascontiguousarray(out))
    assert reading.detected and reading.payload == PAYLOAD.to_hex()
    assert reading.flipped == (attack == "hflip")


def test_rotation_is_measured_and_the_optional_grid_still_finds_it(
    marked_bikes: np.ndarray,
) -> None:
    import cv2

    matrix = cv2.getRotationMatrix2D((320.0, 136.0), 1.6, 1.0)
    frames = np.stack(
        [
            cv2.warpAffine(f, matrix, (640, 272), borderMode=cv2.BORDER_REFLECT)
            for f in marked_bikes[:4]
        ]
    )
    # Listed hypotheses alone (no synchronisation) miss it; the synchronisation measures it.
    assert not create_watermarker("rp-ss", sync=False).detect(frames).payload
    measured = create_watermarker("rp-ss").detect(frames)
    assert measured.detected and measured.payload == PAYLOAD.to_hex()
    assert abs(abs(measured.angle) - 1.6) <= 0.1
    grid = tuple(a / 4 for a in range(-8, 9) if a)
    reading = create_watermarker("rp-ss", angles=grid, sync=False).detect(frames)
    assert reading.detected and reading.payload == PAYLOAD.to_hex()
    assert abs(reading.angle - 1.5) <= 0.25 or abs(reading.angle + 1.5) <= 0.25


def test_detects_a_clip_rescaled_to_two_thirds(marked_bikes: np.ndarray) -> None:
    import cv2

    frames = np.stack(
        [cv2.resize(f, (426, 180), interpolation=cv2.INTER_AREA) for f in marked_bikes[:8]]
    )
    reading = create_watermarker("rp-ss").detect(frames)
    # 640x272 -> 426x180 is 0.666 across and 0.662 down: the measured scale lies in between.
    assert reading.detected and reading.payload == PAYLOAD.to_hex()
    assert 180 / 272 - 1e-3 < reading.scale < 426 / 640 + 1e-3


@pytest.mark.parametrize(
    ("name", "frames", "evaluable"),
    [
        ("black", np.zeros((6, 256, 256, 3), np.uint8), False),
        ("flat grey", np.full((6, 256, 256, 3), 128, np.uint8), False),
        (
            "tiny",
            np.random.default_rng(0).integers(0, 256, (6, 48, 48, 3), dtype=np.uint8),
            False,
        ),
        (
            "small",
            np.random.default_rng(0).integers(0, 256, (6, 100, 100, 3), dtype=np.uint8),
            True,
        ),
        (
            "single frame",
            np.random.default_rng(1).integers(0, 256, (1, 300, 300, 3), dtype=np.uint8),
            True,
        ),
    ],
)
def test_bad_input_is_never_a_detection(name: str, frames: np.ndarray, evaluable: bool) -> None:
    reading = create_watermarker("rp-ss").detect(frames)
    assert not reading.detected and reading.payload is None
    assert reading.evaluable is evaluable, name
    if not evaluable:
        assert reading.reason
    if name == "tiny":
        assert "tile" in (reading.reason or "")


def test_tiny_marked_input_and_bad_payloads_are_refused() -> None:
    wm = create_watermarker("rp-ss")
    with pytest.raises(InputError):
        wm.embed(np.zeros((2, 64, 64, 3), np.uint8), Payload.random(32))
    with pytest.raises(InputError):
        wm.embed(np.zeros((2, 64, 64), np.uint8), PAYLOAD)


def test_non_video_file_is_a_clear_error(tmp_path: Path) -> None:
    from reelproof.core.errors import ReelProofError

    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(ReelProofError):
        detect_file(path)


def test_null_is_calibrated_on_unmarked_real_and_random_frames(bikes_frames: np.ndarray) -> None:
    """Per-hypothesis z ~ N(0, 1) over keys; the largest z stays below the detection threshold."""
    from scipy.stats import norm

    config = RpSsConfig()
    rng = np.random.default_rng(5)
    accumulators = []
    for start in range(0, 24, 4):  # real windows
        acc = FoldAccumulator(config)
        for frame in bikes_frames[start : start + 4]:
            acc.add_frame(frame)
        accumulators.append(acc)
    for _ in range(4):  # random noise clips
        acc = FoldAccumulator(config)
        for frame in rng.integers(0, 256, (2, 256, 384, 3), dtype=np.uint8):
            acc.add_frame(frame)
        accumulators.append(acc)
    fixed, largest = [], []
    for index in range(60):
        layout = make_layout(WatermarkKey.from_secret(bytes([index]) * 32), 128, 3.0, 22.0)
        for acc in accumulators:
            z = fixed_hypothesis_z(acc, layout)
            assert z is not None
            fixed.append(z)
        if index < 12:
            for acc in accumulators[::3]:
                score = score_key(acc, layout, True)
                assert score is not None
                largest.append(score.z)
                n_tests = score.n_tests
    # 600 draws of N(0, 1) if calibrated (windows of one scene are correlated: loose bounds)
    values = np.array(fixed)
    assert abs(values.mean()) < 0.2 and 0.85 < values.std() < 1.15
    threshold = norm.isf(1e-6 / n_tests)
    assert max(largest) < threshold - 0.5
    # The largest of n_tests N(0,1) values is typically near isf(1 / n_tests).
    assert abs(float(np.median(largest)) - norm.isf(1.0 / n_tests)) < 1.0


def test_plain_residual_reads_the_same_id_and_backs_up_the_whitened_one(
    marked_bikes: np.ndarray,
) -> None:
    """The second reading (plain residual, scale 1) agrees with the first, and is used when the
    first cannot be decoded; a wrong id still cannot come out of it."""
    config = RpSsConfig()
    detector = StreamDetector([WatermarkKey.demo()], config, max_frames=8)
    for frame in marked_bikes[:8]:
        detector.acc.add_frame(frame)
    layout = detector.layouts[0]
    score = score_key(detector.acc, layout, True)
    assert score is not None and score.hypothesis == (1.0, 0.0)
    plain = plain_soft(detector.acc, layout, score)
    assert plain is not None
    # Same sign on (nearly) every coded bit: both residuals see the same mark.
    assert np.mean(np.sign(plain) == np.sign(score.soft)) > 0.95
    blinded = replace(score, soft=np.zeros_like(score.soft))  # the whitened read fails
    payload, soft = detector._read_payload(layout, blinded)
    assert payload == PAYLOAD.to_hex() and soft is not blinded.soft
    # At a wrong position neither reading passes the MAC: unreadable, never a wrong id.
    misplaced = replace(blinded, offset=(score.offset[0] + 7.0, score.offset[1] + 3.0))
    assert detector._read_payload(layout, misplaced)[0] is None
    # Any other hypothesis has no plain fold.
    assert plain_soft(detector.acc, layout, replace(score, scale=0.5)) is None


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, reelproof.watermark as w; w.list_watermarkers();"
        "heavy = [m for m in ('torch', 'cv2', 'av', 'imwatermark', 'diffusers') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_baselines_embed_and_read_bits(bikes_frames: np.ndarray) -> None:
    frames = np.ascontiguousarray(bikes_frames[:2, :, :])
    frames = np.concatenate([frames, frames], axis=1)  # 544x640: imwatermark wants >= 256x256
    wm = create_watermarker("dwtDctSvd")
    reading = wm.detect(wm.embed(frames, PAYLOAD))
    assert reading.payload == PAYLOAD.to_hex() and not reading.detected
    small = create_watermarker("dwtDct").detect(np.zeros((1, 100, 100, 3), np.uint8))
    assert not small.evaluable
