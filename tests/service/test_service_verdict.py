"""The fusion rules: which verdict each combination of signals gives, and what never counts."""

from __future__ import annotations

import itertools

import pytest

from reelproof.service.verdict import (
    DetectorFacts,
    ProvenanceFacts,
    RecoveryFacts,
    SignalFacts,
    SignalStatus,
    VerdictLabel,
    WatermarkFacts,
    fuse,
)

OK = SignalStatus.OK
AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAMERA = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"

PROVENANCE = {
    "absent": ProvenanceFacts("absent"),
    "trusted": ProvenanceFacts("trusted", signer="Newsroom CA", digital_source_type=CAMERA),
    "untrusted": ProvenanceFacts("valid_untrusted", signer="dev", digital_source_type=AI),
    "invalid": ProvenanceFacts("invalid", signer="x", codes=("assertion.dataHash.mismatch",)),
}
WATERMARK = {
    "absent": WatermarkFacts(detected=False, p_value=0.4),
    "marked": WatermarkFacts(
        detected=True,
        p_value=1e-12,
        payload="0123456789abcdef",
        payload_verified=True,
        key_id="demo",
    ),
    "not_evaluable": WatermarkFacts(detected=False, evaluable=False, reason="too small"),
}
DETECTOR = {
    "real": DetectorFacts(0.1, "real"),
    "synthetic": DetectorFacts(0.93, "synthetic"),
    "uncertain": DetectorFacts(0.5, "inconclusive"),
    "none": DetectorFacts(None, "inconclusive", reason="too short"),
}


def facts(prov: str, wm: str, det: str, recovery: RecoveryFacts | None = None) -> SignalFacts:
    return SignalFacts(OK, OK, OK, PROVENANCE[prov], WATERMARK[wm], recovery, DETECTOR[det])


def test_absent_manifest_is_never_evidence_of_fakery() -> None:
    for wm, det in itertools.product(WATERMARK, DETECTOR):
        fused = fuse(facts("absent", wm, det))
        assert fused.verdict is not VerdictLabel.TAMPERED
        if det != "synthetic" and wm != "marked":
            assert fused.verdict in (VerdictLabel.INCONCLUSIVE, VerdictLabel.NOT_APPLICABLE)
        codes = [e.code for e in fused.evidence if e.signal == "provenance"]
        assert codes == ["credentials_absent"]


def test_invalid_credentials_name_the_verdict_whatever_else_is_found() -> None:
    for wm, det in itertools.product(WATERMARK, DETECTOR):
        fused = fuse(facts("invalid", wm, det))
        assert fused.verdict is VerdictLabel.TAMPERED
        if wm == "marked":
            assert "watermark is present" in fused.summary


def test_trusted_credentials_beat_the_classifier_and_report_the_source_type() -> None:
    fused = fuse(facts("trusted", "absent", "synthetic"))
    assert fused.verdict is VerdictLabel.CREDENTIALS_TRUSTED
    assert fused.ai_generated is False  # the credentials declare a camera capture
    assert "digitalCapture" in fused.summary
    # The classifier's opinion is still listed, not hidden.
    assert "likely_synthetic" in [e.code for e in fused.evidence]


def test_watermark_gives_marked_and_the_recovered_manifest() -> None:
    rec = RecoveryFacts(
        found=True, state="valid_untrusted", signer="ReelProof dev", digital_source_type=AI
    )
    fused = fuse(facts("absent", "marked", "real", rec))
    assert fused.verdict is VerdictLabel.AI_GENERATED_MARKED
    assert fused.ai_generated is True
    assert "0123456789abcdef" in fused.summary and "recovered" in fused.summary
    codes = [e.code for e in fused.evidence]
    assert "ai_generated_marked" in codes and "credentials_recovered" in codes
    missing = fuse(facts("absent", "marked", "real", RecoveryFacts(found=False)))
    assert "manifest_not_in_store" in [e.code for e in missing.evidence]


