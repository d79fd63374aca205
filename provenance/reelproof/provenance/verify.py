"""Verify a clip's C2PA credentials and explain the result in plain language.

States:
    ``trusted``: intact, and the signer chains to one of your trust anchors.
    ``valid_untrusted``: intact (signature and hashes check out) but the signer is not trusted.
    ``invalid``: credentials are present but fail (tampering, bad or expired certificate...).
    ``absent``: no credentials (or a container that cannot hold them). Never evidence of fakery.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, get_args

import c2pa

from reelproof.core.errors import MediaDecodeError, ReelProofError, UnsupportedMediaError
from reelproof.core.io import DEFAULT_LIMITS, resolve_input_path
from reelproof.core.io.boxes import check_structure
from reelproof.core.results import Result
from reelproof.provenance.codes import sentence_for
from reelproof.provenance.manifest import GENERATOR_ASSERTION, GeneratorInfo
from reelproof.provenance.media import sniff_mime
from reelproof.provenance.pki import DEV_MARKER
from reelproof.provenance.trust import TrustConfig

ProvenanceState = Literal["trusted", "valid_untrusted", "invalid", "absent"]
STATES: tuple[ProvenanceState, ...] = get_args(ProvenanceState)
HARD_BINDING_CODES = frozenset(
    {"assertion.bmffHash.mismatch", "assertion.dataHash.mismatch", "assertion.boxesHash.mismatch"}
)
_MAX_INGREDIENT_DEPTH = 8
_C2PA_MARKERS = (b"jumdc2pa", bytes.fromhex("d8fec3d61b0e483c92975828877ec481"))


@dataclass(frozen=True)
class ValidationCode:
    """One validation result.

    Attributes:
        code: C2PA status code (``assertion.bmffHash.mismatch``) or ``reelproof.*``.
        kind: ``failure``, ``informational`` or ``success``.
        sentence: what it means, in plain language.
        explanation: the validator's own (technical) explanation.
        url: the JUMBF URI of the manifest part it concerns.
    """

    code: str
    kind: str
    sentence: str
    explanation: str | None = None
    url: str | None = None


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


@dataclass(frozen=True)
class IngredientReport:
    """One ingredient (parent clip, image-to-video input...) and its recorded validation.

    Attributes:
        state: the ingredient's state from the validation recorded when it was embedded, plus
            any change detected since (``absent``: the ingredient carried no credentials).
    """

    title: str | None
    relationship: str | None
    format: str | None
    state: ProvenanceState
    codes: tuple[ValidationCode, ...]
    manifest_label: str | None
    signer: SignerIdentity | None
    actions: tuple[ActionRecord, ...]
    ingredients: tuple[IngredientReport, ...]


@dataclass(frozen=True)
class ProvenanceReport(Result):
    """The C2PA verification of one file.

    Attributes:
        path: the file verified.
        state: ``trusted`` / ``valid_untrusted`` / ``invalid`` / ``absent``.
        summary: one plain-language sentence.
        codes: every validation code with its sentence (failures first).
        signer: the signing certificate's identity, when there is a manifest.
        signing_time: signing time from a timestamp, when one is present.
        timestamp_trusted: a trusted timestamp authority vouches for ``signing_time``.
        actions: the active manifest's actions.
        digital_source_type: of the first action that states one (trainedAlgorithmicMedia...).
        generator: the ReelProof generator assertion, when present.
        soft_bindings: soft-binding blocks (watermark ids).
        ingredients: the ingredient tree.
        manifest_label: URN of the active manifest.
        title: asset title in the manifest.
        claim_generator: software that wrote the manifest.
        anchors_configured: the policy had trust anchors (without them nothing is ``trusted``).
    """

    schema = "provenance_report"

    path: str
    state: ProvenanceState
    summary: str
    codes: tuple[ValidationCode, ...]
    signer: SignerIdentity | None = None
    signing_time: str | None = None
    timestamp_trusted: bool = False
    actions: tuple[ActionRecord, ...] = ()
    digital_source_type: str | None = None
    generator: GeneratorInfo | None = None
    soft_bindings: tuple[SoftBinding, ...] = ()
    ingredients: tuple[IngredientReport, ...] = ()
    manifest_label: str | None = None
    title: str | None = None
    claim_generator: str | None = None
    anchors_configured: bool = False

    @property
    def failure_codes(self) -> tuple[str, ...]:
        """Codes of kind ``failure`` (order kept)."""
        return tuple(c.code for c in self.codes if c.kind == "failure")

    @property
    def code_names(self) -> tuple[str, ...]:
        """Every code name, failures first."""
        return tuple(c.code for c in self.codes)


def _own_code(
    code: str, kind: str = "informational", explanation: str | None = None
) -> ValidationCode:
    return ValidationCode(code, kind, sentence_for(code), explanation)


def _codes_from(results: Mapping[str, Any] | None) -> list[ValidationCode]:
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


def _codes_from_status_list(items: Iterable[Mapping[str, Any]] | None) -> list[ValidationCode]:
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


def _state_from_codes(codes: list[ValidationCode], has_manifest: bool) -> ProvenanceState:
    if not has_manifest and not codes:
        return "absent"
    failures = {c.code for c in codes if c.kind == "failure"}
    if failures - {"signingCredential.untrusted"}:
        return "invalid"
    if any(c.code == "signingCredential.trusted" and c.kind == "success" for c in codes):
        return "trusted"
    return "valid_untrusted"


def _dn(parts: Mapping[str, Any] | None) -> str | None:
    if not parts:
        return None
    return ", ".join(f"{k}={v}" for k, v in parts.items())


def _signer_from(
    manifest: Mapping[str, Any], cr_manifest: Mapping[str, Any] | None
) -> SignerIdentity | None:
    info = manifest.get("signature_info") or {}
    cert = ((cr_manifest or {}).get("signature") or {}).get("certificateInfo") or {}
    if not info and not cert:
        return None
    subject = cert.get("subject") or {}
    issuer = cert.get("issuer") or {}
    validity = cert.get("validity") or {}
    organization = subject.get("O") or info.get("issuer")
    subject_text = _dn(subject) or f"CN={info.get('common_name')}"
    names = " ".join(str(x) for x in (subject_text, _dn(issuer), organization) if x)
    return SignerIdentity(
        common_name=subject.get("CN") or info.get("common_name"),
        organization=organization,
        subject=subject_text,
        issuer=_dn(issuer) or info.get("issuer"),
        serial_number=cert.get("serialNumber") or info.get("cert_serial_number"),
        algorithm=(cert and (cr_manifest or {}).get("signature", {}).get("algorithm"))
        or info.get("alg"),
        not_before=validity.get("notBefore"),
        not_after=validity.get("notAfter"),
        is_dev=DEV_MARKER in names or "DEV ONLY" in names,
    )


def _agent_text(agent: Any) -> str | None:
    if agent is None:
        return None
    if isinstance(agent, Mapping):
        name, version = agent.get("name"), agent.get("version")
        return f"{name} {version}" if version else str(name)
    return str(agent)


def _assertions(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [a for a in manifest.get("assertions") or () if isinstance(a, Mapping)]


def _actions_from(manifest: Mapping[str, Any]) -> tuple[ActionRecord, ...]:
    out: list[ActionRecord] = []
    for assertion in _assertions(manifest):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for act in (assertion.get("data") or {}).get("actions") or ():
            out.append(
                ActionRecord(
                    action=str(act.get("action")),
                    digital_source_type=act.get("digitalSourceType"),
                    software_agent=_agent_text(act.get("softwareAgent")),
                    description=act.get("description"),
                )
            )
    return tuple(out)


def _generator_from(manifest: Mapping[str, Any]) -> GeneratorInfo | None:
    for assertion in _assertions(manifest):
        if assertion.get("label") == GENERATOR_ASSERTION:
            data = assertion.get("data") or {}
            return GeneratorInfo(
                name=str(data.get("name", "")),
                version=str(data.get("version", "")),
                weights_digest=str(data.get("weights_digest", "")),
                prompt=data.get("prompt"),
            )
    return None


def _soft_bindings_from(manifest: Mapping[str, Any], trust: TrustConfig) -> tuple[SoftBinding, ...]:
    out: list[SoftBinding] = []
    for assertion in _assertions(manifest):
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


def _ingredient_tree(
    manifest: Mapping[str, Any],
    manifests: Mapping[str, Any],
    cr_by_label: Mapping[str, Any],
    deltas: Mapping[str, list[ValidationCode]],
    depth: int,
) -> tuple[IngredientReport, ...]:
    if depth > _MAX_INGREDIENT_DEPTH:
        return ()
    out: list[IngredientReport] = []
    for ing in manifest.get("ingredients") or ():
        label = ing.get("active_manifest")
        child = manifests.get(label) if label else None
        recorded = ing.get("validation_results") or {}
        codes = _codes_from(recorded.get("activeManifest"))
        if not codes:
            codes = _codes_from_status_list(ing.get("validation_status"))
        codes += deltas.get(str(ing.get("label", "")), [])
        state = _state_from_codes(codes, has_manifest=child is not None)
        out.append(
            IngredientReport(
                title=ing.get("title"),
                relationship=ing.get("relationship"),
                format=ing.get("format"),
                state=state,
                codes=tuple(codes),
                manifest_label=label,
                signer=_signer_from(child, cr_by_label.get(label or "")) if child else None,
                actions=_actions_from(child) if child else (),
                ingredients=(
                    _ingredient_tree(child, manifests, cr_by_label, {}, depth + 1) if child else ()
                ),
            )
        )
    return tuple(out)


def _walk(ingredients: Iterable[IngredientReport]) -> Iterable[IngredientReport]:
    for ing in ingredients:
        yield ing
        yield from _walk(ing.ingredients)


def _deltas(validation: Mapping[str, Any]) -> dict[str, list[ValidationCode]]:
    """Ingredient validation changes detected now, keyed by ingredient assertion label."""
    out: dict[str, list[ValidationCode]] = {}
    for delta in validation.get("ingredientDeltas") or ():
        uri = str(delta.get("ingredientAssertionURI", ""))
        label = uri.rsplit("/", 1)[-1]
        out.setdefault(label, []).extend(_codes_from(delta.get("validationDeltas")))
    return out


def _summary(state: str, signer: SignerIdentity | None, codes: tuple[ValidationCode, ...]) -> str:
    who = (signer.common_name or signer.subject) if signer else "an unknown signer"
    if state == "trusted":
        return f"Content credentials are intact and signed by {who}, a signer you trust."
    if state == "valid_untrusted":
        return f"Content credentials are intact, but the signer ({who}) is not on your trust list."
    if state == "invalid":
        first = next(
            (c for c in codes if c.kind == "failure" and c.code != "signingCredential.untrusted"),
            None,
        )
        reason = first.sentence if first else "validation failed."
        return f"Content credentials are present but fail validation: {reason}"
    return codes[0].sentence if codes else sentence_for("reelproof.manifest.absent")


def report_from_reader_json(
    path: str,
    data: Mapping[str, Any],
    cr_manifests: Iterable[Mapping[str, Any]],
    trust: TrustConfig,
) -> ProvenanceReport:
    """Turn c2pa ``Reader.json()`` (and ``crjson()`` manifests) into a :class:`ProvenanceReport`."""
    manifests: Mapping[str, Any] = data.get("manifests") or {}
    label = data.get("active_manifest")
    manifest: Mapping[str, Any] = manifests.get(label, {}) if label else {}
    cr_by_label = {str(m.get("label")): m for m in cr_manifests}
    validation = data.get("validation_results") or {}
    codes = _codes_from(validation.get("activeManifest"))
    if not codes and data.get("validation_status"):
        codes = _codes_from_status_list(data.get("validation_status"))
    reader_states: dict[str, ProvenanceState] = {"Trusted": "trusted", "Valid": "valid_untrusted"}
    state = reader_states.get(str(data.get("validation_state")), "invalid")
    if state != "invalid" and _state_from_codes(codes, True) == "invalid":
        state = "invalid"  # never report valid over a failure the validator listed
    signer = _signer_from(manifest, cr_by_label.get(str(label)))
    sig_info = manifest.get("signature_info") or {}
    signing_time = sig_info.get("time")
    timestamp_trusted = bool(signing_time) and any(
        c.code == "timeStamp.trusted" and c.kind == "success" for c in codes
    )
    actions = _actions_from(manifest)
    soft = _soft_bindings_from(manifest, trust)
    ingredients = _ingredient_tree(manifest, manifests, cr_by_label, _deltas(validation), 0)
    extra: list[ValidationCode] = []
    if not timestamp_trusted:
        extra.append(_own_code("reelproof.timestamp.absent"))
    if any(not s.recognised for s in soft):
        extra.append(_own_code("reelproof.softBinding.algNotAllowed"))
    if any(i.state == "invalid" for i in _walk(ingredients)):
        extra.append(_own_code("reelproof.ingredient.failed"))
    first_success = next((i for i, c in enumerate(codes) if c.kind == "success"), len(codes))
    all_codes = tuple(codes[:first_success] + extra + codes[first_success:])
    generator_info = manifest.get("claim_generator_info") or []
    claim_generator = (
        _agent_text(generator_info[0]) if generator_info else manifest.get("claim_generator")
    )
    return ProvenanceReport(
        path=path,
        state=state,
        summary=_summary(state, signer, all_codes),
        codes=all_codes,
        signer=signer,
        signing_time=signing_time,
        timestamp_trusted=timestamp_trusted,
        actions=actions,
        digital_source_type=next(
            (a.digital_source_type for a in actions if a.digital_source_type), None
        ),
        generator=_generator_from(manifest),
        soft_bindings=soft,
        ingredients=ingredients,
        manifest_label=label,
        title=manifest.get("title"),
        claim_generator=claim_generator,
        anchors_configured=trust.anchors_pem is not None,
    )


def _absent(
    path: str, code: str, trust: TrustConfig, explanation: str | None = None
) -> ProvenanceReport:
    codes = (_own_code(code, "informational", explanation),)
    return ProvenanceReport(
        path=path, state="absent", summary=codes[0].sentence, codes=codes,
        anchors_configured=trust.anchors_pem is not None,
    )  # fmt: skip


def _unreadable(path: str, err: Exception, trust: TrustConfig) -> ProvenanceReport:
    codes = (_own_code("reelproof.manifest.unreadable", "failure", str(err)),)
    return ProvenanceReport(
        path=path, state="invalid", summary=f"Content credentials are present but unreadable: {err}",
        codes=codes, anchors_configured=trust.anchors_pem is not None,
    )  # fmt: skip


def _has_c2pa_marker(path: Path, chunk: int = 1 << 20) -> bool:
    """Whether the file contains C2PA JUMBF bytes anywhere (used only after a parse failure)."""
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            window = tail + block
            if any(marker in window for marker in _C2PA_MARKERS):
                return True
            tail = block[-32:]
    return False


def read_manifest_store(
    source: BinaryIO, mime: str, trust: TrustConfig, manifest_bytes: bytes | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Run the c2pa Reader under ``trust``; ``None`` when there is no manifest.

    Returns:
        ``(Reader.json(), crjson manifests)``.

    Raises:
        c2pa.C2paError: the container or manifest could not be parsed.
    """
    with c2pa.Context.from_dict(trust.to_settings()) as context:
        reader = c2pa.Reader.try_create(mime, source, manifest_bytes, context)
        if reader is None:
            return None
        with reader:
            data = json.loads(reader.json())
            try:
                cr = json.loads(reader.crjson()).get("manifests") or []
            except (c2pa.C2paError, ValueError):
                cr = []  # crjson only adds certificate details; the report stands without them
    return data, cr


