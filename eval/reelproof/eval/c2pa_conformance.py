"""Conformance on other implementations' files: ReelProof's reading beside c2pa's own.

The fixtures are c2pa-rs's test files (cameras, Adobe tools, other SDKs; some broken on purpose;
``../shared/c2pa-fixtures``). For each, the reference is what a stock ``c2pa.Reader`` reports
with the same trust anchors (its ``validation_state`` and active-manifest failure codes), and
ours is ``reelproof.provenance.verify``. Where the two states differ, a ReelProof rule says why
(``Row.rule``); ``tests/provenance/test_conformance.py`` asserts the rules.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from reelproof.core.errors import ReelProofError
from reelproof.provenance import TrustConfig, verify
from reelproof.provenance.media import sniff_mime

ANCHORS = Path("trust") / "test_cert_root_bundle.pem"
_REFERENCE_STATES = {"Trusted": "trusted", "Valid": "valid_untrusted", "Invalid": "invalid"}


@dataclass(frozen=True)
class ReferenceReading:
    """What a stock ``c2pa.Reader`` says (the same anchors, offline).

    Attributes:
        state: ``trusted`` / ``valid_untrusted`` / ``invalid``; ``absent`` when it finds no
            manifest; ``None`` when it cannot read the file (``error`` says why).
        failures: the active manifest's failure codes.
        error: the reader's error when it could not read the file.
    """

    state: str | None
    failures: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Row:
    """One fixture: the reference reading and ours.

    Attributes:
        file: path relative to the fixture folder (``a + b`` for an init segment + fragment).
        reference: the stock reader's reading.
        state: ReelProof's state, or ``refused`` (a ``ReelProofError``, CLI exit 3).
        failure: ReelProof's leading finding.
        codes: the codes behind ReelProof's findings (or the refusal message).
        rule: why the states differ (empty when they agree).
        seconds: ReelProof's wall time.
    """

    file: str
    reference: ReferenceReading
    state: str
    failure: str | None
    codes: tuple[str, ...]
    rule: str
    seconds: float


def find_fixtures(start: Path | None = None) -> Path | None:
    """The fixture folder: ``$REELPROOF_C2PA_FIXTURES``, else ``shared/`` beside the checkout."""
    if os.environ.get("REELPROOF_C2PA_FIXTURES"):
        return Path(os.environ["REELPROOF_C2PA_FIXTURES"])
    here = (start or Path.cwd()).resolve()
    for parent in (here, *here.parents):
        folder = parent / "shared" / "c2pa-fixtures"
        if (folder / ANCHORS).is_file():
            return folder
    return None


def reference_reading(
    path: Path, anchors_pem: str, fragments: tuple[Path, ...] = ()
) -> ReferenceReading:
    """Read ``path`` with a stock ``c2pa.Reader`` and only ``anchors_pem`` configured."""
    import c2pa

    settings = {
        "version": 1,
        "trust": {"user_anchors": anchors_pem},
        "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False},
    }
    try:
        mime = sniff_mime(path)
    except ReelProofError:
        mime = "video/mp4"  # let the reference try where ReelProof's sniffer refuses
    try:
        with c2pa.Context.from_dict(settings) as context, path.open("rb") as handle:
            reader = c2pa.Reader.try_create(mime, handle, None, context)
            if reader is None:
                return ReferenceReading("absent", ())
            with reader:
                for fragment in fragments:
                    handle.seek(0)
                    with fragment.open("rb") as part:
                        reader.with_fragment(mime, handle, part)
                data = json.loads(reader.json())
    except c2pa.C2paError as err:
        return ReferenceReading(None, (), str(err))
    active = (data.get("validation_results") or {}).get("activeManifest") or {}
    return ReferenceReading(
        state=_REFERENCE_STATES.get(str(data.get("validation_state"))),
        failures=tuple(str(c.get("code")) for c in active.get("failure") or ()),
    )


def _rule(reference: ReferenceReading, state: str, failure: str | None) -> str:
    if reference.state == state:
        return ""
    if reference.state is None:
        if state == "refused":
            return "the reference cannot parse it either: a clean refusal (exit 3)"
        return "the reference cannot read the manifest: ReelProof reports it unreadable"
    if reference.state == "invalid" and failure == "ingredient_problem":
        return "only an ingredient failed: reported on the ingredient"
    return "UNEXPLAINED"


def conformance_rows(folder: Path) -> list[Row]:
    """ReelProof's reading beside the reference's for every fixture under ``folder``."""
    anchors_pem = (folder / ANCHORS).read_text()
    trust = TrustConfig(anchors_pem=anchors_pem)
    cases: list[tuple[str, Path, tuple[Path, ...]]] = [
        (str(p.relative_to(folder)), p, ())
        for kind in ("video", "stills")
        for p in sorted((folder / kind).iterdir())
        if p.is_file()
    ]
    init, fragment = folder / "video" / "dashinit.mp4", folder / "video" / "dash1.m4s"
    if init.is_file() and fragment.is_file():
        cases.append(("video/dashinit.mp4 + dash1.m4s", init, (fragment,)))
    rows = []
    for name, path, fragments in cases:
        reference = reference_reading(path, anchors_pem, fragments)
        started = time.perf_counter()
        state: str
        failure: str | None
        try:
            report = verify(path, trust, fragments=fragments)
            state, failure = report.state, report.failure
            codes = tuple(code for f in report.findings for code in f.codes)
        except ReelProofError as err:
            state, failure, codes = "refused", None, (err.message,)
        rows.append(
            Row(
                file=name,
                reference=reference,
                state=state,
                failure=failure,
                codes=codes,
                rule=_rule(reference, state, failure),
                seconds=time.perf_counter() - started,
            )
        )
    return rows


def conformance_table(rows: list[Row]) -> list[str]:
    """Markdown lines: file, reference state and failures, ours, finding, why they differ."""
    lines = [
        "| file | reference state (c2pa.Reader) | reference failures | ReelProof | finding | "
        "codes behind it | why different |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        reference = row.reference.state or f"cannot read: {row.reference.error}"
        failures = ", ".join(f"`{c}`" for c in row.reference.failures) or "-"
        codes = ", ".join(f"`{c}`" if row.state != "refused" else c for c in row.codes) or "-"
        lines.append(
            f"| `{row.file}` | {reference} | {failures} | **{row.state}** | "
            f"{row.failure or '-'} | {codes} | {row.rule or '-'} |"
        )
    return lines


DOC_START = "<!-- conformance table: written by `reelproof eval provenance` -->"
DOC_END = "<!-- end of conformance table -->"


def conformance_section(rows: list[Row], folder_text: str) -> list[str]:
    """The conformance table with the sentence that says where it comes from."""
    agree = sum(not row.rule for row in rows)
    slowest = max((row.seconds for row in rows), default=0.0)
    return [
        f"Files: {folder_text} (c2pa-rs's test fixtures, MIT/Apache-2.0, (c) Adobe), with "
        "`trust/test_cert_root_bundle.pem` as the only trust anchors for both readers. "
        f"**{agree}/{len(rows)} states agree with the reference**; every difference is one of "
        "ReelProof's stated rules (last column), none unexplained. The slowest file took "
        f"{slowest * 1000:.0f} ms.",
        "",
        *conformance_table(rows),
    ]


def write_doc_section(doc: Path, lines: list[str]) -> bool:
    """Replace the lines between ``DOC_START`` and ``DOC_END`` in ``doc``; ``False`` if absent."""
    if not doc.is_file():
        return False
    text = doc.read_text()
    if DOC_START not in text or DOC_END not in text:
        return False
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(head + DOC_START + "\n" + "\n".join(lines) + "\n" + DOC_END + tail)
    return True