def test_untrusted_credentials_declaring_ai_set_ai_generated_but_not_the_verdict() -> None:
    fused = fuse(facts("untrusted", "absent", "real"))
    assert fused.verdict is VerdictLabel.INCONCLUSIVE
    assert fused.ai_generated is True
    assert "credentials_untrusted" in [e.code for e in fused.evidence]


@pytest.mark.parametrize(
    ("det", "label", "likelihood"),
    [
        ("synthetic", VerdictLabel.LIKELY_SYNTHETIC, "high"),
        ("real", VerdictLabel.INCONCLUSIVE, "low"),
        ("uncertain", VerdictLabel.INCONCLUSIVE, "uncertain"),
    ],
)
def test_classifier_only(det: str, label: VerdictLabel, likelihood: str) -> None:
    fused = fuse(facts("absent", "absent", det))
    assert fused.verdict is label
    assert fused.synthetic_likelihood == likelihood
    assert fused.ai_generated is None


def test_nothing_evaluable_is_not_applicable() -> None:
    fused = fuse(facts("absent", "not_evaluable", "none"))
    assert fused.verdict is VerdictLabel.NOT_APPLICABLE
    assert fused.synthetic_likelihood == "unknown"


def test_signals_that_did_not_run_are_reported_not_dropped() -> None:
    fused = fuse(
        SignalFacts(
            SignalStatus.SKIPPED,
            SignalStatus.UNAVAILABLE,
            SignalStatus.ERROR,
            errors={"watermark": "no keys", "detector": "decode failed at frame 9"},
        )
    )
    by_signal = {e.signal: e for e in fused.evidence}
    assert by_signal["provenance"].code == "signal_skipped"
    assert by_signal["watermark"].code == "signal_unavailable"
    assert "no keys" in by_signal["watermark"].message
    assert by_signal["detector"].code == "signal_error"
    assert "frame 9" in by_signal["detector"].message
    assert fused.verdict is VerdictLabel.NOT_APPLICABLE


def _finding(kind: str, codes: tuple[str, ...], ingredient: str | None = None):  # type: ignore[no-untyped-def]
    from reelproof.provenance.validation import ProvenanceFinding

    return ProvenanceFinding(kind, codes, f"{kind} sentence.", ingredient)  # type: ignore[arg-type]


def test_unreliable_credentials_are_never_tampering() -> None:
    expired = ProvenanceFacts(
        "invalid",
        signer="x",
        codes=("signingCredential.expired",),
        failure="credentials_unreliable",
        findings=(_finding("credentials_unreliable", ("signingCredential.expired",)),),
    )
    for wm, det in itertools.product(WATERMARK, DETECTOR):
        facts = SignalFacts(OK, OK, OK, expired, WATERMARK[wm], None, DETECTOR[det])
        fused = fuse(facts)
        codes = [e.code for e in fused.evidence]
        assert fused.verdict is not VerdictLabel.TAMPERED
        assert "credentials_unreliable" in codes and "tampered" not in codes
        assert "cannot be relied on" in fused.summary
        assert fused.ai_generated is (True if wm == "marked" else None)  # not from their claims


def test_failure_kind_from_codes_when_not_given() -> None:
    unreliable = ProvenanceFacts("invalid", codes=("signingCredential.revoked",))
    fused = fuse(SignalFacts(OK, OK, OK, unreliable, WATERMARK["absent"], None, DETECTOR["real"]))
    assert fused.verdict is VerdictLabel.INCONCLUSIVE


def test_an_ingredients_problem_does_not_change_a_trusted_file() -> None:
    trusted = ProvenanceFacts(
        "trusted",
        signer="Newsroom CA",
        findings=(_finding("ingredient_problem", ("ingredient.manifest.missing",), "source.jpg"),),
    )
    fused = fuse(SignalFacts(OK, OK, OK, trusted, WATERMARK["absent"], None, DETECTOR["real"]))
    assert fused.verdict is VerdictLabel.CREDENTIALS_TRUSTED
    assert [e.code for e in fused.evidence if e.signal == "provenance"] == [
        "credentials_trusted",
        "ingredient_problem",
    ]
    assert "source.jpg" in fused.summary