def verify(path: Path | str, trust: TrustConfig | None = None) -> ProvenanceReport:
    """Verify the C2PA credentials embedded in ``path`` under ``trust`` (default: no anchors).

    Unsupported containers (WebM, Matroska) give an ``absent`` report; corrupt manifests and
    malformed boxes in a file that carries C2PA data give an ``invalid`` report with
    ``reelproof.manifest.unreadable``.

    Raises:
        InputError: the file is missing or not a regular file. MediaDecodeError: empty, or not a
            parseable container and no C2PA data in it. UnsupportedMediaError: not a video
            container. LimitExceededError: over the size limit, or too many boxes.
    """
    policy = trust or TrustConfig()
    # A regular file within the size limit (a FIFO would block the read forever), and a bounded
    # number of boxes (the reader's work grows faster than their count).
    file = resolve_input_path(path, DEFAULT_LIMITS)
    check_structure(file)
    try:
        mime = sniff_mime(file)
    except UnsupportedMediaError as err:
        if "WebM/Matroska" in err.message:
            return _absent(str(file), "reelproof.container.unsupported", policy, err.message)
        raise
    try:
        with file.open("rb") as handle:
            read = read_manifest_store(handle, mime, policy)
    except c2pa.C2paError as err:
        if _has_c2pa_marker(file):
            return _unreadable(str(file), err, policy)
        raise MediaDecodeError(
            f"{file.name}: the container could not be parsed ({err})",
            hint="the file is truncated or corrupt; re-export it",
        ) from err
    if read is None:
        return _absent(str(file), "reelproof.manifest.absent", policy)
    data, cr = read
    return report_from_reader_json(str(file), data, cr, policy)


