"""verify_clip and ``reelproof verify`` on real clips with real signals.

The fixture marks real footage with the rp-ss watermark, encodes it, signs it with a throwaway
PKI and stores the manifest by watermark id, exactly as the responsible generator does; then the
credentials are stripped by a re-encode, and a signed copy is tampered with.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError
from svc_helpers import Clips, build_clips

from reelproof.core.errors import InputError
from reelproof.provenance import STATES
from reelproof.service.api.models import ProvenanceState, VerdictModel
from reelproof.service.pipeline import VerifyOptions, verify_clip
from reelproof.service.verdict import SignalStatus, VerdictLabel

REELPROOF = str(Path(sys.executable).parent / "reelproof")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, bikes_mp4: Path) -> Clips:
    return build_clips(tmp_path_factory.mktemp("clips"), bikes_mp4)


def options(clips: Clips, trusted: bool = True, **kw: object) -> VerifyOptions:
    return VerifyOptions(
        manifest_store=clips.store,
        trust_anchors=clips.root_pem if trusted else None,
        **{"detector": False, **kw},  # type: ignore[arg-type]  # classifier: own tests
    )


def verify_body(path: Path, opts: VerifyOptions) -> dict[str, Any]:
    """The verdict JSON, checked against the API's typed schema (which must keep every key)."""
    body = verify_clip(path, opts).to_dict()
    typed = VerdictModel.model_validate(body).model_dump(mode="json", by_alias=True)
    assert typed == body
    return body


def codes(body: dict[str, object]) -> list[str]:
    evidence = body["evidence"]
    assert isinstance(evidence, list)
    return [str(e["code"]) for e in evidence]


def test_signed_and_marked_clip(clips: Clips) -> None:
    body = verify_body(clips.signed, options(clips))
    assert body["verdict"] == VerdictLabel.CREDENTIALS_TRUSTED.value
    assert body["provenance"]["state"] == "trusted"
    assert body["watermark"]["detected"] is True
    assert body["watermark"]["payload"] == clips.watermark_id
    assert body["ai_generated"] is True
    assert {"credentials_trusted", "ai_generated_marked"} <= set(codes(body))
    assert body["sha256"] == hashlib.sha256(clips.signed.read_bytes()).hexdigest()
    assert body["detector"]["status"] == "skipped"


def test_untrusted_signer_falls_back_to_the_watermark(clips: Clips) -> None:
    body = verify_body(clips.signed, options(clips, trusted=False))
    assert body["provenance"]["state"] == "valid_untrusted"
    assert body["verdict"] == VerdictLabel.AI_GENERATED_MARKED.value
    assert "credentials_untrusted" in codes(body)


def test_stripped_credentials_are_recovered_by_watermark_id(clips: Clips) -> None:
    body = verify_body(clips.stripped, options(clips))
    assert body["provenance"]["state"] == "absent"
    assert body["verdict"] == VerdictLabel.AI_GENERATED_MARKED.value
    recovered = body["watermark"]["recovered_manifest"]
    assert recovered["found"] is True and recovered["watermark_id"] == clips.watermark_id
    assert recovered["state"] == "trusted"
    assert recovered["hard_binding_matches"] is False  # a re-encode changed the bytes
    assert recovered["fingerprint_matches"] is True
    assert "credentials_recovered" in codes(body)
    assert "store_lookup" in body["timings"]


def test_tampered_clip_is_tampered_not_trusted(clips: Clips) -> None:
    body = verify_body(clips.tampered, options(clips))
    assert body["provenance"]["state"] == "invalid"
    assert body["verdict"] == VerdictLabel.TAMPERED.value


def test_real_footage_without_signals_is_never_called_fake(bikes_mp4: Path) -> None:
    body = verify_body(bikes_mp4, VerifyOptions(detector=False))
    assert body["provenance"]["state"] == "absent"
    assert body["watermark"]["detected"] is False
    assert body["verdict"] in ("inconclusive", "not_applicable")
    assert body["ai_generated"] is None
    assert set(body["timings"]) >= {"probe", "hash", "provenance", "watermark", "fusion"}
    assert body["versions"]["reelproof"]


def test_skipped_signals_are_reported(bikes_mp4: Path) -> None:
    verdict = verify_clip(
        bikes_mp4, VerifyOptions(provenance=False, watermark=False, detector=False)
    )
    assert verdict.provenance.status is SignalStatus.SKIPPED
    assert verdict.watermark.status is SignalStatus.SKIPPED
    body = verdict.to_dict()
    VerdictModel.model_validate(body)  # a verdict made of skipped signals is still well-typed
    assert body["verdict"] == "not_applicable"
    assert body["provenance"]["state"] is None and body["watermark"]["payload"] is None
    assert codes(body) == ["signal_skipped"] * 3


def test_typed_schema_matches_the_provenance_states() -> None:
    assert get_args(ProvenanceState) == STATES


def test_typed_schema_rejects_a_malformed_verdict(clips: Clips) -> None:
    body = verify_body(clips.signed, options(clips))
    for key, bad in (("verdict", "fake"), ("watermark", {"detected": True}), ("evidence", [{}])):
        with pytest.raises(ValidationError):
            VerdictModel.model_validate({**body, key: bad})


def test_unusable_input_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(InputError):
        verify_clip(bad)
    with pytest.raises(InputError):
        verify_clip(tmp_path / "missing.mp4")


def test_cli_json_and_html(clips: Clips, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    done = subprocess.run(
        [
            REELPROOF,
            "verify",
            str(clips.stripped),
            "--json",
            "--html",
            str(html),
            "--no-detector",
            "--store",
            str(clips.store),
            "--trust",
            str(clips.root_pem),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["verdict"] == "ai_generated_marked"
    for key in ("provenance", "watermark", "detector"):
        assert key in body
    assert body["provenance"]["state"] == "absent"
    assert (
        body["watermark"]["detected"] is True and body["watermark"]["payload"] == clips.watermark_id
    )
    assert "p_synthetic" in body["detector"]
    page = html.read_text()
    assert "AI-generated (ReelProof watermark found)" in page
    assert clips.watermark_id in page and "data:image/jpeg;base64," in page
    # Self-contained: nothing is fetched from anywhere.
    assert 'src="http' not in page and 'href="http' not in page and "<script" not in page


def test_cli_bad_input_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("hello")
    done = subprocess.run(
        [REELPROOF, "verify", str(bad), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["error"]["type"] in ("UnsupportedMediaError", "MediaDecodeError")


def test_shared_sampling_gives_the_sequential_answer(clips: Clips) -> None:
    """In parallel, the classifier's and the fingerprint's frames come from one decode pass;
    one-after-another, each reads the file itself. The answers must be the same."""
    together = verify_body(clips.stripped, options(clips, detector=True))
    apart = verify_body(clips.stripped, options(clips, detector=True, parallel=False))
    assert together["verdict"] == apart["verdict"] == VerdictLabel.AI_GENERATED_MARKED.value
    assert together["detector"]["status"] == "ok"
    assert together["detector"]["p_synthetic"] == apart["detector"]["p_synthetic"]
    assert together["detector"]["frames_used"] == apart["detector"]["frames_used"]
    got, want = (b["watermark"]["recovered_manifest"] for b in (together, apart))
    assert got["fingerprint_matches"] is True
    assert got["fingerprint_distance"] == want["fingerprint_distance"]
