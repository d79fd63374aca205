"""The verdict on other implementations' files and on broken credentials (issue 19, service side).

Stills and videos signed by c2pa-rs's tools (../shared/c2pa-fixtures) go through the whole
verification; ``tampered`` is kept for files whose signed bytes changed; credentials that cannot
be relied on (an expired certificate, an unreadable manifest) and an ingredient's problem are
named as such; a truncated signed MP4 still gets its verdict from its credentials.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from pathlib import Path

import pytest
from svc_helpers import REELPROOF, Server, upload

from reelproof.core.errors import ReelProofError
from reelproof.provenance import ManifestSpec, init_dev_pki, issue_dev_leaf, load_signer, sign
from reelproof.service.api.models import VerdictModel
from reelproof.service.pipeline import VerifyOptions, verify_clip
from reelproof.service.signals import SignalStatus
from reelproof.service.verdict import VerdictLabel

ANCHORS = Path("trust/test_cert_root_bundle.pem")
# Broken on purpose in bytes the signature covers (SOURCES.md).
ALTERED = {"stills/XCA.jpg", "stills/E-sig-CA.jpg", "stills/adobe-20220124-E-clm-CAICAI.jpg"}
REFUSED = {"video/nested_moov_1000.mp4", "video/dash1.m4s"}  # not files the reference can read


def _options(fixtures: Path) -> VerifyOptions:
    return VerifyOptions(trust_anchors=fixtures / ANCHORS, detector=True)


def _body(path: Path, options: VerifyOptions) -> dict[str, object]:
    body = verify_clip(path, options).to_dict()
    VerdictModel.model_validate(body)
    return body


def _codes(body: dict[str, object]) -> list[str]:
    evidence = body["evidence"]
    assert isinstance(evidence, list)
    return [str(e["code"]) for e in evidence]


def test_only_altered_files_are_called_tampered(c2pa_fixtures: Path) -> None:
    options = _options(c2pa_fixtures)
    seen = 0
    for path in sorted(c2pa_fixtures.glob("*/*")):
        name = str(path.relative_to(c2pa_fixtures))
        if path.parent.name == "trust":
            continue
        if name in REFUSED:
            with pytest.raises(ReelProofError):
                verify_clip(path, options)
            continue
        body = _body(path, options)
        seen += 1
        tampered = body["verdict"] == VerdictLabel.TAMPERED.value
        assert tampered == (name in ALTERED), (name, body["summary"])
    assert seen >= 18


def test_stills_are_verified_end_to_end(c2pa_fixtures: Path) -> None:
    options = _options(c2pa_fixtures)
    trusted = _body(c2pa_fixtures / "stills/C.jpg", options)
    assert trusted["verdict"] == "credentials_trusted"
    media = trusted["media"]
    assert isinstance(media, dict) and media["format"] == "jpeg" and media["width"] > 0
    detector = trusted["detector"]
    assert isinstance(detector, dict)
    assert detector["status"] == SignalStatus.NOT_APPLICABLE.value and "still" in detector["reason"]
    watermark = trusted["watermark"]
    assert isinstance(watermark, dict) and watermark["status"] == "ok"
    for name, fmt in (("sample1.heic", "heif"), ("sample1.avif", "avif"), ("mars.webp", "webp")):
        body = _body(c2pa_fixtures / "stills" / name, options)
        assert body["verdict"] == "inconclusive" and body["media"]["format"] == fmt  # type: ignore[index]


def test_unreadable_credentials_are_unreliable_not_tampered(c2pa_fixtures: Path) -> None:
    body = _body(c2pa_fixtures / "stills/no_alg.jpg", _options(c2pa_fixtures))
    assert body["verdict"] == "inconclusive"
    assert "credentials_unreliable" in _codes(body) and "tampered" not in _codes(body)
    assert "cannot be relied on" in str(body["summary"])


def test_an_ingredients_problem_is_named_beside_the_files_own_finding(c2pa_fixtures: Path) -> None:
    body = _body(c2pa_fixtures / "stills/adobe-20220124-E-clm-CAICAI.jpg", _options(c2pa_fixtures))
    assert _codes(body)[:2] == ["tampered", "ingredient_problem"]
    problem = next(e for e in body["evidence"] if e["code"] == "ingredient_problem")  # type: ignore[attr-defined]
    assert problem["details"]["ingredient"] and problem["details"]["codes"]


def test_expired_certificate_is_not_tampering(tmp_path: Path, bikes_mp4: Path) -> None:
    pki = init_dev_pki(tmp_path / "pki")
    chain, key = issue_dev_leaf(
        pki.directory,
        "short-lived",
        lifetime=dt.timedelta(seconds=3),
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
    )
    signed = tmp_path / "signed.mp4"
    sign(bikes_mp4, signed, ManifestSpec(title="signed.mp4"), load_signer(chain, key))
    time.sleep(3)  # now the certificate has expired, and no timestamp vouches for the signing
    body = _body(signed, VerifyOptions(trust_anchors=pki.root_pem, detector=False))
    provenance = body["provenance"]
    assert isinstance(provenance, dict)
    assert provenance["state"] == "invalid" and provenance["failure"] == "credentials_unreliable"
    assert body["verdict"] != "tampered" and "credentials_unreliable" in _codes(body)


def test_truncated_signed_mp4_gets_a_verdict_from_its_credentials(
    tmp_path: Path, bikes_mp4: Path
) -> None:
    pki = init_dev_pki(tmp_path / "pki")
    signed = tmp_path / "signed.mp4"
    sign(
        bikes_mp4, signed, ManifestSpec(title="signed.mp4"), load_signer(pki.chain_pem, pki.key_pem)
    )
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(signed.read_bytes()[: signed.stat().st_size * 3 // 5])
    done = subprocess.run(
        [REELPROOF, "verify", str(truncated), "--json", "--trust", str(pki.root_pem)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # was exit 3: the probe refused the file
    body = json.loads(done.stdout)
    assert body["verdict"] == "tampered"
    assert "assertion.bmffHash.mismatch" in body["evidence"][0]["details"]["codes"]
    assert body["media"] is None and body["watermark"]["status"] == "error"


def test_the_api_verifies_stills(server: Server, c2pa_fixtures: Path) -> None:
    with server.client() as api:
        resp = api.post(
            "/v1/analyses",
            files=upload(c2pa_fixtures / "stills/XCA.jpg", ctype="image/jpeg"),
            headers={"Prefer": "wait=120"},
        )
        assert resp.status_code == 200, resp.text
        job = resp.json()
        assert job["status"] == "succeeded" and job["verdict"] == "tampered"
        heic = api.post(
            "/v1/c2pa/verify",
            files=upload(c2pa_fixtures / "stills/sample1.heic", ctype="image/heic"),
        )
        assert heic.status_code == 200, heic.text
        assert heic.json()["state"] == "absent" and heic.json()["mime"] == "image/heic"
        report = api.get(f"/v1/analyses/{job['id']}/report", headers={"Accept": "text/html"})
        assert "content altered" in report.text and "data:image/jpeg;base64," in report.text


def test_a_text_file_named_jpg_is_refused(server: Server, tmp_path: Path) -> None:
    fake = tmp_path / "photo.jpg"
    fake.write_text("just text, not an image")
    with server.client() as api:
        resp = api.post("/v1/c2pa/verify", files=upload(fake, ctype="image/jpeg"))
    assert resp.status_code in (415, 422), resp.text
