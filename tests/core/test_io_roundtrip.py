"""Write then read: quality (luma PSNR), colour matrices and ranges, odd sizes, audio, atomicity."""

from __future__ import annotations

import gc
import os
import weakref
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace
from reelproof_test_media import VideoFactory, synthetic_frames

from reelproof.core import Clip
from reelproof.core.errors import InputError, UnsupportedMediaError
from reelproof.core.io import VideoWriter, iter_chunks, probe, read_clip, write_clip


def luma_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of the BT.709 luma of two (..., 3) uint8 RGB arrays."""
    weights = np.array([0.2126, 0.7152, 0.0722])
    diff = a.astype(np.float64) @ weights - b.astype(np.float64) @ weights
    return float(10 * np.log10(255.0**2 / np.mean(diff**2)))


@pytest.mark.parametrize(("footage", "n"), [("bikes", 40), ("carphone", 120)])
def test_real_footage_round_trip_psnr(
    footage: str, n: int, real_video_paths: dict[str, Path], tmp_path: Path
) -> None:
    source = read_clip(real_video_paths[footage], max_frames=n)
    out = write_clip(source, tmp_path / f"{footage}.mp4", crf=18)
    back = read_clip(out)
    assert back.frames.shape == source.frames.shape
    assert back.fps == source.fps
    assert luma_psnr(source.frames, back.frames) >= 40.0


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_synthetic_round_trip_psnr(codec: str, synthetic_clip: Clip, tmp_path: Path) -> None:
    out = write_clip(synthetic_clip, tmp_path / "synthetic.mp4", codec=codec)  # type: ignore[arg-type]
    info = probe(out)
    assert info.codec == ("h264" if codec == "h264" else "hevc")
    assert (info.color_space, info.color_range) == ("bt709", "limited")
    back = read_clip(out)
    assert back.num_frames == synthetic_clip.num_frames
    assert luma_psnr(synthetic_clip.frames, back.frames) >= 40.0


PATCHES = np.array(
    [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 0],
        [0, 255, 255],
        [255, 0, 255],
        [200, 120, 40],
        [16, 16, 16],
        [235, 235, 235],
    ],
    dtype=np.uint8,
)


def patch_frames(n: int = 4, size: int = 32) -> np.ndarray:
    """(n, size, 9*size, 3): one flat saturated colour patch per column block."""
    row = np.repeat(PATCHES[None, :, :], size, axis=0)  # (size, 9, 3)
    img = np.repeat(row, size, axis=1)  # (size, 9*size, 3)
    return np.repeat(img[None], n, axis=0)


def patch_means(frames: np.ndarray, size: int = 32) -> np.ndarray:
    """(9, 3) mean RGB of each patch's centre (away from chroma-blurred edges)."""
    q = size // 4
    return np.array(
        [frames[:, q:-q, k * size + q : (k + 1) * size - q].mean(axis=(0, 1, 2)) for k in range(9)]
    )


def test_saturated_colours_survive_the_round_trip(tmp_path: Path) -> None:
    frames = patch_frames()
    out = write_clip(Clip(frames, fps=Fraction(25)), tmp_path / "patches.mp4")
    back = patch_means(read_clip(out).frames)
    assert np.abs(back - PATCHES).max() <= 6.0


def test_the_colour_check_catches_a_wrong_matrix(tmp_path: Path) -> None:
    """Decoding ReelProof's BT.709 output as BT.601 moves the patches far out of tolerance."""
    out = write_clip(Clip(patch_frames(), fps=Fraction(25)), tmp_path / "patches.mp4")
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        wrong = frame.reformat(
            format="rgb24",
            src_colorspace=Colorspace.ITU601,
            src_color_range=ColorRange.MPEG,
            dst_color_range=ColorRange.JPEG,
        ).to_ndarray()
    assert np.abs(patch_means(wrong[None]) - PATCHES).max() > 15.0


@pytest.mark.parametrize(
    ("matrix", "avcol_space", "rng", "avcol_range", "tagged"),
    [
        (Colorspace.ITU601, 6, ColorRange.JPEG, 2, True),  # BT.601 full range, tagged
        (Colorspace.ITU709, 1, ColorRange.MPEG, 1, True),  # BT.709 limited, tagged
        (Colorspace.ITU601, 6, ColorRange.MPEG, 1, False),  # untagged SD: BT.601 limited guess
    ],
)
def test_reader_honours_source_matrix_and_range(
    matrix: Colorspace,
    avcol_space: int,
    rng: ColorRange,
    avcol_range: int,
    tagged: bool,
    tmp_path: Path,
) -> None:
    frames = patch_frames(n=2)
    path = tmp_path / "source.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"crf": "10", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        if tagged:
            cc = stream.codec_context
            cc.colorspace, cc.color_range = avcol_space, avcol_range
        for rgb in frames:
            yuv = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p",
                dst_colorspace=matrix,
                src_color_range=ColorRange.JPEG,
                dst_color_range=rng,
            )
            out.mux(stream.encode(yuv))
        out.mux(stream.encode(None))
    info = probe(path)
    assert (info.color_space is not None) == tagged
    back = patch_means(read_clip(path).frames)
    assert np.abs(back - PATCHES).max() <= 6.0


