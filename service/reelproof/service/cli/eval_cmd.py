"""``reelproof eval``: the reproducible benchmarks; each writes ``docs/benchmarks/<name>.md``.

Each package's helper adds its own subcommand to ``eval_app`` here (shared file: small edits).
"""

from __future__ import annotations

from pathlib import Path

import typer

eval_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(eval_app, name=name, help=help_text)


@eval_app.command("service")
def eval_service_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/service.md"), "--out", help="Markdown file to write."
    ),
    load_seconds: float = typer.Option(10.0, "--load-seconds", help="Length of the load test."),
    concurrency: int = typer.Option(4, "--concurrency", help="Concurrent load-test clients."),
) -> None:
    """Verification latency per stage on a 10-s 720p clip; API load and malformed-upload runs."""
    from reelproof.eval.service_bench import run_service_benchmark

    report = run_service_benchmark(out, load_seconds=load_seconds, concurrency=concurrency)
    typer.echo(f"wrote {report}")


@eval_app.command("provenance")
def eval_provenance_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/provenance.md"), "--out", help="Markdown file to write."
    ),
    size_mb: float = typer.Option(50.0, "--size-mb", help="Size of the sign/verify benchmark MP4."),
) -> None:
    """C2PA tamper suite (expected state per attack) and sign/verify time and memory."""
    from reelproof.eval.provenance_bench import run_provenance_benchmark

    report = run_provenance_benchmark(out, size_mb=size_mb)
    typer.echo(f"wrote {report}")
