"""``reelproof verify CLIP``: credentials, watermark and classifier fused into one verdict."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(verify_command)


def verify_command(
    clip: Path = typer.Argument(..., help="Video file to verify."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report to this file."
    ),
    no_provenance: bool = typer.Option(False, "--no-provenance", help="Skip C2PA credentials."),
    no_watermark: bool = typer.Option(False, "--no-watermark", help="Skip the watermark check."),
    no_detector: bool = typer.Option(False, "--no-detector", help="Skip the classifier."),
    trust: Path | None = typer.Option(
        None, "--trust", help="PEM file of trusted root certificates (default: local dev PKI)."
    ),
    store: Path | None = typer.Option(
        None, "--store", help="Manifest store (default: $REELPROOF_HOME/manifests.sqlite)."
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
        trust_anchors=trust,
        manifest_store=store,
        detector_model=model,
    )
    verdict = verify_clip(clip, options)
    body = verdict.to_dict()
    if html is not None:
        from reelproof.service.pipeline import Verifier
        from reelproof.service.report import render_html
        from reelproof.service.thumbnails import make_thumbnails

        thumbs = make_thumbnails(clip, thumbnails, Verifier(options).limits()) if thumbnails else []
        html.write_text(render_html(body, thumbs), encoding="utf-8")
        body["html_report"] = str(html)
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(body)
        return
    _print_summary(body)


def _print_summary(body: dict[str, object]) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    from reelproof.service.report import TONE
    from reelproof.service.verdict import PLAIN_WORDS, VerdictLabel

    label = str(body["verdict"])
    colour = {"good": "green", "ai": "magenta", "warn": "yellow", "bad": "red"}.get(
        TONE.get(label, ""), "white"
    )
    console = Console()
    console.print(
        Panel(
            f"[bold]{PLAIN_WORDS[VerdictLabel(label)]}[/bold]\n{body['summary']}",
            title=f"{body['filename']}",
            border_style=colour,
        )
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("signal")
    table.add_column("finding")
    table.add_column("detail")
    evidence = body["evidence"]
    assert isinstance(evidence, list)
    for item in evidence:
        table.add_row(str(item["signal"]), str(item["code"]), str(item["message"]))
    console.print(table)
    timings = body.get("timings")
    total = body.get("total_seconds")
    assert isinstance(timings, dict)
    stages = ", ".join(f"{k} {float(v):.2f}s" for k, v in timings.items())
    console.print(f"[dim]sha256 {body['sha256']}  ·  {total:.2f} s ({stages})[/dim]")
    if body.get("html_report"):
        console.print(f"report written to {body['html_report']}")