@pytest.mark.parametrize(("height", "width"), [(17, 33), (18, 33), (17, 32), (3, 5)])
def test_odd_sizes_round_trip_exactly_in_shape(height: int, width: int, tmp_path: Path) -> None:
    big = synthetic_frames(n=6, height=max(height, 20), width=max(width, 20))
    frames = np.ascontiguousarray(big[:, :height, :width])
    out = write_clip(Clip(frames, fps=Fraction(25)), tmp_path / "odd.mp4")
    info = probe(out)
    assert (info.width, info.height) == (width, height)
    assert (info.coded_width, info.coded_height) == (width + width % 2, height + height % 2)
    back = read_clip(out)
    assert back.frames.shape == frames.shape
    if height >= 16:
        assert luma_psnr(frames, back.frames) >= 38.0
    with av.open(str(out)) as container:  # other players see the padded even size
        frame = next(container.decode(video=0))
        padded = frame.to_ndarray(format="rgb24")
    assert padded.shape[:2] == (info.coded_height, info.coded_width)
    if width % 2:  # the pad column replicates the last real column
        assert np.abs(padded[:height, -1].astype(int) - padded[:height, -2]).mean() < 4


def test_iter_chunks_streams_with_indices_and_stride(bikes_mp4: Path) -> None:
    chunks = list(iter_chunks(bikes_mp4, chunk_frames=16))
    assert [len(c) for c in chunks] == [16] * 15 + [10]
    assert [c.start_index for c in chunks[:3]] == [0, 16, 32]
    assert all(c.frames.shape[1:] == (272, 640, 3) and c.frames.dtype == np.uint8 for c in chunks)
    stamps = np.concatenate([c.timestamps for c in chunks])
    np.testing.assert_allclose(stamps, np.arange(250) / 25, atol=1e-6)
    strided = list(iter_chunks(bikes_mp4, chunk_frames=8, stride=10, max_frames=12))
    indices = np.concatenate([c.source_indices for c in strided])
    assert indices.tolist() == list(range(0, 120, 10))
    whole = read_clip(bikes_mp4, max_frames=120)
    np.testing.assert_array_equal(strided[0].frames[1], whole.frames[10])


def test_read_clip_with_stride_divides_the_rate(carphone_mp4: Path) -> None:
    clip = read_clip(carphone_mp4, stride=2)
    assert clip.num_frames == 60
    assert clip.fps == Fraction(15000, 1001)


def test_bad_reader_arguments(bikes_mp4: Path) -> None:
    for kwargs in ({"chunk_frames": 0}, {"stride": 0}, {"max_frames": 0}):
        with pytest.raises(InputError):
            iter_chunks(bikes_mp4, **kwargs)  # type: ignore[arg-type]


def test_audio_is_copied_without_re_encoding(
    make_video: VideoFactory, synthetic_clip: Clip, tmp_path: Path
) -> None:
    source = make_video("tone.mp4", audio_codec="aac")
    out = write_clip(synthetic_clip, tmp_path / "with_audio.mp4", audio_from=source)
    info = probe(out)
    assert info.has_audio and info.audio_codec == "aac"
    assert (info.audio_sample_rate, info.audio_channels) == (48000, 2)

    def audio_payloads(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(audio=0) if p.size][:5]

    assert audio_payloads(out) == audio_payloads(source)  # bit-identical packets: a remux


def test_audio_from_real_footage_and_trimmed_to_the_video(
    cgi_mp4: Path, synthetic_clip: Clip, tmp_path: Path
) -> None:
    out = write_clip(synthetic_clip, tmp_path / "cgi_audio.mkv", audio_from=cgi_mp4)
    info = probe(out)
    assert info.has_audio and info.audio_channels == 6
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        last = max(float(p.pts * p.time_base) for p in container.demux(stream) if p.pts is not None)
    assert last < synthetic_clip.duration + 0.05  # audio past the video's end was dropped


def test_audio_source_without_audio_is_refused(
    bikes_mp4: Path, synthetic_clip: Clip, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="no audio"):
        write_clip(synthetic_clip, tmp_path / "x.mp4", audio_from=bikes_mp4)
    assert list(tmp_path.iterdir()) == []


