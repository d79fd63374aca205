"""What the fusion rules read from each signal, built from the leaves' typed results.

The fusion never sees JSON: each ``*Facts.of`` constructor takes the leaf package's own frozen
result and keeps the few facts the verdict rules decide on, so the rules can be tested on facts
alone (``tests/service/test_service_verdict.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reelproof.core.results import JsonValue
from reelproof.detector.score import DetectorScore
from reelproof.provenance.codes import FailureKind, failure_kind
from reelproof.provenance.recover import RecoveredCredentials
from reelproof.provenance.validation import ProvenanceFinding
from reelproof.provenance.verify import SignerIdentity
from reelproof.service.signals import (
    CredentialsReading,
    DetectorResult,
    ProvenanceResult,
    SignalStatus,
    StoreLookup,
    WatermarkResult,
)
from reelproof.watermark.reading import WatermarkReading

AI_SOURCE_TYPES = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "algorithmicMedia",
    "compositeSynthetic",
)
"""IPTC digital source types that declare AI or algorithmic generation (matched by suffix)."""

SignalName = Literal["provenance", "watermark", "detector", "pipeline"]


def declares_ai(source_type: str | None) -> bool | None:
    """True/False when a digital source type is named, None when none is."""
    if not source_type:
        return None
    return source_type.rstrip("/").endswith(AI_SOURCE_TYPES)


def signer_name(signer: SignerIdentity | None) -> str | None:
    """The name a reader knows a signer by: common name, else organisation, else subject."""
    if signer is None:
        return None
    return signer.common_name or signer.organization or signer.subject or None


@dataclass(frozen=True)
class ProvenanceFacts:
    """What the fusion needs from a C2PA verification.

    Attributes:
        state: trusted, valid_untrusted, invalid or absent (decided by the file's own manifest).
        failure: what the file's own manifest's failures show (content altered or credentials
            unreliable); derived from ``codes`` when not given.
        findings: every finding with its plain sentence, ingredients' included.
        signer_trusted: the file's own signer is trusted even when ``state`` is not (an
            ingredient's signer or an identity credential is untrusted).
    """

    state: str
    signer: str | None = None
    digital_source_type: str | None = None
    codes: tuple[str, ...] = ()
    dev_certificate: bool = False
    failure: FailureKind | None = None
    findings: tuple[ProvenanceFinding, ...] = ()
    signer_trusted: bool = False

    @classmethod
    def of(cls, reading: CredentialsReading) -> ProvenanceFacts:
        return cls(
            state=reading.state,
            signer=signer_name(reading.signer),
            digital_source_type=reading.digital_source_type,
            codes=reading.code_names,
            dev_certificate=reading.dev_certificate,
            failure=reading.failure,
            findings=reading.findings,
            signer_trusted=reading.signer_trusted,
        )

    @property
    def content_altered(self) -> bool:
        """The bytes the signature covers changed (or the signature is forged): tampering."""
        if self.state != "invalid":
            return False
        if self.failure is not None:
            return self.failure == "content_altered"
        return any(failure_kind(code) == "content_altered" for code in self.codes)

    @property
    def own_finding(self) -> ProvenanceFinding | None:
        """The leading finding about the file's own manifest (not an ingredient's)."""
        return next((f for f in self.findings if f.ingredient is None), None)

    @property
    def ingredient_findings(self) -> tuple[ProvenanceFinding, ...]:
        return tuple(f for f in self.findings if f.ingredient is not None)

    @property
    def declares_ai(self) -> bool | None:
        """True/False when the credentials name a source type, None when they name none."""
        return declares_ai(self.digital_source_type)


@dataclass(frozen=True)
class WatermarkFacts:
    """What the fusion needs from a watermark reading."""

    detected: bool
    evaluable: bool = True
    p_value: float | None = None
    payload: str | None = None
    payload_verified: bool = False
    key_id: str | None = None
    method: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, reading: WatermarkReading) -> WatermarkFacts:
        return cls(
            detected=reading.detected,
            evaluable=reading.evaluable,
            p_value=reading.p_value,
            payload=reading.payload,
            payload_verified=reading.payload_verified,
            key_id=reading.key_id,
            method=reading.method,
            reason=reading.reason,
        )


@dataclass(frozen=True)
class RecoveryFacts:
    """What the fusion needs from a manifest-store lookup by watermark id."""

    found: bool
    state: str | None = None  # provenance state of the recovered manifest
    signer: str | None = None
    digital_source_type: str | None = None
    fingerprint_matches: bool | None = None
    hard_binding_matches: bool | None = None

    @classmethod
    def of(cls, lookup: StoreLookup) -> RecoveryFacts:
        if not isinstance(lookup, RecoveredCredentials):
            return cls(found=False)
        # ``state`` judges the stored manifest itself; its ``report`` validates it against this
        # file, where the hard binding fails after any re-encode.
        return cls(
            found=True,
            state=lookup.state,
            signer=signer_name(lookup.signer),
            digital_source_type=lookup.digital_source_type,
            fingerprint_matches=lookup.fingerprint_matches,
            hard_binding_matches=lookup.hard_binding_matches,
        )


@dataclass(frozen=True)
class FaceFacts:
    """One tracked face's score (face mode)."""

    track_id: int
    start_s: float
    end_s: float
    p_synthetic: float
    label: str  # synthetic | real | inconclusive


@dataclass(frozen=True)
class DetectorFacts:
    """What the fusion needs from the classifier."""

    p_synthetic: float | None
    label: str  # synthetic | real | inconclusive | abstain
    model: str | None = None
    reason: str | None = None
    faces: tuple[FaceFacts, ...] = ()

    @classmethod
    def of(cls, score: DetectorScore) -> DetectorFacts:
        faces = tuple(
            FaceFacts(f.track_id, f.start_s, f.end_s, f.p_synthetic, f.label) for f in score.faces
        )
        return cls(score.p_synthetic, score.label, score.model, score.reason, faces)

    @property
    def synthetic_faces(self) -> tuple[FaceFacts, ...]:
        return tuple(f for f in self.faces if f.label == "synthetic")


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

    @classmethod
    def of(
        cls, provenance: ProvenanceResult, watermark: WatermarkResult, detector: DetectorResult
    ) -> SignalFacts:
        mark = watermark.reading
        lookup = mark.recovered_manifest if mark is not None else None
        return cls(
            provenance_status=provenance.status,
            watermark_status=watermark.status,
            detector_status=detector.status,
            provenance=ProvenanceFacts.of(provenance.reading) if provenance.reading else None,
            watermark=WatermarkFacts.of(mark) if mark is not None else None,
            recovery=RecoveryFacts.of(lookup) if lookup is not None else None,
            detector=DetectorFacts.of(detector.reading) if detector.reading else None,
            errors={
                name: result.reason
                for name, result in (
                    ("provenance", provenance),
                    ("watermark", watermark),
                    ("detector", detector),
                )
                if result.reason
            },
        )


@dataclass(frozen=True)
class Evidence:
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

    code: str
    signal: SignalName
    message: str
    details: dict[str, JsonValue] = field(default_factory=dict)
