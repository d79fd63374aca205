"""Still images: ``reelproof watermark embed`` / ``detect`` on JPEG, PNG, WebP, AVIF and HEIC
(real photos), and the bounded cost of very large stills (the 51-MP HEIC fixture)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from reelproof.service.cli import run

from .conftest import PAYLOAD

PHOTOS = Path(__file__).resolve().parents[2] / "data" / "photos"


def _photo(name: str) -> Path:
    path = PHOTOS / name
    if not path.is_file():
        pytest.fail(f"{path} missing: run `make data` first", pytrace=False)
    return path


def _detect_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert run(["watermark", "detect", str(path), "--json"]) == 0
    body: dict[str, object] = json.loads(capsys.readouterr().out)
    return body


def _resave_jpeg(source: Path, target: Path, quality: int) -> Path:
    from PIL import Image

    with Image.open(source) as image:
        image.convert("RGB").save(target, format="JPEG", quality=quality)
    return target


@pytest.mark.parametrize(("name", "fmt"), [("china.jpg", "jpeg"), ("chelsea.png", "png")])
def test_cli_marks_a_still_and_reads_the_exact_id_also_after_a_jpeg_resave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fmt: str
) -> None:
    source = _photo(name)
    out = tmp_path / f"marked{source.suffix}"
    args = ["watermark", "embed", str(source), str(out), "--payload", PAYLOAD.to_hex(), "--json"]
    assert run(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["format"] == fmt and body["source_format"] == fmt and body["note"] is None
    assert Path(body["output"]) == out and body["frames"] == 1

    from reelproof.core.io import decode_still, probe_still

    assert probe_still(out).format == fmt  # written in the input's format
    marked, original = decode_still(out), decode_still(source)
    assert marked.shape == original.shape and not np.array_equal(marked, original)

    reading = _detect_json(out, capsys)
    assert reading["detected"] and reading["payload_verified"]
    assert reading["payload"] == PAYLOAD.to_hex() and reading["frames_used"] == 1

    resaved = _resave_jpeg(out, tmp_path / "resaved.jpg", quality=85)
    reading = _detect_json(resaved, capsys)
    assert reading["detected"] and reading["payload"] == PAYLOAD.to_hex()

    # The unmarked photo, read the same way, holds no mark.
    assert _detect_json(source, capsys)["detected"] is False


def test_webp_and_avif_keep_their_format(
    tmp_path: Path, c2pa_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reelproof.watermark import create_watermarker, detect_still, embed_still

    for name in ("mars.webp", "sample1.avif"):
        source = c2pa_fixtures / "stills" / name
        marked = embed_still(source, tmp_path / name, PAYLOAD, create_watermarker("rp-ss"))
        assert marked.format == marked.source_format and marked.output == str(tmp_path / name)
        reading = detect_still(marked.output)
        assert reading.detected and reading.payload == PAYLOAD.to_hex(), name


def test_png_transparency_and_icc_profile_are_kept(tmp_path: Path) -> None:
    from PIL import Image, ImageCms

    from reelproof.watermark import create_watermarker, detect_still, embed_still

    rgb = np.asarray(Image.open(_photo("coffee.png")).convert("RGB"))
    alpha = np.full(rgb.shape[:2], 255, dtype=np.uint8)
    alpha[:40, :40] = 0
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = tmp_path / "with_alpha.png"
    Image.fromarray(np.dstack([rgb, alpha])).save(source, icc_profile=icc)

    marked = embed_still(source, tmp_path / "out.png", PAYLOAD, create_watermarker("rp-ss"))
    with Image.open(marked.output) as image:
        assert image.mode == "RGBA" and image.info.get("icc_profile") == icc
        assert np.array_equal(np.asarray(image.getchannel("A")), alpha)
    assert detect_still(marked.output).payload == PAYLOAD.to_hex()


def test_bad_stills_exit_3_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (48, 48), (120, 90, 60)).save(tiny)
    out = tmp_path / "out.png"
    args = ["watermark", "embed", str(tiny), str(out), "--payload", PAYLOAD.to_hex(), "--json"]
    assert run(args) == 3
    assert "64" in json.loads(capsys.readouterr().out)["error"]["message"]
    missing = tmp_path / "no" / "out.jpg"
    args = ["watermark", "embed", str(_photo("china.jpg")), str(missing), "--payload", "00" * 8]
    assert run([*args, "--json"]) == 3
    capsys.readouterr()
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(_photo("china.jpg").read_bytes()[:5000])
    assert run(["watermark", "detect", str(truncated), "--json"]) == 3
    assert "error" in json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jpg", "tiny.png"]


def test_analysis_scale_depends_on_the_size_alone() -> None:
    from reelproof.watermark.stills import (
        ANALYSIS_PIXELS,
        analysis_copy,
        analysis_scale,
        still_reduction,
    )

    assert analysis_scale(2160, 4096) == 1.0 and still_reduction(2160, 4096) == 1
    assert analysis_scale(3000, 4000) == pytest.approx((ANALYSIS_PIXELS / 12e6) ** 0.5)
    assert analysis_scale(8160, 12240) == 0.5 and still_reduction(8160, 12240) == 2
    frames = np.zeros((1, 3000, 4000, 3), dtype=np.uint8)
    copy = analysis_copy(frames, analysis_scale(3000, 4000))
    assert copy.shape[1] * copy.shape[2] <= ANALYSIS_PIXELS
    assert abs(copy.shape[2] / copy.shape[1] - 4 / 3) < 0.01


@pytest.mark.slow
def test_the_51_mp_heic_is_read_in_bounds_marked_and_unmarked(
    tmp_path: Path, c2pa_fixtures: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The HEIC fixture (8736x5856) read through the bounded analysis: unmarked it is not
    detected; marked (written as PNG, the CLI says why) and re-saved as a JPEG, the exact id
    comes back at scale 1 from the half-size decode."""
    from reelproof.core.io import decode_still
    from reelproof.watermark import detect_frames, detect_still

    heic = tmp_path / "photo.heic"
    shutil.copyfile(c2pa_fixtures / "stills" / "sample1.heic", heic)
    unmarked = detect_frames(decode_still(heic))
    assert unmarked.evaluable and not unmarked.detected

    args = ["watermark", "embed", str(heic), str(tmp_path / "marked.heic")]
    assert run([*args, "--payload", PAYLOAD.to_hex(), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["format"] == "png" and body["source_format"] == "heif"
    assert body["output"] == str(tmp_path / "marked.png") and "PNG" in body["note"]

    resaved = _resave_jpeg(Path(body["output"]), tmp_path / "marked.jpg", quality=85)
    reading = detect_still(resaved)
    assert reading.detected and reading.payload == PAYLOAD.to_hex()
    assert abs(reading.scale - 1.0) < 0.01
