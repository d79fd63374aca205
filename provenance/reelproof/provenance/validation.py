"""How validation codes decide a manifest's state and what its failures show.

The rules follow c2pa-rs, with the scope made explicit:

- A failure invalidates the manifest it concerns, except the tolerated ones
  (``signingCredential.untrusted`` and CAWG identity codes, see ``codes.is_tolerated_failure``).
- The file's state is decided by its active manifest alone. A failure about an ingredient (an
  ``ingredient.*`` code, or a code whose URL names another manifest) is reported on that
  ingredient, which gets its own state, and as an ``ingredient_problem`` finding on the file.
  (c2pa-rs's ``validation_state`` also turns ``Invalid`` for ingredient failures and stays
  ``Valid`` when only an ingredient's signer is untrusted; ``ProvenanceReport.validator_state``
  keeps its reading.)
- ``trusted`` needs ``signingCredential.trusted`` for the active manifest's own signer and no
  ``signingCredential.untrusted`` there; an untrusted CAWG identity or ingredient signer does not
  lower it.
- Each kept failure is sorted by ``codes.FAILURE_KIND`` into content altered / credentials
  unreliable / ingredient problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from reelproof.provenance.codes import (
    FAILURE_KIND_SENTENCES,
    FAILURE_KINDS,
    FailureKind,
    failure_kind,
    is_tolerated_failure,
)

ProvenanceState = Literal["trusted", "valid_untrusted", "invalid", "absent"]
"""The four states of a file's (or an ingredient's) credentials; see ``reelproof.provenance.verify``."""

_JUMBF_PREFIX = "self#jumbf=/c2pa/"


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
class ProvenanceFinding:
    """What a group of failures shows, in plain words, with the codes behind it.

    Attributes:
        kind: ``content_altered``, ``credentials_unreliable`` or ``ingredient_problem``
            (see ``reelproof.provenance.codes.FailureKind``).
        codes: the failure codes behind it, in validator order.
        sentence: one plain-words sentence: the kind's meaning, then the first code's.
        ingredient: title of the ingredient it concerns (``None``: the file's own manifest).
    """

    kind: FailureKind
    codes: tuple[str, ...]
    sentence: str
    ingredient: str | None = None


def manifest_label_of(url: str | None) -> str | None:
    """The manifest label a status URL names, or ``None`` when it names none.

    ``self#jumbf=/c2pa/<label>/c2pa.assertions/...`` names ``<label>``; c2pa-rs also reports
    some ingredient failures with the bare label of the ingredient's manifest as URL.
    """
    if not url:
        return None
    if url.startswith(_JUMBF_PREFIX):
        return url[len(_JUMBF_PREFIX) :].split("/", 1)[0] or None
    if "urn:" in url and "/" not in url and "#" not in url:
        return url
    return None


def is_ingredient_scoped(code: ValidationCode, active_label: str | None) -> bool:
    """Whether a code reported under the active manifest is really about an ingredient.

    ``active_label`` ``None`` means the codes are an ingredient's own: nothing is scoped away.
    """
    if active_label is None:
        return False
    if code.code.startswith("ingredient."):
        return True
    label = manifest_label_of(code.url)
    return label is not None and label != active_label


def counted_failures(
    codes: Iterable[ValidationCode], active_label: str | None = None
) -> list[ValidationCode]:
    """Failures that count against the manifest: not tolerated, not about an ingredient."""
    return [
        c
        for c in codes
        if c.kind == "failure"
        and not is_tolerated_failure(c.code)
        and not is_ingredient_scoped(c, active_label)
    ]


def decide_state(
    codes: Iterable[ValidationCode], *, has_manifest: bool, active_label: str | None = None
) -> ProvenanceState:
    """``trusted`` / ``valid_untrusted`` / ``invalid`` / ``absent`` from one manifest's codes.

    Args:
        codes: the manifest's codes (success, informational and failure).
        has_manifest: the asset carries a manifest (an ingredient may carry none).
        active_label: the manifest's label; codes naming another manifest are not its own.
    """
    own = [c for c in codes if not is_ingredient_scoped(c, active_label)]
    if counted_failures(own):
        return "invalid"
    if not has_manifest:
        return "absent"
    untrusted = any(c.code == "signingCredential.untrusted" and c.kind == "failure" for c in own)
    trusted = any(c.code == "signingCredential.trusted" and c.kind == "success" for c in own)
    return "trusted" if trusted and not untrusted else "valid_untrusted"


def findings_for(
    failures: Iterable[ValidationCode],
    *,
    ingredient: str | None = None,
    overrides: Mapping[str, FailureKind] | None = None,
) -> tuple[ProvenanceFinding, ...]:
    """Group failures by what they show, most serious kind first (tolerated codes dropped).

    Args:
        failures: failure codes, in validator order.
        ingredient: title of the ingredient they concern, if any.
        overrides: per-code kinds that replace the table's for this file (a fragmented init
            segment's hash mismatch is not evidence of alteration).
    """
    grouped: dict[FailureKind, list[ValidationCode]] = {}
    for code in failures:
        kind = (overrides or {}).get(code.code) or failure_kind(code.code)
        if kind is None or code.kind != "failure":
            continue
        bucket = grouped.setdefault(kind, [])
        if all(c.code != code.code for c in bucket):
            bucket.append(code)
    out: list[ProvenanceFinding] = []
    for kind in FAILURE_KINDS:
        if kind not in grouped:
            continue
        first = grouped[kind][0]
        where = f"Ingredient {ingredient!r}: " if ingredient else ""
        out.append(
            ProvenanceFinding(
                kind=kind,
                codes=tuple(c.code for c in grouped[kind]),
                sentence=f"{where}{FAILURE_KIND_SENTENCES[kind]} {first.sentence}",
                ingredient=ingredient,
            )
        )
    return tuple(out)


def leading_failure(findings: Iterable[ProvenanceFinding]) -> FailureKind | None:
    """The most serious kind among ``findings`` (``None`` when there are none)."""
    kinds = {f.kind for f in findings}
    return next((k for k in FAILURE_KINDS if k in kinds), None)
