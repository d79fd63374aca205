"""``reelproof provenance ...`` (verify, recover) and the top-level ``reelproof sign``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from reelproof.provenance import ProvenanceReport, TrustConfig

provenance_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    """Attach ``provenance`` (verify, recover) and the top-level ``sign`` command."""
    app.add_typer(provenance_app, name=name, help=help_text)
    app.command("sign", help="Sign a clip with C2PA content credentials.")(sign_command)


def sign_command(
    clip: Path = typer.Argument(
        ..., help="File to sign: video (MP4, MOV, M4V, AVI) or still (JPEG, PNG, WebP, HEIC, AVIF)."
    ),
    out: Path = typer.Argument(..., help="Signed file to write (atomically; may equal CLIP)."),
    cert: Path = typer.Option(
        ..., "--cert", help="PEM chain: signing certificate then intermediates."
    ),
    key: Path = typer.Option(..., "--key", help="PEM private key of the signing certificate."),
    tsa: str | None = typer.Option(None, "--tsa", help="RFC 3161 timestamp server URL."),
    watermark_id: str | None = typer.Option(
        None, "--watermark-id", help="16 hex digits carried by the clip's watermark (soft binding)."
    ),
    title: str | None = typer.Option(None, "--title", help="Asset title (default: OUT's name)."),
    store: bool = typer.Option(
        True,
        "--store/--no-store",
        help="Keep the manifest in the manifest store (needs --watermark-id).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Embed a signed C2PA manifest (c2pa.created, trainedAlgorithmicMedia, soft binding)."""
    from reelproof.provenance import (
        ManifestSpec,
        load_signer,
        open_manifest_store,
        record_signing,
        sign,
    )
    from reelproof.service.cli.output import print_json

    signer = load_signer(cert, key, tsa_url=tsa)
    if signer.is_dev:
        typer.echo(
            "warning: signing with a DEV ONLY certificate; do not publish this file", err=True
        )
    spec = ManifestSpec(title=title or out.name, watermark_id=watermark_id)
    result = sign(clip, out, spec, signer)
    stored = None
    if store and result.watermark_id is not None:
        stored = record_signing(open_manifest_store(), result)
    if as_json:
        body = result.to_dict()
        body["stored"] = stored is not None
        print_json(body)
        return
    typer.echo(f"signed {result.dst} ({result.seconds:.2f} s) as {result.signer_subject}")
    if stored is not None:
        typer.echo(f"manifest stored under watermark id {stored.watermark_id}")


def _trust(anchors: list[Path] | None, ekus: Path | None, dev: bool) -> TrustConfig:
    from reelproof.provenance import TrustConfig

    if dev:
        base = TrustConfig.dev()
        if not anchors:
            return base
        extra = TrustConfig.from_files(anchors, ekus)
        return TrustConfig(
            anchors_pem=(base.anchors_pem or "") + (extra.anchors_pem or ""),
            allowed_ekus=extra.allowed_ekus,
        )
    if not anchors and ekus is None and os.environ.get("REELPROOF_TRUST_ANCHORS"):
        anchors = [Path(os.environ["REELPROOF_TRUST_ANCHORS"])]
    return TrustConfig.from_files(anchors or None, ekus)


