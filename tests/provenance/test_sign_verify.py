"""Signing and verification on real MP4 files with a real (throwaway) PKI."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from reelproof.core.errors import (
    ConfigError,
    InputError,
    MediaDecodeError,
    ReelProofError,
    UnsupportedMediaError,
)
from reelproof.provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    ManifestSpec,
    ProvenanceSigner,
    SignResult,
    TrustConfig,
    sign,
    sign_edit,
    verify,
)
from reelproof.provenance.tamper import flip_mdat_byte, top_level_boxes

from .conftest import WATERMARK_ID, make_spec


def test_signed_real_clip_is_trusted_with_full_report(
    signed_clip: SignResult, trust: TrustConfig
) -> None:
    report = verify(signed_clip.dst, trust)
    assert report.state == "trusted"
    assert report.failure_codes == ()
    assert report.signer is not None and report.signer.is_dev
    assert "ReelProof Dev Signer" in (report.signer.common_name or "")
    assert "Intermediate" in (report.signer.issuer or "")
    assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    created = report.actions[0]
    assert created.action == "c2pa.created" and (created.software_agent or "").startswith(
        "ReelProof"
    )
    assert report.generator is not None and report.generator.name == "tiny-t2v"
    assert report.generator.prompt is None  # the prompt is opt-in
    [binding] = report.soft_bindings
    assert (binding.alg, binding.value, binding.recognised) == (
        "io.reelproof.rp-ss.1",
        WATERMARK_ID,
        True,
    )
    assert json.loads(binding.scope or "{}")["timespan"] == {
        "start": 0,
        "end": 4004,
    }  # 120 frames at 29.97
    assert report.signing_time is None and not report.timestamp_trusted
    assert "reelproof.timestamp.absent" in report.code_names
    body = report.to_dict()
    for key in ("state", "codes", "signer", "digital_source_type", "soft_bindings", "ingredients"):
        assert key in body
    assert body["schema"].startswith("reelproof.provenance_report/")
    assert all({"code", "sentence", "kind"} <= set(c) for c in body["codes"])
    json.dumps(body)  # serialisable as is


def test_sign_result_describes_the_output(signed_clip: SignResult) -> None:
    import hashlib

    assert signed_clip.content_sha256 == hashlib.sha256(signed_clip.dst.read_bytes()).hexdigest()
    assert signed_clip.manifest_bytes[4:8] == b"jumb"
    assert signed_clip.watermark_id == WATERMARK_ID and signed_clip.mime == "video/mp4"
    assert json.loads(json.dumps(signed_clip.to_dict()))["dst"] == str(signed_clip.dst)


def test_without_anchors_intact_file_is_valid_untrusted(signed_clip: SignResult) -> None:
    report = verify(signed_clip.dst, TrustConfig())
    assert report.state == "valid_untrusted"
    assert report.failure_codes == ("signingCredential.untrusted",)


def test_unsigned_real_clip_is_absent(bikes_mp4: Path) -> None:
    report = verify(bikes_mp4)
    assert report.state == "absent"
    assert report.code_names == ("reelproof.manifest.absent",)
    assert "not evidence" in report.summary


def test_prompt_recorded_only_on_opt_in(
    carphone_mp4: Path, signer: ProvenanceSigner, trust: TrustConfig, tmp_path: Path
) -> None:
    result = sign(carphone_mp4, tmp_path / "p.mp4", make_spec(include_prompt=True), signer)
    report = verify(result.dst, trust)
    assert report.generator is not None and report.generator.prompt == "a red car"


def test_sign_in_place_is_atomic_and_leaves_no_temp_files(
    carphone_mp4: Path, signer: ProvenanceSigner, trust: TrustConfig, tmp_path: Path
) -> None:
    clip = tmp_path / "in_place.mp4"
    shutil.copy(carphone_mp4, clip)
    sign(clip, clip, make_spec(), signer)
    assert verify(clip, trust).state == "trusted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in_place.mp4"]


def test_failed_sign_writes_nothing(make_video, signer: ProvenanceSigner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    webm = make_video("clip.webm", codec="libvpx-vp9", options={"deadline": "realtime"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsupportedMediaError, match="WebM"):
        sign(webm, out / "signed.webm", make_spec(), signer)
    assert list(out.iterdir()) == []


def test_image_to_video_inputs_are_input_to_ingredients(
    carphone_mp4: Path, signer: ProvenanceSigner, trust: TrustConfig, tmp_path: Path
) -> None:
    import av
    import numpy as np

    still = tmp_path / "input.png"
    frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 90, np.uint8), format="rgb24")
    frame.to_image().save(still)
    spec = make_spec(input_ingredients=[still])
    report = verify(sign(carphone_mp4, tmp_path / "i2v.mp4", spec, signer).dst, trust)
    assert report.state == "trusted"
    [ingredient] = report.ingredients
    assert (ingredient.relationship, ingredient.title, ingredient.format) == (
        "inputTo",
        "input.png",
        "image/png",
    )
    assert ingredient.state == "absent"  # the still carried no credentials of its own


def test_edit_keeps_chain_and_shows_tampered_parent(
    signed_clip: SignResult,
    bikes_mp4: Path,
    signer: ProvenanceSigner,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    good = sign_edit(signed_clip.dst, bikes_mp4, tmp_path / "edit.mp4", ["c2pa.edited"], signer)
    report = verify(good.dst, trust)
    assert report.state == "trusted"
    assert [a.action for a in report.actions] == ["c2pa.opened", "c2pa.edited"]
    [parent] = report.ingredients
    assert (parent.relationship, parent.state) == ("parentOf", "trusted")
    assert parent.actions[0].action == "c2pa.created"
    assert "reelproof.ingredient.failed" not in report.code_names

    bad_parent = flip_mdat_byte(signed_clip.dst, tmp_path / "bad_parent.mp4")
    assert verify(bad_parent, trust).state == "invalid"
    edited = sign_edit(
        bad_parent,
        bikes_mp4,
        tmp_path / "edit_bad.mp4",
        [{"action": "c2pa.color_adjustments"}],
        signer,
    )
    report = verify(edited.dst, trust)
    assert report.state == "trusted"  # the edit itself is intact...
    [parent] = report.ingredients
    assert parent.state == "invalid"  # ...and the parent's failure is shown
    assert "assertion.bmffHash.mismatch" in [c.code for c in parent.codes if c.kind == "failure"]
    assert "reelproof.ingredient.failed" in report.code_names
    assert report.to_dict()["ingredients"][0]["state"] == "invalid"


def test_webm_verifies_as_absent_not_a_crash(make_video) -> None:  # type: ignore[no-untyped-def]
    webm = make_video("clip.webm", codec="libvpx-vp9", options={"deadline": "realtime"})
    report = verify(webm)
    assert report.state == "absent"
    assert report.code_names == ("reelproof.container.unsupported",)


def test_truncated_signed_file_is_invalid(signed_clip: SignResult, tmp_path: Path) -> None:
    data = signed_clip.dst.read_bytes()
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(data[: len(data) - 500])
    report = verify(cut)
    assert report.state == "invalid"
    assert report.code_names == ("reelproof.manifest.unreadable",)


def test_corrupt_manifest_box_is_invalid(signed_clip: SignResult, tmp_path: Path) -> None:
    data = bytearray(signed_clip.dst.read_bytes())
    [manifest_box] = [b for b in top_level_boxes(bytes(data)) if b.kind == "uuid"]
    start = manifest_box.offset + 60
    data[start : start + 64] = b"\xff" * 64  # smash the JUMBF description box
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(bytes(data))
    report = verify(bad)
    assert report.state == "invalid"
    assert report.failure_codes == ("reelproof.manifest.unreadable",)


def test_malformed_boxes_and_garbage_raise_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaDecodeError, match="empty"):
        verify(empty)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01 not a video " * 50)
    with pytest.raises(UnsupportedMediaError):
        verify(garbage)
    bad_box = tmp_path / "badbox.mp4"
    bad_box.write_bytes(struct.pack(">I4s4s", 0xFFFFFF, b"ftyp", b"isom") + b"\0" * 40)
    with pytest.raises(ReelProofError):
        verify(bad_box)
    with pytest.raises(InputError, match="does not exist"):
        verify(tmp_path / "missing.mp4")


def test_unreachable_timestamp_server_fails_clearly(
    carphone_mp4: Path,
    pki,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from reelproof.provenance import load_signer

    tsa_signer = load_signer(pki.chain_pem, pki.key_pem, tsa_url="http://127.0.0.1:9/tsa")
    with pytest.raises(ConfigError, match="timestamp server"):
        sign(carphone_mp4, tmp_path / "tsa.mp4", make_spec(), tsa_signer)
    assert not (tmp_path / "tsa.mp4").exists()


def test_bad_watermark_id_is_refused() -> None:
    with pytest.raises(InputError, match="16 hex"):
        ManifestSpec(title="x", watermark_id="xyz")


def test_importing_provenance_stays_light() -> None:
    code = "import sys, reelproof.provenance; print(any(m.split('.')[0] in ('torch', 'diffusers', 'timm') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
