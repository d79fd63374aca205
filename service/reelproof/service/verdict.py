"""The fused verdict: three separate signals and one answer that explains itself.

The rules, in order (first match names the verdict; every signal still appears as evidence):

1. credentials present but invalid (hash or signature mismatch) -> ``tampered``;
2. credentials valid and issued by a trusted signer -> ``credentials_trusted``;
3. our watermark found -> ``ai_generated_marked`` (with the key, the id and, when the credentials
   were stripped, the manifest recovered from the store by that id);
4. the classifier alone says synthetic -> ``likely_synthetic``;
5. no signal could evaluate the clip -> ``not_applicable``;
6. otherwise -> ``inconclusive`` (with the classifier's likelihood, low or uncertain).

A missing manifest is never evidence of fakery: most authentic footage carries none. A missing
watermark is not evidence of authenticity either: only ReelProof-marked generators embed it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reelproof.core.results import SCHEMA_VERSION, Result, to_jsonable

AI_SOURCE_TYPES = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "algorithmicMedia",
    "compositeSynthetic",
)
"""IPTC digital source types that declare AI or algorithmic generation (matched by suffix)."""


class VerdictLabel(str, enum.Enum):
    """The fused verdict."""

    CREDENTIALS_TRUSTED = "credentials_trusted"
    AI_GENERATED_MARKED = "ai_generated_marked"
    LIKELY_SYNTHETIC = "likely_synthetic"
    TAMPERED = "tampered"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not_applicable"


class SignalStatus(str, enum.Enum):
    """Whether a signal produced a reading."""

    OK = "ok"
    SKIPPED = "skipped"  # the caller turned it off
    UNAVAILABLE = "unavailable"  # its model, key or store is not installed
    ERROR = "error"  # it ran and failed on this input (the reason says why)


PLAIN_WORDS: dict[VerdictLabel, str] = {
    VerdictLabel.CREDENTIALS_TRUSTED: "Trusted Content Credentials",
    VerdictLabel.AI_GENERATED_MARKED: "AI-generated (ReelProof watermark found)",
    VerdictLabel.LIKELY_SYNTHETIC: "Likely synthetic (classifier only)",
    VerdictLabel.TAMPERED: "Credentials do not match: altered or forged",
    VerdictLabel.INCONCLUSIVE: "Inconclusive",
    VerdictLabel.NOT_APPLICABLE: "Could not be evaluated",
}


@dataclass(frozen=True)
class ProvenanceFacts(Result):
    """What the fusion needs from a C2PA verification."""

    schema: ClassVar[str] = "provenance_facts"
    state: str  # trusted | valid_untrusted | invalid | absent
    signer: str | None = None
    digital_source_type: str | None = None
    codes: tuple[str, ...] = ()
    dev_certificate: bool = False

    @property
    def declares_ai(self) -> bool | None:
        """True/False when the credentials name a source type, None when they name none."""
        if not self.digital_source_type:
            return None
        return self.digital_source_type.rstrip("/").endswith(AI_SOURCE_TYPES)


@dataclass(frozen=True)
class WatermarkFacts(Result):
    """What the fusion needs from a watermark reading."""

    schema: ClassVar[str] = "watermark_facts"
    detected: bool
    evaluable: bool = True
    p_value: float | None = None
    payload: str | None = None
    payload_verified: bool = False
    key_id: str | None = None
    method: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RecoveryFacts(Result):
    """What the fusion needs from a manifest-store lookup by watermark id."""

    schema: ClassVar[str] = "recovery_facts"
    found: bool
    state: str | None = None  # provenance state of the recovered manifest
    signer: str | None = None
    digital_source_type: str | None = None
    fingerprint_matches: bool | None = None
    hard_binding_matches: bool | None = None


@dataclass(frozen=True)
class DetectorFacts(Result):
    """What the fusion needs from the classifier."""

    schema: ClassVar[str] = "detector_facts"
    p_synthetic: float | None
    label: str  # synthetic | real | inconclusive
    model: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Evidence(Result):
    """One finding with the signal it comes from.

    Attributes:
        code: machine-readable finding (``credentials_trusted``, ``ai_generated_marked``,
            ``likely_synthetic``, ``tampered``, ``credentials_untrusted``, ``credentials_absent``,
            ``watermark_absent``, ``classifier_real``, ``classifier_uncertain``,
            ``signal_unavailable``, ...).
        signal: ``provenance``, ``watermark``, ``detector`` or ``pipeline``.
        message: one plain sentence for a reader.
        details: small JSON-ready facts behind the sentence.
    """

    schema: ClassVar[str] = "evidence"
    code: str
    signal: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fusion(Result):
    """The fused answer (the verdict's headline, without the raw signals)."""

    schema: ClassVar[str] = "fusion"
    verdict: VerdictLabel
    summary: str
    ai_generated: bool | None
    synthetic_likelihood: str  # low | uncertain | high | unknown (classifier only)
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class SignalFacts:
    """The three signals as the fusion sees them; ``None`` facts mean the signal gave no reading."""

    provenance_status: SignalStatus
    watermark_status: SignalStatus
    detector_status: SignalStatus
    provenance: ProvenanceFacts | None = None
    watermark: WatermarkFacts | None = None
    recovery: RecoveryFacts | None = None
    detector: DetectorFacts | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _likelihood(det: DetectorFacts | None) -> str:
    if det is None or det.p_synthetic is None:
        return "unknown"
    return {"synthetic": "high", "real": "low"}.get(det.label, "uncertain")


def _provenance_evidence(facts: SignalFacts) -> list[Evidence]:
    prov = facts.provenance
    if prov is None:
        return [_missing_signal("provenance", facts.provenance_status, facts.errors)]
    details: dict[str, Any] = {
        "state": prov.state,
        "signer": prov.signer,
        "codes": list(prov.codes),
    }
    if prov.digital_source_type:
        details["digital_source_type"] = prov.digital_source_type
    declared = _declared_phrase(prov.digital_source_type)
    if prov.state == "invalid":
        msg = "Content Credentials are present but fail validation: the clip or its manifest was "
        msg += "changed after signing, or the signature is forged."
        return [Evidence("tampered", "provenance", msg, details)]
    if prov.state == "trusted":
        msg = f"Valid Content Credentials signed by {prov.signer or 'an unnamed signer'}, "
        msg += f"a trusted signer{declared}."
        return [Evidence("credentials_trusted", "provenance", msg, details)]
    if prov.state == "valid_untrusted":
        dev = " (a development certificate)" if prov.dev_certificate else ""
        msg = f"Content Credentials are intact but the signer {prov.signer or '(unnamed)'}{dev} "
        msg += f"is not on the trust list{declared}."
        return [Evidence("credentials_untrusted", "provenance", msg, details)]
    msg = "No Content Credentials. Most authentic footage carries none, so this is not evidence "
    msg += "of fakery."
    return [Evidence("credentials_absent", "provenance", msg, details)]


def _declared_phrase(source_type: str | None) -> str:
    if not source_type:
        return ""
    short = source_type.rstrip("/").rsplit("/", 1)[-1]
    if short.endswith(AI_SOURCE_TYPES):
        return f"; they declare the clip AI-generated ({short})"
    return f"; they declare the source as {short}"


def _watermark_evidence(facts: SignalFacts) -> list[Evidence]:
    wm = facts.watermark
    if wm is None:
        return [_missing_signal("watermark", facts.watermark_status, facts.errors)]
    details: dict[str, Any] = {
        "p_value": wm.p_value,
        "payload": wm.payload,
        "payload_verified": wm.payload_verified,
        "key_id": wm.key_id,
        "method": wm.method,
    }
    if not wm.evaluable:
        reason = wm.reason or "the clip is too short or too small"
        return [
            Evidence(
                "watermark_not_evaluable",
                "watermark",
                f"The watermark detector could not evaluate this clip: {reason}.",
                details,
            )
        ]
    if not wm.detected:
        msg = "No ReelProof watermark found. Only ReelProof-marked generators embed it, so this "
        msg += "says nothing about other generators."
        return [Evidence("watermark_absent", "watermark", msg, details)]
    p_text = f"p = {wm.p_value:.2g}" if wm.p_value is not None else "p unknown"
    ident = f", id {wm.payload}" if wm.payload and wm.payload_verified else ""
    msg = f"ReelProof watermark found ({p_text}, key {wm.key_id or 'unknown'}{ident}): the clip "
    msg += "came from a ReelProof-marked generator."
    out = [Evidence("ai_generated_marked", "watermark", msg, details)]
    rec = facts.recovery
    if rec is not None and rec.found:
        rec_details = {
            "state": rec.state,
            "signer": rec.signer,
            "fingerprint_matches": rec.fingerprint_matches,
            "hard_binding_matches": rec.hard_binding_matches,
        }
        rmsg = f"The credentials were stripped; the manifest stored under id {wm.payload} was "
        rmsg += f"recovered (signer {rec.signer or 'unknown'}, state {rec.state})."
        if rec.fingerprint_matches is False:
            rmsg += " But the pictures do NOT match the signed clip: the id may have been copied."
        elif rec.fingerprint_matches:
            rmsg += " The pictures still match the signed clip."
        out.append(Evidence("credentials_recovered", "watermark", rmsg, rec_details))
    elif rec is not None:
        out.append(
            Evidence(
                "manifest_not_in_store",
                "watermark",
                f"No stored manifest has the watermark id {wm.payload}.",
                {"payload": wm.payload},
            )
        )
    return out


def _detector_evidence(facts: SignalFacts) -> list[Evidence]:
    det = facts.detector
    if det is None:
        return [_missing_signal("detector", facts.detector_status, facts.errors)]
    details: dict[str, Any] = {
        "p_synthetic": det.p_synthetic,
        "label": det.label,
        "model": det.model,
    }
    if det.p_synthetic is None:
        reason = det.reason or "the clip could not be scored"
        return [Evidence("classifier_not_evaluable", "detector", f"Classifier: {reason}.", details)]
    p = f"{det.p_synthetic:.2f}"
    if det.label == "synthetic":
        msg = f"The classifier rates the clip likely synthetic (p = {p}). Classifiers err; "
        msg += "treat this as a lead, not proof."
        return [Evidence("likely_synthetic", "detector", msg, details)]
    if det.label == "real":
        msg = f"The classifier rates the clip unlikely synthetic (p = {p}). This is not proof "
        msg += "of authenticity."
        return [Evidence("classifier_real", "detector", msg, details)]
    msg = f"The classifier is uncertain (p = {p})."
    return [Evidence("classifier_uncertain", "detector", msg, details)]


def _missing_signal(signal: str, status: SignalStatus, errors: dict[str, str]) -> Evidence:
    reason = errors.get(signal, "")
    if status is SignalStatus.SKIPPED:
        return Evidence("signal_skipped", signal, f"The {signal} check was turned off.", {})
    if status is SignalStatus.UNAVAILABLE:
        msg = f"The {signal} check is not available here: {reason or 'not installed'}."
        return Evidence("signal_unavailable", signal, msg, {"reason": reason})
    msg = f"The {signal} check failed on this clip: {reason or 'unknown error'}."
    return Evidence("signal_error", signal, msg, {"reason": reason})


def _ai_generated(facts: SignalFacts) -> bool | None:
    wm, prov, rec = facts.watermark, facts.provenance, facts.recovery
    if wm is not None and wm.detected:
        return True
    if prov is not None and prov.state in ("trusted", "valid_untrusted"):
        return prov.declares_ai
    if rec is not None and rec.found and rec.digital_source_type:
        return rec.digital_source_type.rstrip("/").endswith(AI_SOURCE_TYPES)
    return None


def fuse(facts: SignalFacts) -> Fusion:
    """Apply the verdict rules (module docstring) to the signals' facts.

    Args:
        facts: each signal's status and reading.

    Returns:
        The verdict, a plain-words summary and the evidence list (every signal appears once).
    """
    evidence = _provenance_evidence(facts) + _watermark_evidence(facts) + _detector_evidence(facts)
    codes = {e.code for e in evidence}
    likelihood = _likelihood(facts.detector)
    label, summary = _choose(facts, codes, likelihood)
    return Fusion(
        verdict=label,
        summary=summary,
        ai_generated=_ai_generated(facts),
        synthetic_likelihood=likelihood,
        evidence=tuple(evidence),
    )


def _choose(facts: SignalFacts, codes: set[str], likelihood: str) -> tuple[VerdictLabel, str]:
    prov, wm = facts.provenance, facts.watermark
    marked = "ai_generated_marked" in codes
    if "tampered" in codes:
        extra = " The ReelProof watermark is present too: it came from a marked generator." * marked
        text = "The clip's Content Credentials do not validate: it was altered after signing or "
        return VerdictLabel.TAMPERED, text + "the credentials are forged." + extra
    if "credentials_trusted" in codes and prov is not None:
        declared = _declared_phrase(prov.digital_source_type)
        text = f"Trusted Content Credentials from {prov.signer or 'an unnamed signer'}{declared}."
        if prov.dev_certificate:
            text += " The signer is a development certificate: trust it only in development."
        if marked:
            text += " The ReelProof watermark confirms an AI generator made it."
        return VerdictLabel.CREDENTIALS_TRUSTED, text
    if marked and wm is not None:
        text = "A ReelProof watermark shows an AI generator made this clip"
        text += f" (key {wm.key_id or 'unknown'}"
        text += f", id {wm.payload})." if wm.payload else ")."
        rec = facts.recovery
        if "credentials_recovered" in codes and rec is not None:
            text += " Its stripped credentials were recovered from the manifest store"
            if rec.fingerprint_matches is False:
                text += ", but they describe different pictures (the id may have been copied)."
            else:
                text += "."
        return VerdictLabel.AI_GENERATED_MARKED, text
    if "likely_synthetic" in codes:
        text = "No credentials or watermark decide it; the classifier rates it likely synthetic. "
        return VerdictLabel.LIKELY_SYNTHETIC, text + "Classifiers make mistakes: check further."
    evaluated = (
        (prov is not None and prov.state != "absent")
        or (wm is not None and wm.evaluable)
        or (facts.detector is not None and facts.detector.p_synthetic is not None)
    )
    if not evaluated:
        text = "No signal could evaluate this clip (no credentials, and the watermark and "
        return VerdictLabel.NOT_APPLICABLE, text + "classifier checks could not run on it)."
    text = "No decisive evidence either way: no trusted credentials and no ReelProof watermark."
    if likelihood == "low":
        text += " The classifier sees no sign of synthesis, which is not proof of authenticity."
    elif likelihood == "uncertain":
        text += " The classifier is uncertain."
    return VerdictLabel.INCONCLUSIVE, text


def schema_tag(name: str) -> str:
    """The schema tag a result called ``name`` carries in JSON."""
    return f"reelproof.{name}/{SCHEMA_VERSION}"


__all__ = [
    "AI_SOURCE_TYPES",
    "PLAIN_WORDS",
    "DetectorFacts",
    "Evidence",
    "Fusion",
    "ProvenanceFacts",
    "RecoveryFacts",
    "SignalFacts",
    "SignalStatus",
    "VerdictLabel",
    "WatermarkFacts",
    "fuse",
    "schema_tag",
    "to_jsonable",
]
