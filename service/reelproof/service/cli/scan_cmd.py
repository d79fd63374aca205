"""``reelproof scan PATH...``: verify an archive into a JSONL file and an HTML index."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

import typer


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(scan_command)


def scan_command(
    paths: list[Path] = typer.Argument(..., help="Clips and folders to scan."),
    out: Path = typer.Option(..., "--out", help="JSONL results (appended; reruns resume it)."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    html_index: Path | None = typer.Option(
        None, "--html-index", help="Also write an index page with thumbnails and reports."
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Local processes (default: one per CPU core)."
    ),
    local: bool = typer.Option(
        False, "--local", help="Use the local pool even when REELPROOF_BROKER_URL is set."
    ),
    no_watermark: bool = typer.Option(False, "--no-watermark", help="Skip the watermark check."),
    no_detector: bool = typer.Option(False, "--no-detector", help="Skip the classifier."),
    trust: Path | None = typer.Option(None, "--trust", help="PEM file of trusted roots."),
    store: str | None = typer.Option(
        None, "--store", help="Manifest store: SQLite file or database URL."
    ),
    model: Path | None = typer.Option(None, "--model", help="Classifier folder."),
    thumbnails: int = typer.Option(
        4, "--thumbnails", min=0, max=32, help="Frames per report (with --html-index)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Verify every clip under PATHs with a progress bar; bad files get an error row.

    Clips whose SHA-256 is already in --out are skipped, so an interrupted scan resumes. The
    work runs on a local process pool, or on the Celery workers when REELPROOF_BROKER_URL is set
    (the clips' paths must then be readable by the workers).
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from reelproof.service.api.settings import ServiceSettings
    from reelproof.service.cli.output import plain
    from reelproof.service.pipeline import VerifyOptions
    from reelproof.service.scan import ScanBackend, find_clips, run_scan
    from reelproof.service.scan_backends import CeleryScan, LocalPool

    clips = find_clips(paths, recursive)
    settings = ServiceSettings()
    backend: ScanBackend
    if settings.broker_url and not local:
        backend = CeleryScan(settings)
    else:
        options = VerifyOptions(
            watermark=not no_watermark,
            detector=not no_detector,
            trust_anchors=trust,
            manifest_store=store,
            detector_model=model,
        )
        count = workers or os.cpu_count() or 1
        backend = LocalPool(options, count, thumbnails if html_index else 0)
    console = Console(stderr=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(),
    )  # fmt: skip
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            counts = run_scan(clips, out, backend, html_index, progress)
    except KeyboardInterrupt:
        console.print(
            plain(f"interrupted: the rows so far are in {out}; run the same command to resume")
        )
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    summary = {
        "clips": counts.total,
        "skipped_already_done": counts.skipped,
        "ok": counts.ok,
        "errors": counts.errors,
        "duplicates": counts.duplicates,
        "verdicts": counts.verdicts,
        "out": str(out),
        "html_index": str(html_index) if html_index else None,
    }
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(summary)
        return
    console.print(
        plain(
            f"{counts.total} clip(s): {counts.ok} verified, {counts.errors} error(s), "
            f"{counts.skipped} already done -> {out}"
            + (f", index {html_index}" if html_index else "")
        )
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
