"""Our signed files as other implementations see them.

- A stock ``c2pa.Reader`` (c2pa-python with no settings: c2pa-rs's default EKU list, no trust
  anchors) must report at most ``signingCredential.untrusted``: the dev PKI follows the C2PA
  trust-list certificate profile.
- ``@trustnxt/c2pa-ts`` (an independent TypeScript implementation, installed by ``make c2pa-ts``)
  must hash-match our outputs and reject tampered copies. It cannot read WebP; the test says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import c2pa
import numpy as np
import pytest
from PIL import Image
from reelproof_test_media import synthetic_frames

from reelproof.provenance import ProvenanceSigner, SignResult, TrustConfig, sign, verify
from reelproof.provenance.tamper import flip_mdat_byte

from .conftest import make_spec

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = Path(__file__).with_name("c2pa_ts_validate.mjs")
HASH_MATCH = {"assertion.dataHash.match", "assertion.bmffHash.match"}
HASH_MISMATCH = {"assertion.dataHash.mismatch", "assertion.bmffHash.mismatch"}
STILL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}


@pytest.fixture(scope="module")
def signed_outputs(
    signed_clip: SignResult,
    signer: ProvenanceSigner,
    tmp_path_factory: pytest.TempPathFactory,
    c2pa_fixtures: Path,
) -> dict[str, SignResult]:
    """One signed file per format: the session's MP4, four stills we write, a camera HEIC."""
    folder = tmp_path_factory.mktemp("interop")
    picture = np.repeat(np.repeat(synthetic_frames(n=1)[0], 4, axis=0), 4, axis=1)
    out = {"mp4": signed_clip}
    for ext, fmt in STILL_FORMATS.items():
        src = folder / f"still.{ext}"
        Image.fromarray(picture).save(src, format=fmt, quality=90)
        out[ext] = sign(src, folder / f"signed.{ext}", make_spec(f"still.{ext}"), signer)
    heic = folder / "camera.heic"
    shutil.copyfile(c2pa_fixtures / "stills" / "sample1.heic", heic)
    out["heic"] = sign(heic, folder / "signed.heic", make_spec("camera.heic"), signer)
    return out


def _stock_read(path: Path, mime: str) -> dict[str, object]:
    with path.open("rb") as handle, c2pa.Reader(mime, handle) as reader:
        data: dict[str, object] = json.loads(reader.json())
    return data


def test_stock_reader_reports_at_most_an_untrusted_signer(
    signed_outputs: dict[str, SignResult], trust: TrustConfig
) -> None:
    for ext, result in signed_outputs.items():
        data = _stock_read(result.dst, result.mime)
        active = data["validation_results"]["activeManifest"]  # type: ignore[index]
        failures = {item["code"] for item in active["failure"]}
        assert failures <= {"signingCredential.untrusted"}, (ext, failures)
        assert data["validation_state"] == "Valid", ext
        assert {item["code"] for item in active["success"]} & HASH_MATCH, ext
        manifest = data["manifests"][data["active_manifest"]]  # type: ignore[index]
        actions = [
            action["action"]
            for assertion in manifest["assertions"]
            if assertion["label"].startswith("c2pa.actions")
            for action in assertion["data"]["actions"]
        ]
        assert actions[:2] == ["c2pa.created", "c2pa.watermarked.bound"], ext
        labels = {assertion["label"] for assertion in manifest["assertions"]}
        assert "c2pa.soft-binding" in labels, ext
        assert manifest["thumbnail"]["format"] == "image/jpeg", ext
        assert result.thumbnail, ext
        # And ReelProof, with the dev root as anchor, trusts every one of them.
        assert verify(result.dst, trust).state == "trusted", ext


def test_the_thumbnail_shows_the_signed_picture(signed_outputs: dict[str, SignResult]) -> None:
    result = signed_outputs["png"]
    with result.dst.open("rb") as handle, c2pa.Reader("image/png", handle) as reader:
        manifest = json.loads(reader.json())
        identifier = manifest["manifests"][manifest["active_manifest"]]["thumbnail"]["identifier"]
        sink = __import__("io").BytesIO()
        reader.resource_to_stream(identifier, sink)
    thumb = np.asarray(Image.open(sink).convert("RGB"), dtype=np.float32)
    original = np.asarray(Image.open(result.dst).convert("RGB"), dtype=np.float32)
    assert thumb.shape == original.shape  # 256x384: under the 512-pixel cap, kept as is
    assert np.abs(thumb - original).mean() < 8


def _c2pa_ts_dir() -> Path:
    folder = Path(os.environ.get("REELPROOF_C2PA_TS_DIR", REPO_ROOT / ".cache" / "c2pa-ts"))
    package = folder / "node_modules" / "@trustnxt" / "c2pa-ts" / "package.json"
    node = shutil.which("node")
    if node and package.is_file():
        return folder
    reason = "c2pa-ts is not installed: run `make c2pa-ts` (needs node and npm)"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _c2pa_ts(files: list[Path]) -> dict[str, dict[str, object]]:
    run = subprocess.run(
        ["node", str(NODE_SCRIPT), str(_c2pa_ts_dir()), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    return {Path(str(row["file"])).name: row for row in rows}


def _tamper(src: Path, dst: Path, ext: str) -> Path:
    """Change one content byte the hard binding covers (never the manifest)."""
    if ext in ("mp4", "heic", "avif"):
        return flip_mdat_byte(src, dst)
    data = bytearray(src.read_bytes())
    # JPEG scan data and PNG's last IDAT both end just before the file's last few bytes,
    # while c2pa puts the manifest at the start (APP11 segments / a caBX chunk).
    data[-24] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


def test_c2pa_ts_hash_matches_our_outputs_and_rejects_tampered_copies(
    signed_outputs: dict[str, SignResult], tmp_path: Path
) -> None:
    files = []
    for ext, result in signed_outputs.items():
        files.append(result.dst)
        files.append(_tamper(result.dst, tmp_path / f"tampered.{ext}", ext))
    rows = _c2pa_ts(files)
    for ext, result in signed_outputs.items():
        ours, tampered = rows[result.dst.name], rows[f"tampered.{ext}"]
        if ext == "webp":
            # c2pa-ts 0.9.4 has no WebP reader: it cannot say anything about this format.
            assert ours["supported"] is False and tampered["supported"] is False
            continue
        codes = {c["code"] for c in ours["codes"]}  # type: ignore[attr-defined]
        assert ours["valid"] is True, (ext, ours)
        assert codes & HASH_MATCH, (ext, codes)
        bad = {c["code"] for c in tampered["codes"] if not c["success"]}  # type: ignore[attr-defined]
        assert tampered["valid"] is False and bad & HASH_MISMATCH, (ext, tampered)
        # ReelProof agrees the content, not the credentials, changed.
        assert verify(tmp_path / f"tampered.{ext}").failure == "content_altered", ext