@provenance_app.command("verify")
def verify_command(
    clip: Path = typer.Argument(
        ..., help="File to verify: video or still (the format is read from its bytes)."
    ),
    trust: list[Path] | None = typer.Option(
        None,
        "--trust",
        help="PEM file of trust anchors (repeatable; default $REELPROOF_TRUST_ANCHORS).",
    ),
    ekus: Path | None = typer.Option(
        None, "--ekus", help="File of allowed EKU OIDs, one per line."
    ),
    dev: bool = typer.Option(False, "--trust-dev", help="Also trust the local development root."),
    fragments: list[Path] | None = typer.Option(
        None,
        "--fragment",
        help="A media fragment (.m4s) of the fragmented MP4 whose init segment is CLIP "
        "(repeatable; without them an init segment cannot hash-match).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Verify embedded C2PA credentials: trusted, valid_untrusted, invalid or absent.

    When something fails, the finding says whether the content was altered after signing, the
    credentials cannot be relied on (certificate, timestamp, unreadable manifest), or only an
    ingredient has a problem.
    """
    from reelproof.provenance import verify
    from reelproof.service.cli.output import print_json

    report = verify(clip, _trust(trust, ekus, dev), fragments=fragments or ())
    if as_json:
        print_json(report.to_dict())
        return
    _print_report(report)


@provenance_app.command("recover")
def recover_command(
    clip: Path = typer.Argument(..., help="Clip whose credentials were stripped."),
    watermark_id: str = typer.Option(..., "--watermark-id", help="Id decoded from the watermark."),
    trust: list[Path] | None = typer.Option(None, "--trust", help="PEM file of trust anchors."),
    dev: bool = typer.Option(False, "--trust-dev", help="Also trust the local development root."),
    store_path: str | None = typer.Option(
        None, "--store", help="Manifest store: SQLite file or database URL."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Look a watermark id up in the manifest store and judge the stored manifest."""
    from reelproof.provenance import open_manifest_store, recover_from_store
    from reelproof.service.cli.output import clean, print_json

    found = recover_from_store(
        clip, watermark_id, open_manifest_store(store_path), _trust(trust, None, dev)
    )
    if as_json:
        print_json(
            found.to_dict() if found is not None else {"found": False, "watermark_id": watermark_id}
        )
        return
    if found is None:
        typer.echo(f"no manifest stored under watermark id {clean(watermark_id)}")
        return
    typer.echo(clean(found.status))
    for line in found.statements:
        typer.echo(f"  - {clean(line)}")


def _print_report(report: ProvenanceReport) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from reelproof.service.cli.output import plain

    console = Console()
    colour = {"trusted": "green", "valid_untrusted": "yellow", "invalid": "red"}.get(
        report.state, "white"
    )
    console.print(Text.assemble(plain(report.state, f"bold {colour}"), "  ", plain(report.summary)))
    for finding in report.findings:
        kind = plain(finding.kind.replace("_", " "), "bold")
        detail = plain(f"{finding.sentence} ({', '.join(finding.codes)})")
        console.print(Text.assemble("  ", kind, ": ", detail))
    table = Table(show_header=False, title_justify="left")
    if report.mime:
        table.add_row("format", plain(report.mime))
    if report.signer is not None:
        dev = plain("  (DEV ONLY certificate)", "red") if report.signer.is_dev else ""
        table.add_row("signer", Text.assemble(plain(report.signer.subject), dev))
        table.add_row("issuer", plain(report.signer.issuer or "?"))
    table.add_row(
        "signing time", plain(report.signing_time or "not established (no trusted timestamp)")
    )
    if report.digital_source_type:
        table.add_row("source type", plain(report.digital_source_type.rsplit("/", 1)[-1]))
    if report.generator is not None:
        table.add_row("generator", plain(f"{report.generator.name} {report.generator.version}"))
    for action in report.actions:
        agent = f" ({action.software_agent})" if action.software_agent else ""
        table.add_row("action", plain(action.action + agent))
    for binding in report.soft_bindings:
        table.add_row("soft binding", plain(f"{binding.alg}: {binding.value}"))
    for ingredient in report.ingredients:
        found = f" ({ingredient.failure.replace('_', ' ')})" if ingredient.failure else ""
        line = f"{ingredient.relationship}: {ingredient.title} -> {ingredient.state}{found}"
        table.add_row("ingredient", plain(line))
    console.print(table)
    for code in report.codes:
        if code.kind != "success":
            style = "red" if code.kind == "failure" else "dim"
            console.print(Text.assemble("  ", plain(code.code, style), ": ", plain(code.sentence)))
