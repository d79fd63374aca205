"""Verify a file's C2PA credentials and explain the result in plain language.

States (decided by the active manifest; ``validation.py`` holds the rules):
    ``trusted``: intact, and the signer chains to one of your trust anchors.
    ``valid_untrusted``: intact (signature and hashes check out) but the signer is not trusted.
    ``invalid``: credentials are present but fail; ``failure`` says whether the content was
        altered, the credentials cannot be relied on, or (alongside any state) an ingredient
        failed.
    ``absent``: no credentials (or a container that cannot hold them). Never evidence of fakery.

Video (MP4, MOV, M4V, AVI) and stills (JPEG, PNG, WebP, HEIC/HEIF, AVIF) are read; the format is
sniffed from the bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, get_args

import c2pa

from reelproof.core.errors import (
    InputError,
    MediaDecodeError,
    ReelProofError,
    UnsupportedMediaError,
)
from reelproof.core.io import DEFAULT_LIMITS, resolve_input_path
from reelproof.core.io.boxes import check_structure
from reelproof.core.results import Result
from reelproof.provenance.codes import FailureKind, sentence_for
from reelproof.provenance.manifest import GeneratorInfo
from reelproof.provenance.media import is_fragment_init_segment, sniff_mime
from reelproof.provenance.reader_json import (
    ActionRecord,
    SignerIdentity,
    SoftBinding,
    actions_from,
    agent_text,
    codes_from,
    codes_from_status_list,
    generator_from,
    signer_from,
    soft_bindings_from,
)
from reelproof.provenance.trust import TrustConfig
from reelproof.provenance.validation import (
    ProvenanceFinding,
    ProvenanceState,
    ValidationCode,
    counted_failures,
    decide_state,
    findings_for,
    is_ingredient_scoped,
    leading_failure,
    manifest_label_of,
)

__all__ = [
    "HARD_BINDING_CODES",
    "STATES",
    "ActionRecord",
    "IngredientReport",
    "ProvenanceFinding",
    "ProvenanceReport",
    "ProvenanceState",
    "SignerIdentity",
    "SoftBinding",
    "ValidationCode",
    "read_manifest_store",
    "report_from_reader_json",
    "verify",
    "verify_manifest_bytes",
    "walk_ingredients",
]

STATES: tuple[ProvenanceState, ...] = get_args(ProvenanceState)
HARD_BINDING_CODES = frozenset(
    {"assertion.bmffHash.mismatch", "assertion.dataHash.mismatch", "assertion.boxesHash.mismatch"}
)
_MAX_INGREDIENT_DEPTH = 8
_C2PA_MARKERS = (b"jumdc2pa", bytes.fromhex("d8fec3d61b0e483c92975828877ec481"))
_VALIDATOR_STATES: dict[str, ProvenanceState] = {
    "Trusted": "trusted",
    "Valid": "valid_untrusted",
    "Invalid": "invalid",
}


@dataclass(frozen=True)
class IngredientReport:
    """One ingredient (parent clip, image-to-video input...) and its own validation.

    Attributes:
        state: the ingredient's own state from the validation recorded when it was embedded
            plus any change detected now (``absent``: it carries no credentials).
        failure: the most serious kind among ``findings`` (``None``: nothing failed).
        findings: what the ingredient's failures show, from its own point of view (its
            content altered, its credentials unreliable, its own ingredients' problems).
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
    failure: FailureKind | None = None
    findings: tuple[ProvenanceFinding, ...] = ()


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
        failure: the most serious thing the failures show: ``content_altered`` (bytes
            covered by the signature changed), ``credentials_unreliable`` (nothing shows the
            content changed, but the credentials cannot be relied on) or ``ingredient_problem``
            (only an ingredient failed; ``state`` may then be ``trusted``). ``None``: nothing
            failed. Only ``content_altered`` is evidence of tampering.
        findings: every finding, most serious first, each with its codes and a sentence.
        validator_state: the state c2pa-rs itself computed (``trusted`` / ``valid_untrusted``
            / ``invalid``), which also counts ingredient failures and lowers trust for an
            untrusted ingredient or identity credential; ``None`` when the reader never ran.
        mime: the format the file was read as, sniffed from its bytes (``video/mp4``,
            ``image/jpeg``...); ``None`` for a detached manifest read on its own.
        signer_trusted: the file's own claim signer is on the trust list. With ``state``
            ``valid_untrusted`` this means only an ingredient's signer or an identity credential
            (CAWG) is untrusted: c2pa-rs then does not call the whole trusted, and neither do we.
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
    failure: FailureKind | None = None
    findings: tuple[ProvenanceFinding, ...] = ()
    validator_state: ProvenanceState | None = None
    mime: str | None = None
    signer_trusted: bool = False

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


