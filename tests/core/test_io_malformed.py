"""Malformed and hostile inputs: each gives one ReelProofError with a clear message.

Never a traceback, a hang or a half-written file. Every case runs through the API (``probe`` and
``read_clip``) and through the CLI (``reelproof info [--decode]`` exits 3 with one line on
stderr).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from reelproof_test_media import VideoFactory, synthetic_frames

from reelproof.core.errors import (
    InputError,
    LimitExceededError,
    MediaDecodeError,
    ReelProofError,
    UnsupportedMediaError,
)
from reelproof.core.io import MediaLimits, probe, read_clip
from reelproof.service.cli import main

Maker = Callable[[Path, Path, VideoFactory], Path]


def _truncated_moov_at_end(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    """bikes.mp4 keeps its sample tables at the end: half the file has no header at all."""
    data = bikes.read_bytes()
    return _write(tmp / "truncated.mp4", data[: len(data) // 2])


def _truncated_faststart(tmp: Path, bikes: Path, make: VideoFactory) -> Path:
    """Header first (+faststart), frame data cut: probing works, decoding must fail."""
    source = make("faststart.mp4", frames=synthetic_frames(n=30), movflags="+faststart")
    data = source.read_bytes()
    return _write(tmp / "truncated_fast.mp4", data[: int(len(data) * 0.6)])


def _bit_flipped_frames(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    data = bytearray(bikes.read_bytes())
    mdat = data.find(b"mdat")
    end = mdat - 4 + int.from_bytes(data[mdat - 4 : mdat], "big")
    rng = np.random.default_rng(0)
    for pos in rng.integers(mdat + 100, end, 20):
        data[pos] ^= 1 << int(rng.integers(0, 8))
    return _write(tmp / "bitflip.mp4", bytes(data))


def _bit_flipped_header(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    """The codec's parameter sets (avcC) overwritten: the decoder cannot even start."""
    data = bytearray(bikes.read_bytes())
    avcc = data.find(b"avcC")
    sps_len = struct.unpack(">H", data[avcc + 10 : avcc + 12])[0]
    data[avcc + 13 : avcc + 12 + sps_len] = b"\xff" * (sps_len - 1)
    return _write(tmp / "bad_header.mp4", bytes(data))


