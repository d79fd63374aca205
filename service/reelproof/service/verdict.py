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
from dataclasses import dataclass
from typing import ClassVar, Literal

from reelproof.core.io import MediaInfo, StillInfo
from reelproof.core.results import JsonObject, Result, schema_tag, to_jsonable
from reelproof.detector.score import DetectorScore
from reelproof.provenance.codes import FAILURE_KIND_SENTENCES
from reelproof.service.evidence import (
    declared_phrase,
    detector_evidence,
    provenance_evidence,
    watermark_evidence,
)
from reelproof.service.facts import (
    AI_SOURCE_TYPES,
    DetectorFacts,
    Evidence,
    ProvenanceFacts,
    RecoveryFacts,
    SignalFacts,
    WatermarkFacts,
    declares_ai,
)
from reelproof.service.signals import (
    CredentialsReading,
    MarkReading,
    SignalResult,
    SignalStatus,
)

Likelihood = Literal["low", "uncertain", "high", "unknown"]
StageState = Literal["ok", "error", "skipped"]


class VerdictLabel(str, enum.Enum):
    """The fused verdict."""

    CREDENTIALS_TRUSTED = "credentials_trusted"
    AI_GENERATED_MARKED = "ai_generated_marked"
    LIKELY_SYNTHETIC = "likely_synthetic"
    TAMPERED = "tampered"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not_applicable"


PLAIN_WORDS: dict[VerdictLabel, str] = {
    VerdictLabel.CREDENTIALS_TRUSTED: "Trusted Content Credentials",
    VerdictLabel.AI_GENERATED_MARKED: "AI-generated (ReelProof watermark found)",
    VerdictLabel.LIKELY_SYNTHETIC: "Likely synthetic (classifier only)",
    VerdictLabel.TAMPERED: "Credentials do not match: altered or forged",
    VerdictLabel.INCONCLUSIVE: "Inconclusive",
    VerdictLabel.NOT_APPLICABLE: "Could not be evaluated",
}


@dataclass(frozen=True)
class Fusion:
    """The fused answer (the verdict's headline, without the raw signals)."""

    verdict: VerdictLabel
    summary: str
    ai_generated: bool | None
    synthetic_likelihood: Likelihood  # the classifier's reading alone
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Verdict(Result):
    """The fused verdict with its evidence and every raw signal.

    Its JSON (``to_dict()``, ``reelproof.service.schema``) is what ``reelproof verify --json``
    prints and the API returns; its OpenAPI schema is generated from these fields.

    Attributes:
        verdict: the fused verdict.
        summary: the verdict in one or two sentences.
        ai_generated: whether a signal shows that an AI generator made the clip; null when no
            signal decides it.
        synthetic_likelihood: the classifier's reading alone.
        evidence: what each signal found, in plain words with the facts behind it.
        filename: the clip's file name.
        sha256: SHA-256 of the analysed bytes.
        size_bytes: size of the analysed file.
        media: container, codec, size, frame rate, duration... of a video; format and size of a
            still image; null when the file could not be decoded (its credentials still judged).
        provenance: the C2PA Content Credentials check.
        watermark: the ReelProof watermark reading, with the manifest its id led to.
        detector: the synthetic-video classifier's score.
        timings: seconds per stage (stages that ran side by side overlap).
        stage_status: ok, error or skipped per stage.
        versions: tool, model and key versions used.
        analyzed_at: ISO 8601, UTC.
        total_seconds: wall-clock seconds of the whole check.
        cpu_seconds: CPU seconds this process spent on it.
    """

    schema: ClassVar[str] = "verdict"
    verdict: VerdictLabel
    summary: str
    ai_generated: bool | None
    synthetic_likelihood: Likelihood
    evidence: tuple[Evidence, ...]
    filename: str
    sha256: str
    size_bytes: int
    media: MediaInfo | StillInfo | None
    provenance: SignalResult[CredentialsReading]
    watermark: SignalResult[MarkReading]
    detector: SignalResult[DetectorScore]
    timings: dict[str, float]
    stage_status: dict[str, StageState]
    versions: dict[str, str]
    analyzed_at: str
    total_seconds: float
    cpu_seconds: float

    def to_dict(self) -> JsonObject:
        """The verdict JSON (the one shape the CLI, the API and the OpenAPI document share)."""
        from reelproof.service.schema import document

        return document(self)


def _likelihood(det: DetectorFacts | None) -> Likelihood:
    if det is None or det.p_synthetic is None:
        return "unknown"
    if det.label == "synthetic":
        return "high"
    return "low" if det.label == "real" else "uncertain"


