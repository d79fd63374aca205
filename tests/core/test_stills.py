"""Still images: format sniffed from bytes, header probe with limits first, one-frame decode."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reelproof_test_media import synthetic_frames

from reelproof.core.errors import LimitExceededError, MediaDecodeError, UnsupportedMediaError
from reelproof.core.io import (
    MediaLimits,
    decode_still,
    probe,
    probe_still,
    sniff_still,
    sniff_still_file,
)

PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}


@pytest.fixture()
def picture() -> np.ndarray:
    """(64, 96, 3) uint8 RGB: smooth content, so lossy codecs keep it recognisable."""
    return synthetic_frames(n=1)[0]


def _write(path: Path, rgb: np.ndarray, fmt: str, **options: object) -> Path:
    Image.fromarray(rgb).save(path, format=PILLOW_FORMATS[fmt], **options)
    return path


@pytest.mark.parametrize("fmt", list(PILLOW_FORMATS))
def test_written_stills_are_sniffed_probed_and_decoded(
    tmp_path: Path, picture: np.ndarray, fmt: str
) -> None:
    # The name lies on purpose: the format must come from the bytes.
    path = _write(tmp_path / "photo.bin", picture, fmt, quality=95)
    assert sniff_still_file(path) == fmt
    info = probe_still(path)
    assert (info.format, info.width, info.height, info.rotation) == (fmt, 96, 64, 0)
    assert info.mime.startswith("image/")
    frames = decode_still(path)
    assert frames.shape == (1, 64, 96, 3) and frames.dtype == np.uint8
    assert not frames.flags.writeable
    error = np.abs(frames[0].astype(int) - picture.astype(int)).mean()
    assert error < 6, f"{fmt} decoded far from what was written (mean error {error:.1f})"


def test_fixture_stills_of_other_tools(c2pa_fixtures: Path) -> None:
    stills = c2pa_fixtures / "stills"
    expected = {
        "C.jpg": ("jpeg", 2048, 1365),
        "mars.webp": ("webp", 1053, 600),
        "sample1.png": ("png", 1024, 683),
        "sample1.avif": ("avif", 1204, 800),
        "sample1.heic": ("heif", 8736, 5856),
    }
    for name, (fmt, width, height) in expected.items():
        info = probe_still(stills / name)
        assert (info.format, info.width, info.height) == (fmt, width, height), name
    assert probe_still(stills / "sample1.heic").mime == "image/heic"


def test_heic_decodes_through_ffmpeg_with_its_tile_grid(c2pa_fixtures: Path) -> None:
    frames = decode_still(c2pa_fixtures / "stills" / "sample1.heic")
    assert frames.shape == (1, 5856, 8736, 3)
    # A real photo, not a grey or green failed decode: the 512-pixel tiles differ, and the red
    # motorcycle's tank (centre left) is red where the grass above it is not.
    tiles = frames[0].reshape(5856 // 96, 96, 8736 // 96, 96, 3).mean(axis=(1, 3))
    assert tiles.std() > 20
    tank = frames[0, 2200:2600, 3200:3800].reshape(-1, 3).mean(axis=0)
    grass = frames[0, 300:700, 3200:3800].reshape(-1, 3).mean(axis=0)
    assert tank[0] > tank[1] + 40 and grass[1] >= grass[0] - 10


def test_video_is_not_a_still_and_a_heic_is_not_a_video(
    c2pa_fixtures: Path, bikes_mp4: Path
) -> None:
    assert sniff_still_file(bikes_mp4) is None
    with pytest.raises(UnsupportedMediaError, match="not a still image"):
        probe_still(bikes_mp4)
    with pytest.raises(UnsupportedMediaError, match="HEIF still image, not a video"):
        probe(c2pa_fixtures / "stills" / "sample1.heic")


def test_sniff_reads_bmff_brands() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + b"\0\0\0\0" + b"".join(compatible)
        return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0" * 32

    assert sniff_still(ftyp(b"heic", b"mif1", b"heic")) == "heif"
    assert sniff_still(ftyp(b"mif1", b"mif1", b"avif")) == "avif"
    assert sniff_still(ftyp(b"avif", b"mif1")) == "avif"
    assert sniff_still(ftyp(b"isom", b"iso2", b"avc1", b"mp41")) is None
    assert sniff_still(ftyp(b"qt  ")) is None
    assert sniff_still(b"GIF89a" + b"\0" * 40) is None


def test_pixel_limit_is_checked_before_decoding(tmp_path: Path, picture: np.ndarray) -> None:
    path = _write(tmp_path / "big.png", picture, "png")
    small = MediaLimits(max_still_pixels=1000)
    with pytest.raises(LimitExceededError, match="max_still_pixels"):
        probe_still(path, small)
    with pytest.raises(LimitExceededError):
        decode_still(path, small)


def test_a_decompression_bomb_header_is_refused_without_inflating(tmp_path: Path) -> None:
    # A PNG whose header claims 50000 x 50000 pixels and holds almost nothing: refused from
    # the header alone, whether Pillow's own bomb check or ours speaks first.
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    for call in (probe_still, decode_still):
        with pytest.raises(LimitExceededError, match="pixels"):
            call(path)


def test_corrupt_and_truncated_stills_fail_cleanly(tmp_path: Path, picture: np.ndarray) -> None:
    path = _write(tmp_path / "photo.jpg", picture, "jpeg")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaDecodeError, match="truncated"):
        decode_still(truncated)
    header_only = tmp_path / "header.png"
    header_only.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(MediaDecodeError):
        probe_still(header_only)


def test_exif_orientation_is_reported_and_applied_only_on_request(
    tmp_path: Path, picture: np.ndarray
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = _write(tmp_path / "portrait.jpg", picture, "jpeg", exif=exif.tobytes(), quality=95)
    info = probe_still(path)
    assert info.rotation == 270
    assert decode_still(path).shape == (1, 64, 96, 3)  # as stored
    upright = decode_still(path, apply_rotation=True)
    assert upright.shape == (1, 96, 64, 3)
    expected = np.rot90(decode_still(path)[0], k=-1)  # clockwise
    assert np.array_equal(upright[0], expected)


def test_copied_fixture_keeps_its_format_under_another_name(
    c2pa_fixtures: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "looks_like_a_video.mp4"
    shutil.copyfile(c2pa_fixtures / "stills" / "sample1.avif", renamed)
    assert probe_still(renamed).format == "avif"