def test_output_is_faststart(synthetic_clip: Clip, tmp_path: Path) -> None:
    data = write_clip(synthetic_clip, tmp_path / "fast.mp4").read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_writer_is_atomic_on_error(synthetic_clip: Clip, tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous version")
    writer = VideoWriter(target, 25, synthetic_clip.width, synthetic_clip.height)
    with pytest.raises(RuntimeError, match="boom"), writer:
        writer.write(synthetic_clip.frames[:5])
        raise RuntimeError("boom")
    assert target.read_bytes() == b"previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # temp file removed


def test_writer_refuses_wrong_frames_and_cleans_up(synthetic_clip: Clip, tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "out.mp4", 25, synthetic_clip.width, synthetic_clip.height)
    with pytest.raises(InputError, match="shape"):
        writer.write(np.zeros((2, 10, 10, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="no frames"):
        VideoWriter(tmp_path / "empty.mp4", 25, 64, 48).close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "kwargs", "error"),
    [
        ("clip.avi", {}, UnsupportedMediaError),
        ("clip.webm", {}, UnsupportedMediaError),
        ("clip.mp4", {"codec": "vp9"}, InputError),
        ("clip.mp4", {"crf": 60}, InputError),
        ("clip.mp4", {"preset": "ludicrous"}, InputError),
        ("clip.mp4", {"fps": 0}, InputError),
        ("clip.mp4", {"width": 0}, InputError),
        ("missing_dir/clip.mp4", {}, InputError),
    ],
)
def test_writer_argument_checks(
    name: str, kwargs: dict[str, object], error: type[Exception], tmp_path: Path
) -> None:
    args: dict[str, object] = {"fps": 25, "width": 64, "height": 48, **kwargs}
    with pytest.raises(error):
        VideoWriter(tmp_path / name, **args)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_mov_and_mkv_outputs(synthetic_clip: Clip, tmp_path: Path) -> None:
    for suffix, label in ((".mov", "mov"), (".mkv", "mkv"), (".m4v", "mp4")):
        info = probe(write_clip(synthetic_clip, tmp_path / f"clip{suffix}", preset="ultrafast"))
        assert info.container == label and info.frames == synthetic_clip.num_frames


def test_kept_chunks_are_never_overwritten(bikes_mp4: Path) -> None:
    """The reader recycles chunk buffers only after the consumer has let go of them."""
    kept = list(iter_chunks(bikes_mp4, chunk_frames=8, max_frames=64))
    assert len({id(c.frames.base) for c in kept}) == len(kept) == 8
    np.testing.assert_array_equal(
        np.concatenate([c.frames for c in kept]), read_clip(bikes_mp4, max_frames=64).frames
    )


def test_dropped_chunk_buffers_are_recycled(bikes_mp4: Path) -> None:
    seen: list[weakref.ref[np.ndarray]] = []  # weak: holding the buffers would block reuse
    reused = 0
    first_frames = []
    for chunk in iter_chunks(bikes_mp4, chunk_frames=8, max_frames=80):
        base = chunk.frames.base
        if any(ref() is base for ref in seen):
            reused += 1
        else:
            seen.append(weakref.ref(base))
        del base
        first_frames.append(chunk.frames[0].copy())
    assert reused >= 10 - 3  # 10 chunks from a pool of 3 buffers
    whole = read_clip(bikes_mp4, max_frames=80).frames
    np.testing.assert_array_equal(np.stack(first_frames), whole[::8])


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_writer_records_rotation(suffix: str, synthetic_clip: Clip, tmp_path: Path) -> None:
    out = write_clip(synthetic_clip, tmp_path / f"turned{suffix}", preset="ultrafast", rotation=270)
    with av.open(str(out)) as container:  # what a player sees on the decoded frame
        assert next(container.decode(video=0)).rotation in (270, -90)
    if suffix == ".mp4":  # probe reads the MP4 track matrix without decoding
        assert probe(out).rotation == 270
    with pytest.raises(InputError):
        VideoWriter(tmp_path / "x.mp4", 25, 64, 48, rotation=45)


def test_written_file_gets_normal_permissions(synthetic_clip: Clip, tmp_path: Path) -> None:
    out = write_clip(synthetic_clip, tmp_path / "perm.mp4", preset="ultrafast")
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_abandoned_writer_leaves_no_temp_file(synthetic_clip: Clip, tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "never_closed.mp4", 25, synthetic_clip.width, 64)
    writer.write(synthetic_clip.frames[:3])
    assert len(list(tmp_path.iterdir())) == 1  # the hidden .partial file
    del writer
    gc.collect()
    assert list(tmp_path.iterdir()) == []