def _ai_generated(facts: SignalFacts) -> bool | None:
    wm, prov, rec = facts.watermark, facts.provenance, facts.recovery
    if wm is not None and wm.detected:
        return True
    if prov is not None and prov.state in ("trusted", "valid_untrusted"):
        return prov.declares_ai
    if rec is not None and rec.found and rec.digital_source_type:
        return declares_ai(rec.digital_source_type)
    return None


def fuse(facts: SignalFacts) -> Fusion:
    """Apply the verdict rules (module docstring) to the signals' facts.

    Args:
        facts: each signal's status and reading.

    Returns:
        The verdict, a plain-words summary and the evidence list (every signal appears once).
    """
    evidence = provenance_evidence(facts) + watermark_evidence(facts) + detector_evidence(facts)
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


def _choose(
    facts: SignalFacts, codes: set[str], likelihood: Likelihood
) -> tuple[VerdictLabel, str]:
    label, text = _headline(facts, codes, likelihood)
    return label, text + _credentials_notes(facts.provenance, codes, label)


def _headline(
    facts: SignalFacts, codes: set[str], likelihood: Likelihood
) -> tuple[VerdictLabel, str]:
    prov, wm = facts.provenance, facts.watermark
    marked = "ai_generated_marked" in codes
    if "tampered" in codes:  # only when bytes covered by the signature changed
        extra = " The ReelProof watermark is present too: it came from a marked generator." * marked
        text = "This file was altered after it was signed (its content no longer matches its "
        return VerdictLabel.TAMPERED, text + "Content Credentials), or they are forged." + extra
    if "credentials_trusted" in codes and prov is not None:
        declared = declared_phrase(prov.digital_source_type)
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
    if "face_likely_synthetic" in codes and facts.detector is not None:
        faces = facts.detector.synthetic_faces
        spans = ", ".join(f"{f.start_s:.1f}-{f.end_s:.1f} s" for f in faces)
        text = "No credentials or watermark decide it; the face classifier rates a face likely "
        text += f"swapped or generated ({spans}). Classifiers make mistakes: check further."
        return VerdictLabel.LIKELY_SYNTHETIC, text
    evaluated = (
        (prov is not None and prov.state != "absent")
        or (wm is not None and wm.evaluable)
        or (facts.detector is not None and facts.detector.p_synthetic is not None)
    )
    if not evaluated:
        text = "No signal could evaluate this clip (no credentials, and the watermark and "
        return VerdictLabel.NOT_APPLICABLE, text + "classifier checks could not run on it)."
    text = "No decisive evidence either way: no trusted credentials and no ReelProof watermark."
    if prov is not None and prov.signer_trusted:
        text = "No decisive evidence either way: the Content Credentials are not fully trusted "
        text += "and there is no ReelProof watermark."
    if likelihood == "low":
        text += " The classifier sees no sign of synthesis, which is not proof of authenticity."
    elif likelihood == "uncertain":
        text += " The classifier is uncertain."
    return VerdictLabel.INCONCLUSIVE, text


def _credentials_notes(prov: ProvenanceFacts | None, codes: set[str], label: VerdictLabel) -> str:
    """What the summary adds about credentials that cannot be relied on and about ingredients."""
    if prov is None:
        return ""
    notes = ""
    if "credentials_unreliable" in codes:
        own = prov.own_finding
        specific = (
            own.sentence.removeprefix(FAILURE_KIND_SENTENCES[own.kind]).strip() if own else ""
        )
        notes += " Its Content Credentials cannot be relied on, which alone is not a sign that "
        notes += "its pictures were changed" + (f": {specific}" if specific else ".")
    if prov.state == "valid_untrusted" and prov.signer_trusted:
        notes += f" Its signer ({prov.signer or 'unnamed'}) is on the trust list, but an "
        notes += "ingredient's signer or an identity credential in its Content Credentials is not."
    problems = prov.ingredient_findings
    if problems and label is not VerdictLabel.TAMPERED:
        names = ", ".join(sorted({str(p.ingredient) for p in problems}))
        notes += f" An ingredient's own credentials have a problem ({names}); the file's own "
        notes += "credentials are judged separately."
    return notes


__all__ = [
    "AI_SOURCE_TYPES",
    "PLAIN_WORDS",
    "DetectorFacts",
    "Evidence",
    "Fusion",
    "Likelihood",
    "ProvenanceFacts",
    "RecoveryFacts",
    "SignalFacts",
    "SignalStatus",
    "StageState",
    "Verdict",
    "VerdictLabel",
    "WatermarkFacts",
    "fuse",
    "schema_tag",
    "to_jsonable",
]