def _zero_frames_mp4(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    path = tmp / "zero.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()
    return path


def _zero_frames_mkv(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    path = tmp / "zero.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()
    return path


def _avi_claiming(width: int, height: int) -> Maker:
    """An FFV1 AVI whose header claims another frame size (FFV1 frames carry none of their own)."""

    def make(tmp: Path, bikes: Path, video: VideoFactory) -> Path:
        source = video("ffv1.avi", codec="ffv1", options={})
        data = bytearray(source.read_bytes())
        strf = data.find(b"strf")
        data[strf + 12 : strf + 20] = struct.pack("<ii", width, height)  # biWidth, biHeight
        return _write(tmp / f"claims_{width}x{height}.avi", bytes(data))

    return make


def _text_named_mp4(tmp: Path, *_: object) -> Path:
    return _write(tmp / "notes.mp4", b"this is not a video\n" * 20)


def _png_named_mp4(tmp: Path, *_: object) -> Path:
    return _write(tmp / "photo.mp4", b"\x89PNG\r\n\x1a\n" + bytes(200))


def _wav_named_avi(tmp: Path, *_: object) -> Path:
    return _write(tmp / "sound.avi", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(200))


def _random_bytes(tmp: Path, *_: object) -> Path:
    return _write(tmp / "noise.mkv", np.random.default_rng(1).bytes(4096))


def _audio_only_mp4(tmp: Path, *_: object) -> Path:
    path = tmp / "audio_only.mp4"
    with av.open(str(path), "w") as out:
        audio = out.add_stream("aac", rate=48000, layout="stereo")
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((2, 1024), np.float32), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = 48000, i * 1024
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def _empty_file(tmp: Path, *_: object) -> Path:
    return _write(tmp / "empty.mp4", b"")


def _hls_playlist(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    return _write(tmp / "stream.m3u8", _playlist_text(bikes))


def _hls_renamed_mp4(tmp: Path, bikes: Path, _: VideoFactory) -> Path:
    return _write(tmp / "innocent.mp4", _playlist_text(bikes))


def _playlist_text(target: Path) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        f"#EXTINF:10.0,\n{target}\n#EXT-X-ENDLIST\n"
    ).encode()


def _directory(tmp: Path, *_: object) -> Path:
    folder = tmp / "folder.mp4"
    folder.mkdir()
    return folder


def _fifo(tmp: Path, *_: object) -> Path:
    path = tmp / "pipe.mp4"
    os.mkfifo(path)  # opening it for reading would block forever
    return path


def _device_symlink(tmp: Path, *_: object) -> Path:
    link = tmp / "endless.mp4"
    link.symlink_to("/dev/zero")  # never ends: must be refused before any read
    return link


def _sparse_9_gib(tmp: Path, *_: object) -> Path:
    path = tmp / "huge.mp4"
    with path.open("wb") as handle:
        handle.truncate(9 * 1024**3)  # sparse: no disk used, but over the 8 GiB default
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# name -> (maker, error from probe or None if probing succeeds, error from reading)
CASES: dict[str, tuple[Maker, type[ReelProofError] | None, type[ReelProofError]]] = {
    "truncated (header lost)": (_truncated_moov_at_end, MediaDecodeError, MediaDecodeError),
    "truncated (frames lost)": (_truncated_faststart, None, MediaDecodeError),
    "bit-flipped frame data": (_bit_flipped_frames, None, MediaDecodeError),
    "bit-flipped codec header": (_bit_flipped_header, None, MediaDecodeError),
    "zero frames (mp4)": (_zero_frames_mp4, UnsupportedMediaError, UnsupportedMediaError),
    "zero frames (mkv)": (_zero_frames_mkv, MediaDecodeError, MediaDecodeError),
    "absurd 100000x100000": (_avi_claiming(100000, 100000), MediaDecodeError, MediaDecodeError),
    # FFmpeg's decoder is given the pixel limit too, so even the few frames it decodes while
    # opening are refused; the size is then unknown and the file is reported as corrupt.
    "absurd 16000x16000": (_avi_claiming(16000, 16000), MediaDecodeError, MediaDecodeError),
    "absurd 40000x4000": (_avi_claiming(40000, 4000), MediaDecodeError, MediaDecodeError),
    "text named .mp4": (_text_named_mp4, UnsupportedMediaError, UnsupportedMediaError),
    "PNG named .mp4": (_png_named_mp4, UnsupportedMediaError, UnsupportedMediaError),
    "WAV named .avi": (_wav_named_avi, UnsupportedMediaError, UnsupportedMediaError),
    "random bytes": (_random_bytes, UnsupportedMediaError, UnsupportedMediaError),
    "audio only": (_audio_only_mp4, UnsupportedMediaError, UnsupportedMediaError),
    "empty file": (_empty_file, MediaDecodeError, MediaDecodeError),
    "HLS playlist": (_hls_playlist, UnsupportedMediaError, UnsupportedMediaError),
    "HLS renamed .mp4": (_hls_renamed_mp4, UnsupportedMediaError, UnsupportedMediaError),
    "directory": (_directory, InputError, InputError),
    "FIFO": (_fifo, InputError, InputError),
    "symlink to /dev/zero": (_device_symlink, InputError, InputError),
    "9 GiB file": (_sparse_9_gib, LimitExceededError, LimitExceededError),
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def malformed(
    request: pytest.FixtureRequest, tmp_path: Path, bikes_mp4: Path, make_video: VideoFactory
) -> tuple[Path, type[ReelProofError] | None, type[ReelProofError]]:
    maker, probe_error, read_error = CASES[request.param]
    work = tmp_path / "inputs"
    work.mkdir()
    return maker(work, bikes_mp4, make_video), probe_error, read_error


def test_api_raises_the_documented_error(
    malformed: tuple[Path, type[ReelProofError] | None, type[ReelProofError]],
) -> None:
    path, probe_error, read_error = malformed
    if probe_error is None:
        probe(path)
    else:
        with pytest.raises(probe_error) as info:
            probe(path)
        _assert_clear(info.value, path)
    with pytest.raises(read_error) as info:
        read_clip(path)
    _assert_clear(info.value, path)


def test_cli_exits_3_with_one_line(
    malformed: tuple[Path, type[ReelProofError] | None, type[ReelProofError]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _, _ = malformed
    assert main(["info", "--decode", str(path)]) == 3
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in captured.err + captured.out


def _assert_clear(err: ReelProofError, path: Path) -> None:
    message = str(err)
    assert path.name in message or "URL" in message
    assert "\n" not in message and len(message) < 400


def test_playlist_refusal_names_the_reason(tmp_path: Path, bikes_mp4: Path) -> None:
    path = _hls_renamed_mp4(tmp_path, bikes_mp4, None)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedMediaError, match="playlist"):
        probe(path)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/clip.mp4",
        "https://example.com/clip.mp4",
        "concat:a.mp4|b.mp4",
        "subfile,,start,0,end,100,,:/etc/passwd",
        "file:/etc/passwd",
        "pipe:0",
        "data:video/mp4;base64,AAAA",
        "tcp://127.0.0.1:9/x",
    ],
)
def test_urls_and_protocols_are_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UnsupportedMediaError, match="local files"):
        probe(url)
    assert main(["info", url]) == 3
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        probe(tmp_path / "nope.mp4")


def test_container_and_codec_allow_lists(make_video: VideoFactory, bikes_mp4: Path) -> None:
    mkv = make_video("clip.mkv")
    with pytest.raises(UnsupportedMediaError, match="mkv container"):
        probe(mkv, MediaLimits(allowed_containers=("mp4",)))
    with pytest.raises(UnsupportedMediaError, match="h264 video codec"):
        probe(bikes_mp4, MediaLimits(allowed_video_codecs=("hevc",)))
    huffyuv = make_video("huff.avi", codec="huffyuv", pix_fmt="yuv422p", options={})
    with pytest.raises(UnsupportedMediaError, match="huffyuv"):
        probe(huffyuv)


def test_misnamed_but_valid_mp4_is_read_by_content(bikes_mp4: Path, tmp_path: Path) -> None:
    renamed = _write(tmp_path / "clip.avi", bikes_mp4.read_bytes())
    info = probe(renamed)
    assert info.container == "mp4" and info.frames == 250


def test_no_partial_output_when_the_source_is_corrupt(bikes_mp4: Path, tmp_path: Path) -> None:
    """A pipeline reading a corrupt file while writing leaves no output file behind."""
    from reelproof.core.io import VideoWriter, iter_chunks

    bad = _bit_flipped_frames(tmp_path, bikes_mp4, None)  # type: ignore[arg-type]
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(MediaDecodeError), VideoWriter(out_dir / "copy.mp4", 25, 640, 272) as w:
        for chunk in iter_chunks(bad):
            w.write(chunk.frames)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "codec"), [("fuzz.mp4", "libx264"), ("fuzz.mkv", "libx264"), ("fuzz.avi", "mpeg4")]
)
def test_random_corruption_only_ever_raises_reelproof_errors(
    name: str, codec: str, make_video: VideoFactory, tmp_path: Path
) -> None:
    """Seeded byte mutations (mostly in the headers): a clean result or a ReelProofError.

    This found undecodable metadata tags escaping as UnicodeDecodeError before it was fixed.
    """
    source = make_video(name, codec=codec, options={}, movflags="+faststart")
    data = source.read_bytes()
    target = tmp_path / f"mutated{source.suffix}"
    outcomes = {"read": 0, "refused": 0}
    for seed in range(60):
        rng = np.random.default_rng(seed)
        mutated = bytearray(data)
        end = len(data) if seed % 3 == 0 else min(len(data), 1500)
        for pos in rng.integers(0, end, int(rng.integers(1, 12))):
            mutated[pos] = int(rng.integers(0, 256))
        target.write_bytes(bytes(mutated))
        try:
            probe(target)
            read_clip(target)
            outcomes["read"] += 1
        except ReelProofError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0  # the mutations did reach the parsers