def _merge(*groups: Iterable[ValidationCode]) -> list[ValidationCode]:
    """Concatenate code lists, dropping repeats of the same (code, kind)."""
    seen: set[tuple[str, str]] = set()
    out: list[ValidationCode] = []
    for code in (c for group in groups for c in group):
        if (code.code, code.kind) not in seen:
            seen.add((code.code, code.kind))
            out.append(code)
    return out


@dataclass(frozen=True)
class _Store:
    """The parts of the reader's JSON the ingredient tree is built from."""

    manifests: Mapping[str, Any]
    cr_by_label: Mapping[str, Any]
    deltas: Mapping[tuple[str, str], list[ValidationCode]]  # (manifest, ingredient label)
    scoped: Sequence[ValidationCode]  # active-manifest codes that name an ingredient's manifest


def _ingredient_tree(
    manifest: Mapping[str, Any], manifest_label: str, store: _Store, depth: int
) -> tuple[IngredientReport, ...]:
    if depth > _MAX_INGREDIENT_DEPTH:
        return ()
    out: list[IngredientReport] = []
    for ing in manifest.get("ingredients") or ():
        label = ing.get("active_manifest")
        child = store.manifests.get(label) if label else None
        recorded = (ing.get("validation_results") or {}).get("activeManifest")
        codes = _merge(
            codes_from(recorded) or codes_from_status_list(ing.get("validation_status")),
            store.deltas.get((manifest_label, str(ing.get("label", ""))), []),
            [c for c in store.scoped if label and manifest_label_of(c.url) == label],
        )
        children = _ingredient_tree(child, label, store, depth + 1) if child else ()
        failures = [c for c in codes if c.kind == "failure"]
        findings = findings_for(failures) + _ingredient_findings(children)
        out.append(
            IngredientReport(
                title=ing.get("title"),
                relationship=ing.get("relationship"),
                format=ing.get("format"),
                state=decide_state(codes, has_manifest=child is not None),
                codes=tuple(codes),
                manifest_label=label,
                signer=signer_from(child, store.cr_by_label.get(label or "")) if child else None,
                actions=actions_from(child) if child else (),
                ingredients=children,
                failure=leading_failure(findings),
                findings=findings,
            )
        )
    return tuple(out)


def _ingredient_findings(ingredients: Iterable[IngredientReport]) -> tuple[ProvenanceFinding, ...]:
    """One ``ingredient_problem`` finding per failed ingredient (seen from its parent)."""
    out: list[ProvenanceFinding] = []
    for ing in ingredients:
        if ing.state != "invalid" and ing.failure is None:
            continue
        codes = tuple(dict.fromkeys(code for f in ing.findings for code in f.codes))
        first = next((c for c in ing.codes if c.kind == "failure" and c.code in codes), None)
        detail = first.sentence if first is not None else "it fails validation."
        out.append(
            ProvenanceFinding(
                kind="ingredient_problem",
                codes=codes,
                sentence=f"Ingredient {ing.title!r} (a source this file was made from) fails "
                f"validation; the file's own credentials are judged separately. {detail}",
                ingredient=ing.title,
            )
        )
    return tuple(out)


def walk_ingredients(ingredients: Iterable[IngredientReport]) -> Iterable[IngredientReport]:
    """Every ingredient of a tree, depth first."""
    for ing in ingredients:
        yield ing
        yield from walk_ingredients(ing.ingredients)


