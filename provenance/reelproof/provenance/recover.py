"""Recover credentials for a clip whose manifest was stripped, through its watermark id.

A recovered manifest is NOT a verification of the clip: its hard binding describes the bytes
that were signed, which a re-encode or remux no longer has. The report says so, checks the
stored manifest's own signature and certificate, and compares the clip's perceptual
fingerprint with the one stored at signing time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelproof.core.errors import ReelProofError
from reelproof.core.hashing import sha256_file
from reelproof.core.results import Result
from reelproof.provenance.fingerprint import (
    FINGERPRINT_THRESHOLD,
    Fingerprint,
    fingerprint_distance,
    fingerprint_file,
)
from reelproof.provenance.manifest import GeneratorInfo
from reelproof.provenance.signing import SignResult
from reelproof.provenance.store import ManifestStore, StoredManifest
from reelproof.provenance.trust import TrustConfig
from reelproof.provenance.validation import decide_state
from reelproof.provenance.verify import (
    HARD_BINDING_CODES,
    ActionRecord,
    ProvenanceReport,
    SignerIdentity,
    verify_manifest_bytes,
)

RECOVERED_STATUS = "credentials recovered from the store"


@dataclass(frozen=True)
class RecoveredCredentials(Result):
    """Credentials found in the manifest store for a clip's watermark id.

    Attributes:
        found: always true (``recover_from_store`` returns ``None`` when nothing is stored).
        status: "credentials recovered from the store" (never "verified").
        watermark_id: the id looked up.
        state: trust state of the stored manifest itself (signature and certificate under the
            policy, hard binding set aside): ``trusted`` / ``valid_untrusted`` / ``invalid``.
        hard_binding_matches: the stored manifest's hash binding matches this file's bytes
            (false after any re-encode or remux: the manifest describes other bytes).
        content_sha256_matches: this file is byte-identical to the one signed.
        fingerprint_distance: mean fraction of differing perceptual-hash bits (0 = same
            pictures, about 0.5 = unrelated); ``None`` when no fingerprint was stored or the clip
            could not be decoded.
        fingerprint_threshold: distance under which the content counts as the same.
        fingerprint_matches: ``fingerprint_distance < fingerprint_threshold``, or ``None``.
        signer / digital_source_type / actions / generator: summary of the stored manifest.
        stored_created: when the manifest was stored.
        statements: plain-language sentences saying what was and was not established.
        report: the stored manifest as the reader validated it against this file.
    """

    schema = "recovered_credentials"

    found: bool
    status: str
    watermark_id: str
    state: str
    hard_binding_matches: bool
    content_sha256_matches: bool
    fingerprint_distance: float | None
    fingerprint_threshold: float
    fingerprint_matches: bool | None
    signer: SignerIdentity | None
    digital_source_type: str | None
    actions: tuple[ActionRecord, ...]
    generator: GeneratorInfo | None
    stored_created: str
    statements: tuple[str, ...]
    report: ProvenanceReport


def _stored_state(report: ProvenanceReport) -> str:
    """Trust state of a detached manifest with hard-binding failures set aside."""
    if report.state == "absent":
        return "invalid"
    codes = [c for c in report.codes if c.code not in HARD_BINDING_CODES]
    return decide_state(codes, has_manifest=True, active_label=report.manifest_label)


def recover_from_store(
    path: Path | str,
    watermark_id: str,
    store: ManifestStore,
    trust: TrustConfig | None = None,
    threshold: float = FINGERPRINT_THRESHOLD,
    fingerprint: Fingerprint | Callable[[], Fingerprint] | None = None,
) -> RecoveredCredentials | None:
    """Look ``watermark_id`` up and judge the stored manifest against the clip at ``path``.

    Args:
        fingerprint: the clip's fingerprint when the caller already has it (or a function
            giving it, called only if the stored entry has a fingerprint); ``None``: computed
            from ``path`` with ``fingerprint_file``.

    Returns:
        ``None`` when the store has nothing under that id, else the recovered credentials.
    """
    policy = trust or TrustConfig()
    stored = store.lookup(watermark_id)
    if stored is None:
        return None
    file = Path(path)
    report = verify_manifest_bytes(file, stored.manifest_bytes, policy)
    failures = set(report.failure_codes)
    hard_ok = not (failures & HARD_BINDING_CODES) and any(
        c.code in ("assertion.bmffHash.match", "assertion.dataHash.match") for c in report.codes
    )
    sha_ok = sha256_file(file) == stored.content_sha256
    distance = _distance(file, stored, fingerprint)
    matches = None if distance is None else distance < threshold
    state = _stored_state(report)
    statements = [
        f"Credentials recovered from the store for watermark id {stored.watermark_id}; this is "
        "not a verification of this file.",
        (
            "The stored manifest's hard binding matches this file's bytes."
            if hard_ok
            else "The stored manifest's hard binding no longer matches this file: it describes "
            "the bytes that were signed, and this file was re-encoded, remuxed or edited since."
        ),
        {
            "trusted": "The stored manifest's signature is intact and its signer is trusted.",
            "valid_untrusted": "The stored manifest's signature is intact but its signer is "
            "not on your trust list.",
            "invalid": "The stored manifest itself fails validation (signature or certificate).",
        }[state],
    ]
    if distance is None:
        statements.append("No perceptual fingerprint could be compared.")
    elif matches:
        statements.append(
            f"The pictures still match the signed clip (fingerprint distance {distance:.3f} "
            f"< {threshold})."
        )
    else:
        statements.append(
            f"The pictures do NOT match the signed clip (fingerprint distance {distance:.3f} "
            f">= {threshold}): the watermark id may have been copied onto other content."
        )
    return RecoveredCredentials(
        found=True,
        status=RECOVERED_STATUS,
        watermark_id=stored.watermark_id,
        state=state,
        hard_binding_matches=hard_ok,
        content_sha256_matches=sha_ok,
        fingerprint_distance=distance,
        fingerprint_threshold=threshold,
        fingerprint_matches=matches,
        signer=report.signer,
        digital_source_type=report.digital_source_type,
        actions=report.actions,
        generator=report.generator,
        stored_created=stored.created,
        statements=tuple(statements),
        report=report,
    )


def _distance(
    file: Path, stored: StoredManifest, given: Fingerprint | Callable[[], Fingerprint] | None
) -> float | None:
    if stored.fingerprint is None:
        return None
    try:
        if isinstance(given, Fingerprint):
            query = given
        elif given is not None:
            query = given()
        else:
            query = fingerprint_file(file)
    except ReelProofError:
        return None
    return fingerprint_distance(stored.fingerprint, query)


def record_signing(
    store: ManifestStore, result: SignResult, fingerprint: Fingerprint | None = None
) -> StoredManifest:
    """Store a signing result under its watermark id (fingerprint computed from the file if
    not given). Call right after :func:`~reelproof.provenance.signing.sign`.

    Raises:
        ReelProofError: the result carries no watermark id.
    """
    if result.watermark_id is None:
        raise ReelProofError(
            "this clip was signed without a watermark id, so it cannot be stored by one",
            hint="pass ManifestSpec(watermark_id=...) when signing",
        )
    if fingerprint is None:
        fingerprint = fingerprint_file(result.dst)
    return store.put(
        result.watermark_id,
        result.manifest_bytes,
        content_sha256=result.content_sha256,
        fingerprint=fingerprint,
        signer=result.signer_subject,
        mime=result.mime,
    )
