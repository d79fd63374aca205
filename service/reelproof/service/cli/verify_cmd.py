"""``reelproof verify CLIP``: credentials, watermark and classifier fused into one verdict (videos
and still images)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from reelproof.service.pipeline import VerifyOptions
    from reelproof.service.verdict import Verdict


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(verify_command)


def verify_command(
    clip: Path = typer.Argument(..., help="Video or still image (JPEG, PNG, WebP, HEIC, AVIF)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report to this file."
    ),
    no_provenance: bool = typer.Option(False, "--no-provenance", help="Skip C2PA credentials."),
    no_watermark: bool = typer.Option(False, "--no-watermark", help="Skip the watermark check."),
    no_detector: bool = typer.Option(False, "--no-detector", help="Skip the classifier."),
    no_faces: bool = typer.Option(
        False, "--no-faces", help="Skip the classifier's face mode (finding and scoring faces)."
    ),
    trust: Path | None = typer.Option(
        None, "--trust", help="PEM file of trusted root certificates (default: local dev PKI)."
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        help="Manifest store: SQLite file or database URL (default: REELPROOF_MANIFEST_STORE, "
        "else $REELPROOF_HOME/manifests.sqlite).",
    ),
    model: Path | None = typer.Option(None, "--model", help="Classifier folder."),
    thumbnails: int = typer.Option(8, "--thumbnails", min=0, max=32, help="Frames in the report."),
) -> None:
    """Verify CLIP and print the verdict with its evidence."""
    from reelproof.service.pipeline import VerifyOptions, verify_clip

    options = VerifyOptions(
        provenance=not no_provenance,
        watermark=not no_watermark,
        detector=not no_detector,
        faces=not no_faces,
        trust_anchors=trust,
        manifest_store=store,
        detector_model=model,
    )
    verdict = verify_clip(clip, options)
    report_path: Path | None = None
    if html is not None:
        write_report(verdict, clip, html, thumbnails, options)
        report_path = html
    if as_json:
        from reelproof.service.cli.output import print_json

        body: dict[str, object] = {**verdict.to_dict()}
        if report_path is not None:
            body["html_report"] = str(report_path)
        print_json(body)
        return
    _print_summary(verdict, report_path)


def write_report(
    verdict: Verdict, clip: Path, html: Path, thumbnails: int, options: VerifyOptions
) -> None:
    """Write the self-contained HTML report of ``verdict`` with ``thumbnails`` frames of ``clip``."""
    from reelproof.service.report import render_html
    from reelproof.service.resources import Resources
    from reelproof.service.thumbnails import make_thumbnails

    limits = Resources(options).limits
    thumbs = make_thumbnails(clip, thumbnails, limits) if thumbnails else []
    html.write_text(render_html(verdict.to_dict(), thumbs), encoding="utf-8")


def _print_summary(verdict: Verdict, report_path: Path | None) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from reelproof.service.cli.output import plain
    from reelproof.service.report import TONE
    from reelproof.service.verdict import PLAIN_WORDS

    colour = {"good": "green", "ai": "magenta", "warn": "yellow", "bad": "red"}.get(
        TONE.get(verdict.verdict.value, ""), "white"
    )
    console = Console()
    headline = Text.assemble(
        plain(PLAIN_WORDS[verdict.verdict], "bold"), "\n", plain(verdict.summary)
    )
    console.print(Panel(headline, title=plain(verdict.filename), border_style=colour))
    table = Table(show_header=True, header_style="bold")
    table.add_column("signal")
    table.add_column("finding")
    table.add_column("detail")
    for item in verdict.evidence:
        table.add_row(item.signal, item.code, plain(item.message))
    console.print(table)
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in verdict.timings.items())
    console.print(
        plain(f"sha256 {verdict.sha256}  ·  {verdict.total_seconds:.2f} s ({stages})", "dim")
    )
    if report_path is not None:
        console.print(plain(f"report written to {report_path}"))