def _deltas(
    validation: Mapping[str, Any], active_label: str
) -> dict[tuple[str, str], list[ValidationCode]]:
    """Ingredient validation changes detected now, keyed by (manifest, ingredient label)."""
    out: dict[tuple[str, str], list[ValidationCode]] = {}
    for delta in validation.get("ingredientDeltas") or ():
        uri = str(delta.get("ingredientAssertionURI", ""))
        key = (manifest_label_of(uri) or active_label, uri.rsplit("/", 1)[-1])
        out.setdefault(key, []).extend(codes_from(delta.get("validationDeltas")))
    return out


def _summary(
    state: ProvenanceState,
    signer: SignerIdentity | None,
    findings: tuple[ProvenanceFinding, ...],
    signer_trusted: bool = False,
) -> str:
    who = (signer.common_name or signer.subject) if signer else "an unknown signer"
    own = next((f for f in findings if f.kind != "ingredient_problem"), None)
    ingredient = next((f for f in findings if f.kind == "ingredient_problem"), None)
    if state == "invalid" and own is not None:
        text = own.sentence  # the kind in plain words, then what the first code says
    elif state == "invalid":
        text = "Content credentials are present but fail validation."
    elif state == "trusted":
        text = f"Content credentials are intact and signed by {who}, a signer you trust."
    elif signer_trusted:
        text = f"Content credentials are intact and signed by {who}, a signer you trust, but "
        text += "not every credential in them is trusted (an ingredient's signer or an identity "
        text += "credential is not on your trust list)."
    else:
        text = f"Content credentials are intact, but the signer ({who}) is not on your trust list."
    if ingredient is not None:
        text += f" {ingredient.sentence}"
    return text


