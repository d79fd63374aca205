"""Issue 20's cases, one regression test each: a marked real clip re-posted the way the issue
found it lost (letterbox, picture-in-picture, screen capture, downscale-compress-upscale, a 1
degree rotation, AV1) must come back with its exact id. Small sizes keep each test short; the
benchmark (``reelproof eval watermark``) runs the full grid at 360p-1080p."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from reelproof.core import Clip
from reelproof.eval.attacks import create_attack
from reelproof.watermark import Keyring, WatermarkKey, create_watermarker, detect_file

from .conftest import PAYLOAD


@pytest.fixture(scope="module")
def marked_clip(marked_bikes: np.ndarray) -> Clip:
    """16 marked frames of bikes (640x272, real footage) at 25 fps."""
    return Clip(frames=np.ascontiguousarray(marked_bikes[:16]), fps=Fraction(25))


@pytest.mark.parametrize(
    ("case", "scale"),
    [
        ("letterbox_80", 0.8),
        ("pip_60", 0.6),
        ("screen_capture", 0.9),
        ("down75_crf30_up", 1.0),
        ("rotate_1", 1.0),
    ],
)
def test_reposted_clip_gives_back_the_exact_id(marked_clip: Clip, case: str, scale: float) -> None:
    reposted = create_attack(case)(marked_clip)
    reading = create_watermarker("rp-ss").detect(reposted.frames)
    assert reading.detected and reading.payload == PAYLOAD.to_hex(), case
    assert reading.payload_verified
    # The geometry was measured, not guessed: the reported scale is the re-post's.
    assert abs(reading.scale - scale) < 0.02, reading.scale
    if case == "rotate_1":
        assert 0.7 < abs(reading.angle) < 1.3


def test_av1_file_is_decoded_and_read(tmp_path: Path, marked_clip: Clip) -> None:
    """AV1 (SVT-AV1, CRF 45) used to be refused before decoding: the libdav1d decoder's name
    was compared with the allow-list's codec names."""
    import av

    try:
        av.Codec("libsvtav1", "w")
    except ValueError:  # UnknownCodecError
        pytest.skip("this PyAV build has no AV1 encoder")
    path = tmp_path / "reposted_av1.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libsvtav1", rate=25, options={"crf": "45", "preset": "10"})
        stream.width, stream.height = marked_clip.width, marked_clip.height
        stream.pix_fmt = "yuv420p"
        for frame in marked_clip.frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))
    reading = detect_file(path, keyring=Keyring([WatermarkKey.demo()]))
    assert reading.detected and reading.payload == PAYLOAD.to_hex()


def test_unmarked_reposts_stay_unmarked(bikes_frames: np.ndarray) -> None:
    """The same transforms on unmarked footage: no detection (the search is calibrated)."""
    clip = Clip(frames=np.ascontiguousarray(bikes_frames[:8]), fps=Fraction(25))
    for case in ("letterbox_80", "pip_60", "rotate_1"):
        reading = create_watermarker("rp-ss").detect(create_attack(case)(clip).frames)
        assert not reading.detected and reading.payload is None, case


@pytest.fixture(scope="module")
def marked_wide(bikes_frames: np.ndarray) -> Clip:
    """8 frames of bikes upscaled to 1280x544 (large tile) and marked: room for a 2.5x zoom."""
    import cv2

    wide = np.stack(
        [cv2.resize(f, (1280, 544), interpolation=cv2.INTER_CUBIC) for f in bikes_frames[:8]]
    )
    marked = create_watermarker("rp-ss").embed(np.ascontiguousarray(wide), PAYLOAD)
    return Clip(frames=marked, fps=Fraction(25))


@pytest.mark.parametrize(
    ("case", "scale", "angle", "aspect", "flipped"),
    [
        ("scale_0.4", 0.4, 0.0, 1.0, False),
        ("zoom_2.5", 2.5, 0.0, 1.0, False),
        ("squeeze_4:3", 0.866, 0.0, 0.75, False),  # scale: geometric mean of 0.75 and 1
        ("vertical_9:16", 1.78, 0.0, 1.0, False),
        ("rotate_5", 1.0, 5.0, 1.0, False),
        ("hflip", 1.0, 0.0, 1.0, True),
        ("offset_crop", 1.0, 0.0, 1.0, False),
        ("pillarbox", 0.9, 0.0, 1.0, False),
    ],
)
def test_every_reposting_geometry_is_measured_and_read(
    marked_wide: Clip, case: str, scale: float, angle: float, aspect: float, flipped: bool
) -> None:
    """The rest of issue 20's range: scale 0.4-2.5x, squeeze, 9:16 crop and upscale, +-5
    degrees, mirror, off-grid crop and pillarbox, each read with its measured geometry."""
    reading = create_watermarker("rp-ss").detect(create_attack(case)(marked_wide).frames)
    assert reading.detected and reading.payload == PAYLOAD.to_hex(), case
    assert abs(reading.scale / scale - 1.0) < 0.02, reading.scale
    assert abs(abs(reading.angle) - angle) < 0.3, reading.angle
    assert abs(reading.aspect - aspect) < 0.02, reading.aspect
    assert reading.flipped is flipped
