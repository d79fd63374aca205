"""The rules that turn validation codes into states and findings (no files: reader JSON)."""

from __future__ import annotations

from typing import Any

from reelproof.provenance import (
    FAILURE_KIND,
    FAILURE_KIND_SENTENCES,
    FAILURE_KINDS,
    TrustConfig,
    failure_kind,
    is_tolerated_failure,
)
from reelproof.provenance.codes import SENTENCES
from reelproof.provenance.validation import ValidationCode, decide_state, manifest_label_of
from reelproof.provenance.verify import report_from_reader_json

ACTIVE = "urn:c2pa:active"
PARENT = "urn:c2pa:parent"


def test_content_altered_is_exactly_the_hash_and_signature_mismatches() -> None:
    altered = {code for code, kind in FAILURE_KIND.items() if kind == "content_altered"}
    assert altered == {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
        "assertion.hashedURI.mismatch",
        "claimSignature.mismatch",
    }
    # Certificate problems, unreadable manifests and unknown codes never read as "altered".
    for code in (
        "signingCredential.expired",
        "signingCredential.revoked",
        "signingCredential.invalid",
        "claimSignature.outsideValidity",
        "algorithm.unsupported",
        "reelproof.manifest.unreadable",
        "some.future.mismatch",
    ):
        assert failure_kind(code) == "credentials_unreliable", code
    assert failure_kind("ingredient.something.new") == "ingredient_problem"


def test_tolerated_codes_follow_c2pa_rs() -> None:
    for code in (
        "signingCredential.untrusted",
        "cawg.x509.credential.untrusted",
        "cawg.identity.sig_type.unknown",
    ):
        assert is_tolerated_failure(code) and failure_kind(code) is None
    assert not is_tolerated_failure("signingCredential.invalid")


def test_every_kind_and_classified_code_has_plain_words() -> None:
    assert set(FAILURE_KIND_SENTENCES) == set(FAILURE_KINDS)
    missing = [code for code in FAILURE_KIND if code not in SENTENCES]
    assert missing == []


def _code(code: str, kind: str = "failure", url: str | None = None) -> ValidationCode:
    return ValidationCode(code, kind, code, None, url)


def test_state_is_decided_by_the_active_manifest() -> None:
    trusted = _code("signingCredential.trusted", "success")
    assert decide_state([trusted], has_manifest=True) == "trusted"
    assert decide_state([], has_manifest=False) == "absent"
    untrusted = [trusted, _code("signingCredential.untrusted")]
    assert decide_state(untrusted, has_manifest=True) == "valid_untrusted"
    cawg = [trusted, _code("cawg.x509.credential.untrusted")]
    assert decide_state(cawg, has_manifest=True) == "trusted"
    about_parent = [trusted, _code("ingredient.manifest.mismatch", url=PARENT)]
    assert decide_state(about_parent, has_manifest=True, active_label=ACTIVE) == "trusted"
    # The same code on an ingredient's own list counts against that ingredient.
    assert decide_state(about_parent, has_manifest=True) == "invalid"
    assert manifest_label_of(f"self#jumbf=/c2pa/{ACTIVE}/c2pa.signature") == ACTIVE
    assert manifest_label_of("Cose_Sign1") is None


def _status(*codes: tuple[str, str]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {"success": [], "informational": [], "failure": []}
    for code, kind in codes:
        out[kind].append({"code": code, "url": f"self#jumbf=/c2pa/{ACTIVE}/c2pa.signature"})
    return out


def _reader_json(
    active: dict[str, Any], ingredient: dict[str, Any] | None = None
) -> dict[str, Any]:
    manifest: dict[str, Any] = {"title": "clip.mp4", "assertions": [], "ingredients": []}
    manifests = {ACTIVE: manifest}
    if ingredient is not None:
        manifest["ingredients"].append(
            {
                "title": "parent.mp4",
                "relationship": "parentOf",
                "label": "c2pa.ingredient.v3",
                "active_manifest": PARENT,
                "validation_results": {"activeManifest": ingredient},
            }
        )
        manifests[PARENT] = {"title": "parent.mp4", "assertions": []}
    return {
        "active_manifest": ACTIVE,
        "manifests": manifests,
        "validation_results": {"activeManifest": active},
    }


def test_an_expired_signer_is_unreliable_credentials_not_tampering() -> None:
    data = _reader_json(
        _status(("signingCredential.expired", "failure"), ("claimSignature.validated", "success"))
    )
    report = report_from_reader_json("clip.mp4", data, [], TrustConfig())
    assert (report.state, report.failure) == ("invalid", "credentials_unreliable")
    assert report.findings[0].codes == ("signingCredential.expired",)
    assert "nothing in them shows that the content was altered" in report.summary
    assert "expired" in report.summary
    assert report.to_dict()["failure"] == "credentials_unreliable"


def test_an_ingredients_expired_certificate_stays_on_the_ingredient() -> None:
    active = _status(
        ("signingCredential.trusted", "success"), ("claimSignature.validated", "success")
    )
    parent = _status(("signingCredential.expired", "failure"))
    report = report_from_reader_json("clip.mp4", _reader_json(active, parent), [], TrustConfig())
    assert (report.state, report.failure) == ("trusted", "ingredient_problem")
    assert report.summary.startswith("Content credentials are intact and signed by")
    (finding,) = report.findings
    assert (finding.kind, finding.ingredient, finding.codes) == (
        "ingredient_problem",
        "parent.mp4",
        ("signingCredential.expired",),
    )
    (ingredient,) = report.ingredients
    assert (ingredient.state, ingredient.failure) == ("invalid", "credentials_unreliable")


def test_a_validator_invalid_with_no_code_is_not_reported_valid() -> None:
    data = _reader_json(_status(("claimSignature.validated", "success")))
    data["validation_state"] = "Invalid"
    report = report_from_reader_json("clip.mp4", data, [], TrustConfig())
    assert (report.state, report.failure) == ("invalid", "credentials_unreliable")
    assert report.failure_codes[0] == "reelproof.validator.invalid"
