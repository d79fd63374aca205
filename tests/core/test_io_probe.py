"""probe: header facts without decoding; VFR, rotation, audio; limits enforced before decoding."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from reelproof_test_media import VideoFactory, synthetic_frames

from reelproof.core.errors import LimitExceededError, MediaDecodeError
from reelproof.core.io import DEFAULT_LIMITS, MediaInfo, MediaLimits, iter_chunks, probe, read_clip
from reelproof.core.io import reader as reader_module


def test_probe_real_footage(bikes_mp4: Path, carphone_mp4: Path, cgi_mp4: Path) -> None:
    bikes = probe(bikes_mp4)
    assert (bikes.container, bikes.codec, bikes.width, bikes.height) == ("mp4", "h264", 640, 272)
    assert bikes.fps == Fraction(25) and not bikes.is_vfr
    assert (bikes.frames, bikes.frames_exact) == (250, True)
    assert bikes.duration == pytest.approx(10.0)
    assert not bikes.has_audio and bikes.audio_summary() == "none"
    assert bikes.size_bytes == bikes_mp4.stat().st_size
    carphone = probe(carphone_mp4)
    assert carphone.fps == Fraction(30000, 1001)  # NTSC rate stays exact
    assert (carphone.width, carphone.height, carphone.frames) == (176, 144, 120)
    cgi = probe(cgi_mp4)
    assert cgi.has_audio and cgi.audio_codec == "aac" and cgi.audio_sample_rate == 48000
    assert cgi.audio_summary().startswith("aac, 48000 Hz")


def test_media_info_serialises_to_json(bikes_mp4: Path) -> None:
    body = json.loads(json.dumps(probe(bikes_mp4).to_dict()))
    assert body["schema"] == "reelproof.media_info/1"
    for key, value in {"width": 640, "height": 272, "fps": 25.0, "frames": 250}.items():
        assert body[key] == value
    assert body["duration"] == pytest.approx(10.0) and body["codec"] == "h264"


def test_vfr_file_is_detected_and_timestamps_are_real(make_video: VideoFactory) -> None:
    pts_ms = [0, 40, 80, 200, 240, 400, 433, 466, 600, 700, 740, 780]
    path = make_video("vfr.mp4", pts=pts_ms)
    info = probe(path)
    assert info.is_vfr
    assert info.frames == len(pts_ms)
    clip = read_clip(path)
    assert clip.timestamps is not None
    np.testing.assert_allclose(clip.timestamps, np.array(pts_ms) / 1000, atol=1e-3)


def test_cfr_synthetic_file_is_not_vfr(make_video: VideoFactory) -> None:
    assert not probe(make_video("cfr.mp4")).is_vfr


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_metadata_is_reported(make_video: VideoFactory, degrees: int) -> None:
    path = make_video(f"rot{degrees}.mp4", rotation=degrees)
    info = probe(path)
    assert info.rotation == degrees
    # Frames come out in stored orientation (documented): width/height are not swapped.
    clip = read_clip(path, max_frames=2)
    assert clip.frames.shape[1:3] == (info.height, info.width) == (64, 96)


def test_unrotated_file_reports_zero(make_video: VideoFactory) -> None:
    assert probe(make_video("plain.mp4")).rotation == 0


def test_audio_stream_is_reported(make_video: VideoFactory) -> None:
    info = probe(make_video("tone.mp4", audio_codec="aac"))
    assert info.has_audio and info.audio_codec == "aac"
    assert (info.audio_sample_rate, info.audio_channels) == (48000, 2)
    assert info.streams == 2


def test_mkv_and_webm_containers(make_video: VideoFactory) -> None:
    mkv = probe(make_video("clip.mkv"))
    assert mkv.container == "mkv" and mkv.frames == 12 and not mkv.frames_exact
    webm = probe(make_video("clip.webm", codec="libvpx-vp9", options={"deadline": "realtime"}))
    assert (webm.container, webm.codec) == ("webm", "vp9")


def test_content_decides_the_container_not_the_name(
    make_video: VideoFactory, tmp_path: Path
) -> None:
    mkv = make_video("real.mkv")
    misnamed = tmp_path / "looks_like.mp4"
    misnamed.write_bytes(mkv.read_bytes())
    info = probe(misnamed)
    assert info.container == "mkv"
    assert read_clip(misnamed).num_frames == 12


def test_probe_does_not_decode(bikes_mp4: Path, tmp_path: Path) -> None:
    """Frame data wiped to zeros: the header still probes; only decoding fails."""
    data = bytearray(bikes_mp4.read_bytes())
    mdat = data.find(b"mdat")
    end = mdat - 4 + int.from_bytes(data[mdat - 4 : mdat], "big")
    assert data.find(b"moov") > end  # the sample tables stay intact
    data[mdat + 64 : end] = bytes(end - mdat - 64)
    wiped = tmp_path / "wiped.mp4"
    wiped.write_bytes(bytes(data))
    assert probe(wiped).frames == 250
    with pytest.raises(MediaDecodeError):
        read_clip(wiped)


LIMIT_CASES = {
    "pixels": MediaLimits(max_pixels_per_frame=640 * 272 - 1),
    "frames": MediaLimits(max_frames=249),
    "duration": MediaLimits(max_duration_s=9.5),
    "file bytes": MediaLimits(max_file_bytes=1000),
    "streams": MediaLimits(max_streams=0 + 1, allowed_containers=("mp4",)),
}


@pytest.mark.parametrize("case", ["pixels", "frames", "duration", "file bytes"])
def test_limits_refuse_before_any_decode(
    case: str, bikes_mp4: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the decoder was reached before the limit check")

    monkeypatch.setattr(reader_module, "_decode_chunks", no_decoding)
    monkeypatch.setattr(reader_module, "_configure_decoder", no_decoding)
    limits = LIMIT_CASES[case]
    with pytest.raises(LimitExceededError) as info:
        probe(bikes_mp4, limits)
    assert info.value.hint
    with pytest.raises(LimitExceededError):
        iter_chunks(bikes_mp4, limits=limits)  # refuses at call time, not at first next()
    with pytest.raises(LimitExceededError):
        read_clip(bikes_mp4, limits=limits)


def test_stream_count_limit(make_video: VideoFactory) -> None:
    path = make_video("tone.mp4", audio_codec="aac")
    with pytest.raises(LimitExceededError, match="streams"):
        probe(path, MediaLimits(max_streams=1))


def test_decode_time_is_bounded(bikes_mp4: Path) -> None:
    with pytest.raises(LimitExceededError, match=r"time limit|longer than"):
        read_clip(bikes_mp4, limits=MediaLimits(decode_timeout_s=1e-9))


def test_decode_time_is_bounded_mid_stream(
    bikes_mp4: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stalling decode (simulated by a clock that jumps a minute per packet) is cut off."""
    now = [0.0]

    def jumping_clock() -> float:
        now[0] += 60.0
        return now[0]

    monkeypatch.setattr(reader_module, "_clock", jumping_clock)
    chunks = iter_chunks(bikes_mp4, chunk_frames=4, limits=MediaLimits(decode_timeout_s=300))
    with pytest.raises(LimitExceededError, match="longer than 300 s"):
        for _ in chunks:
            pass


def test_read_clip_refuses_what_would_not_fit_in_memory(bikes_mp4: Path) -> None:
    with pytest.raises(LimitExceededError, match="iter_chunks"):
        read_clip(bikes_mp4, limits=MediaLimits(max_clip_bytes=10 * 640 * 272 * 3))
    assert read_clip(bikes_mp4, max_frames=5, limits=MediaLimits(max_clip_bytes=10**7))


def test_default_limits_admit_4k_ten_minutes() -> None:
    assert DEFAULT_LIMITS.max_pixels_per_frame >= 3840 * 2160
    assert DEFAULT_LIMITS.max_duration_s >= 600
    assert DEFAULT_LIMITS.max_frames >= 600 * 60
    assert {"mp4", "mov", "m4v", "mkv", "webm", "avi"} <= set(DEFAULT_LIMITS.allowed_containers)


def test_media_info_is_frozen(bikes_mp4: Path) -> None:
    info = probe(bikes_mp4)
    assert isinstance(info, MediaInfo)
    with pytest.raises(AttributeError):
        info.width = 1  # type: ignore[misc]


def test_synthetic_helper_is_deterministic() -> None:
    assert np.array_equal(synthetic_frames(seed=3), synthetic_frames(seed=3))