def report_from_reader_json(
    path: str,
    data: Mapping[str, Any],
    cr_manifests: Iterable[Mapping[str, Any]],
    trust: TrustConfig,
    *,
    mime: str | None = None,
    overrides: Mapping[str, FailureKind] | None = None,
    extra_failures: Sequence[str] = (),
) -> ProvenanceReport:
    """Turn c2pa ``Reader.json()`` (and ``crjson()`` manifests) into a :class:`ProvenanceReport`.

    Args:
        path: the file, as reported.
        data: ``Reader.json()`` parsed.
        cr_manifests: ``crjson()['manifests']`` (certificate details; may be empty).
        trust: the policy the reader ran under.
        mime: the format the file was read as.
        overrides: per-code failure kinds for this file (see ``validation.findings_for``).
        extra_failures: ReelProof failure codes to add to the active manifest's.
    """
    manifests: Mapping[str, Any] = data.get("manifests") or {}
    label = data.get("active_manifest")
    manifest: Mapping[str, Any] = manifests.get(label, {}) if label else {}
    cr_by_label = {str(m.get("label")): m for m in cr_manifests}
    validation = data.get("validation_results") or {}
    codes = codes_from(validation.get("activeManifest"))
    if not codes and data.get("validation_status"):
        codes = codes_from_status_list(data.get("validation_status"))
    codes = [_own_code(c, "failure") for c in extra_failures] + codes
    scoped = [c for c in codes if c.kind == "failure" and is_ingredient_scoped(c, label)]
    store = _Store(manifests, cr_by_label, _deltas(validation, str(label)), scoped)
    ingredients = _ingredient_tree(manifest, str(label), store, 0)
    state = decide_state(codes, has_manifest=True, active_label=label)
    signer_trusted = state == "trusted"
    validator_state = _VALIDATOR_STATES.get(str(data.get("validation_state")))
    if state == "trusted" and validator_state == "valid_untrusted":
        # As c2pa-rs: an untrusted ingredient signer or identity credential keeps the whole
        # from "trusted", though the file's own signer is trusted (``signer_trusted`` says so).
        state = "valid_untrusted"
    findings = findings_for(counted_failures(codes, label), overrides=overrides)
    findings += _ingredient_findings(ingredients)
    # Ingredient-scoped failures with no ingredient to carry them still count as a problem.
    claimed = {c.code for i in walk_ingredients(ingredients) for c in i.codes}
    orphans = [c for c in scoped if c.code not in claimed]
    findings += tuple(
        ProvenanceFinding(f.kind, f.codes, f.sentence, "unknown ingredient")
        for f in findings_for(orphans)
    )
    if validator_state == "invalid" and not findings:
        # Never report valid over a validator's "invalid" that no code explains.
        codes.insert(0, _own_code("reelproof.validator.invalid", "failure"))
        findings = findings_for(codes[:1])
        state = "invalid"
    signer = signer_from(manifest, cr_by_label.get(str(label)))
    signing_time = (manifest.get("signature_info") or {}).get("time")
    timestamp_trusted = bool(signing_time) and any(
        c.code == "timeStamp.trusted" and c.kind == "success" for c in codes
    )
    actions = actions_from(manifest)
    soft = soft_bindings_from(manifest, trust)
    extra: list[ValidationCode] = []
    if not timestamp_trusted:
        extra.append(_own_code("reelproof.timestamp.absent"))
    if any(not s.recognised for s in soft):
        extra.append(_own_code("reelproof.softBinding.algNotAllowed"))
    if any(i.state == "invalid" for i in walk_ingredients(ingredients)):
        extra.append(_own_code("reelproof.ingredient.failed"))
    first_success = next((i for i, c in enumerate(codes) if c.kind == "success"), len(codes))
    all_codes = tuple(codes[:first_success] + extra + codes[first_success:])
    generator_info = manifest.get("claim_generator_info") or []
    claim_generator = (
        agent_text(generator_info[0]) if generator_info else manifest.get("claim_generator")
    )
    return ProvenanceReport(
        path=path,
        state=state,
        summary=_summary(state, signer, findings, signer_trusted),
        codes=all_codes,
        signer=signer,
        signing_time=signing_time,
        timestamp_trusted=timestamp_trusted,
        actions=actions,
        digital_source_type=next(
            (a.digital_source_type for a in actions if a.digital_source_type), None
        ),
        generator=generator_from(manifest),
        soft_bindings=soft,
        ingredients=ingredients,
        manifest_label=label,
        title=manifest.get("title"),
        claim_generator=claim_generator,
        anchors_configured=trust.anchors_pem is not None,
        failure=leading_failure(findings),
        findings=findings,
        validator_state=validator_state,
        mime=mime,
        signer_trusted=signer_trusted,
    )


def _absent(
    path: str,
    code: str,
    trust: TrustConfig,
    explanation: str | None = None,
    mime: str | None = None,
) -> ProvenanceReport:
    codes = (_own_code(code, "informational", explanation),)
    return ProvenanceReport(
        path=path, state="absent", summary=codes[0].sentence, codes=codes,
        anchors_configured=trust.anchors_pem is not None, mime=mime,
    )  # fmt: skip