def verify_manifest_bytes(
    path: Path | str, manifest_bytes: bytes, trust: TrustConfig | None = None
) -> ProvenanceReport:
    """Validate a detached manifest (from the store) against the file at ``path``.

    The hard binding (``assertion.bmffHash``) is checked against ``path``'s bytes, so a stripped
    or re-encoded clip reports ``assertion.bmffHash.mismatch``; the signature and certificate
    checks are those of the stored manifest. If ``path`` cannot be parsed as a C2PA-capable
    container the manifest is read on its own (no hard-binding check possible).
    """
    policy = trust or TrustConfig()
    # A regular file within the size limit (a FIFO would block the read forever), and a bounded
    # number of boxes (the reader's work grows faster than their count).
    file = resolve_input_path(path, DEFAULT_LIMITS)
    check_structure(file)
    try:
        mime = sniff_mime(file)
        with file.open("rb") as handle:
            read = read_manifest_store(handle, mime, policy, manifest_bytes)
    except (c2pa.C2paError, ReelProofError):
        try:
            read = read_manifest_store(io.BytesIO(manifest_bytes), "application/c2pa", policy)
        except c2pa.C2paError as err:
            return _unreadable(str(file), err, policy)
    if read is None:
        return _absent(str(file), "reelproof.manifest.absent", policy)
    data, cr = read
    return report_from_reader_json(str(file), data, cr, policy)
