"""Reading c2pa ``Reader.json()`` / ``crjson()`` output into ReelProof's typed records.

Who signed, what the manifest says it did (actions, generator, soft bindings) and the validation
codes with their plain-language sentences. Pure functions over the reader's JSON: no file access.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reelproof.provenance.codes import sentence_for
from reelproof.provenance.manifest import GENERATOR_ASSERTION, GeneratorInfo
from reelproof.provenance.pki import DEV_MARKER
from reelproof.provenance.trust import TrustConfig
from reelproof.provenance.validation import ValidationCode


@dataclass(frozen=True)
class SignerIdentity:
    """Who signed: the signing certificate's names (from the manifest, as the validator read it).

    Attributes:
        common_name: subject CN.
        organization: subject O.
        subject: subject as ``CN=..., O=...``.
        issuer: issuer as ``CN=..., O=...``.
        serial_number: certificate serial (hex).
        algorithm: signature algorithm.
        not_before / not_after: validity (ISO 8601) when known.
        is_dev: a ReelProof development certificate.
    """

    common_name: str | None
    organization: str | None
    subject: str
    issuer: str | None
    serial_number: str | None
    algorithm: str | None
    not_before: str | None = None
    not_after: str | None = None
    is_dev: bool = False


@dataclass(frozen=True)
class ActionRecord:
    """One entry of ``c2pa.actions``."""

    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class SoftBinding:
    """A ``c2pa.soft-binding`` block: a pointer (watermark id) that survives re-encoding.

    Attributes:
        alg: soft-binding algorithm id.
        value: the bound value (for ReelProof: the 16-hex-digit watermark id).
        scope: JSON text of the block's scope (timespan, region).
        recognised: ``alg`` is in the policy's allowed soft-binding algorithms.
    """

    alg: str
    value: str
    scope: str | None
    recognised: bool


def codes_from(results: Mapping[str, Any] | None) -> list[ValidationCode]:
    """Codes from a c2pa ``{success, informational, failure}`` dict, failures first, deduped."""
    if not results:
        return []
    seen: set[tuple[str, str]] = set()
    out: list[ValidationCode] = []
    for kind in ("failure", "informational", "success"):
        for item in results.get(kind) or ():
            code = str(item.get("code", "unknown"))
            if (code, kind) in seen:
                continue
            seen.add((code, kind))
            explanation = item.get("explanation")
            out.append(
                ValidationCode(
                    code, kind, sentence_for(code, explanation), explanation, item.get("url")
                )
            )
    return out


def codes_from_status_list(items: Iterable[Mapping[str, Any]] | None) -> list[ValidationCode]:
    """Older ``validation_status`` lists hold only failures."""
    return [
        ValidationCode(
            str(i.get("code")),
            "failure",
            sentence_for(str(i.get("code")), i.get("explanation")),
            i.get("explanation"),
            i.get("url"),
        )
        for i in items or ()
    ]


def distinguished_name(parts: Mapping[str, Any] | None) -> str | None:
    """``CN=..., O=...`` from a crjson name mapping (``None`` when empty)."""
    if not parts:
        return None
    return ", ".join(f"{k}={v}" for k, v in parts.items())


def signer_from(
    manifest: Mapping[str, Any], cr_manifest: Mapping[str, Any] | None
) -> SignerIdentity | None:
    """The signer from ``signature_info`` and, when present, crjson's certificate details."""
    info = manifest.get("signature_info") or {}
    cert = ((cr_manifest or {}).get("signature") or {}).get("certificateInfo") or {}
    if not info and not cert:
        return None
    subject = cert.get("subject") or {}
    issuer = cert.get("issuer") or {}
    validity = cert.get("validity") or {}
    organization = subject.get("O") or info.get("issuer")
    subject_text = distinguished_name(subject) or f"CN={info.get('common_name')}"
    names = " ".join(str(x) for x in (subject_text, distinguished_name(issuer), organization) if x)
    return SignerIdentity(
        common_name=subject.get("CN") or info.get("common_name"),
        organization=organization,
        subject=subject_text,
        issuer=distinguished_name(issuer) or info.get("issuer"),
        serial_number=cert.get("serialNumber") or info.get("cert_serial_number"),
        algorithm=(cert and (cr_manifest or {}).get("signature", {}).get("algorithm"))
        or info.get("alg"),
        not_before=validity.get("notBefore"),
        not_after=validity.get("notAfter"),
        is_dev=DEV_MARKER in names or "DEV ONLY" in names,
    )


def agent_text(agent: Any) -> str | None:
    """A software agent (text, or ``{name, version}``) as one line."""
    if agent is None:
        return None
    if isinstance(agent, Mapping):
        name, version = agent.get("name"), agent.get("version")
        return f"{name} {version}" if version else str(name)
    return str(agent)


def assertions(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The manifest's assertions that are JSON objects."""
    return [a for a in manifest.get("assertions") or () if isinstance(a, Mapping)]


def actions_from(manifest: Mapping[str, Any]) -> tuple[ActionRecord, ...]:
    """Every ``c2pa.actions`` (v1 and v2) entry, in order."""
    out: list[ActionRecord] = []
    for assertion in assertions(manifest):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in (assertion.get("data") or {}).get("actions") or ():
            out.append(
                ActionRecord(
                    action=str(act.get("action")),
                    digital_source_type=act.get("digitalSourceType"),
                    software_agent=agent_text(act.get("softwareAgent")),
                    description=act.get("description"),
                )
            )
    return tuple(out)


def generator_from(manifest: Mapping[str, Any]) -> GeneratorInfo | None:
    """The ReelProof generator assertion, when the manifest has one."""
    for assertion in assertions(manifest):
        if assertion.get("label") == GENERATOR_ASSERTION:
            data = assertion.get("data") or {}
            return GeneratorInfo(
                name=str(data.get("name", "")),
                version=str(data.get("version", "")),
                weights_digest=str(data.get("weights_digest", "")),
                prompt=data.get("prompt"),
            )
    return None


def soft_bindings_from(manifest: Mapping[str, Any], trust: TrustConfig) -> tuple[SoftBinding, ...]:
    """``c2pa.soft-binding`` blocks, each marked recognised when ``trust`` allows its algorithm."""
    out: list[SoftBinding] = []
    for assertion in assertions(manifest):
        if not str(assertion.get("label", "")).startswith("c2pa.soft-binding"):
            continue
        data = assertion.get("data") or {}
        alg = str(data.get("alg", ""))
        for block in data.get("blocks") or ():
            scope = block.get("scope")
            out.append(
                SoftBinding(
                    alg=alg,
                    value=str(block.get("value", "")),
                    scope=json.dumps(scope, sort_keys=True) if scope is not None else None,
                    recognised=alg in trust.allowed_soft_binding_algs,
                )
            )
    return tuple(out)