def _unreadable(
    path: str, err: Exception, trust: TrustConfig, mime: str | None = None
) -> ProvenanceReport:
    codes = (_own_code("reelproof.manifest.unreadable", "failure", str(err)),)
    findings = findings_for(codes)
    return ProvenanceReport(
        path=path, state="invalid", summary=f"Content credentials are present but unreadable: {err}",
        codes=codes, anchors_configured=trust.anchors_pem is not None,
        failure=leading_failure(findings), findings=findings, mime=mime,
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
    source: BinaryIO,
    mime: str,
    trust: TrustConfig,
    manifest_bytes: bytes | None = None,
    fragments: Sequence[BinaryIO] = (),
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """Run the c2pa Reader under ``trust``; ``None`` when there is no manifest.

    Args:
        fragments: media fragments (``.m4s``) of a fragmented MP4 whose init segment is
            ``source``; each is hashed against the init segment's manifest.

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
            for fragment in fragments:
                source.seek(0)
                reader.with_fragment(mime, source, fragment)
            data = json.loads(reader.json())
            try:
                cr = json.loads(reader.crjson()).get("manifests") or []
            except (c2pa.C2paError, ValueError):
                cr = []  # crjson only adds certificate details; the report stands without them
    return data, cr


def verify(
    path: Path | str,
    trust: TrustConfig | None = None,
    fragments: Sequence[Path | str] = (),
) -> ProvenanceReport:
    """Verify the C2PA credentials embedded in ``path`` under ``trust`` (default: no anchors).

    Reads video (MP4, MOV, M4V, AVI) and stills (JPEG, PNG, WebP, HEIC/HEIF, AVIF), sniffed from
    the bytes. Unsupported containers (WebM, Matroska) give an ``absent`` report; corrupt
    manifests and malformed boxes in a file that carries C2PA data give an ``invalid`` report
    with ``reelproof.manifest.unreadable``; a damaged file whose manifest still reads (a
    truncated MP4) is judged from its credentials (``assertion.bmffHash.mismatch``).

    Args:
        path: the file (for fragmented MP4: the init segment).
        trust: the trust policy.
        fragments: the media fragments of a fragmented MP4, checked with its init segment.

    Raises:
        InputError: the file is missing or not a regular file. MediaDecodeError: empty, or not
            a parseable container and no C2PA data in it. UnsupportedMediaError: not a video or
            still format ReelProof reads. LimitExceededError: over the size limit, or too many
            boxes or segments.
    """
    policy = trust or TrustConfig()
    # A regular file within the size limit (a FIFO would block the read forever), and a bounded
    # number of boxes (the reader's work grows faster than their count).
    file = resolve_input_path(path, DEFAULT_LIMITS)
    check_structure(file)
    fragments = [resolve_input_path(f, DEFAULT_LIMITS) for f in fragments]
    try:
        mime = sniff_mime(file)
    except UnsupportedMediaError as err:
        if "WebM/Matroska" in err.message:
            return _absent(str(file), "reelproof.container.unsupported", policy, err.message)
        raise
    try:
        with ExitStack() as stack:
            handle = stack.enter_context(file.open("rb"))
            parts = [stack.enter_context(Path(f).open("rb")) for f in fragments]
            read = read_manifest_store(handle, mime, policy, fragments=parts)
    except c2pa.C2paError as err:
        if _has_c2pa_marker(file):
            return _unreadable(str(file), err, policy, mime)
        raise MediaDecodeError(
            f"{file.name}: the file could not be parsed ({err})",
            hint="the file is truncated or corrupt; re-export it",
        ) from err
    except FileNotFoundError as err:
        raise InputError(f"fragment {err.filename} does not exist", hint="check the path") from err
    if read is None:
        return _absent(str(file), "reelproof.manifest.absent", policy, mime=mime)
    data, cr = read
    overrides: dict[str, FailureKind] = {}
    extra: list[str] = []
    if not fragments and is_fragment_init_segment(file):
        # The hash covers fragments this file does not hold: a mismatch shows nothing altered.
        overrides["assertion.bmffHash.mismatch"] = "credentials_unreliable"
        extra.append("reelproof.bmff.fragmentsMissing")
    return report_from_reader_json(
        str(file), data, cr, policy, mime=mime, overrides=overrides,
        extra_failures=extra if _has_code(data, "assertion.bmffHash.mismatch") else (),
    )  # fmt: skip


def _has_code(data: Mapping[str, Any], code: str) -> bool:
    active = (data.get("validation_results") or {}).get("activeManifest") or {}
    return any(item.get("code") == code for item in active.get("failure") or ())


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
    file = Path(path)
    mime: str | None = None
    try:
        mime = sniff_mime(file)
        with file.open("rb") as handle:
            read = read_manifest_store(handle, mime, policy, manifest_bytes)
    except (c2pa.C2paError, ReelProofError):
        mime = None
        try:
            read = read_manifest_store(io.BytesIO(manifest_bytes), "application/c2pa", policy)
        except c2pa.C2paError as err:
            return _unreadable(str(file), err, policy)
    if read is None:
        return _absent(str(file), "reelproof.manifest.absent", policy, mime=mime)
    data, cr = read
    return report_from_reader_json(str(file), data, cr, policy, mime=mime)
