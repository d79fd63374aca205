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
    distributed: bool = typer.Option(
        False,
        "--distributed",
        help="Instead: PostgreSQL + Redis + 1 and 2 `reelproof worker` processes (needs the "
        "redis-server and postgresql packages); replaces only that section of --out.",
    ),
    jobs: int = typer.Option(8, "--jobs", min=1, help="Full analyses per worker (--distributed)."),
) -> None:
    """Verification latency per stage on a 10-s 720p clip; API load and malformed-upload runs."""
    if distributed:
        from reelproof.eval.service_dist_bench import run_distributed_benchmark

        report = run_distributed_benchmark(
            out, jobs=jobs, load_seconds=load_seconds, concurrency=concurrency
        )
        typer.echo(f"wrote {report}")
        return
    from reelproof.eval.service_bench import run_service_benchmark

    report = run_service_benchmark(out, load_seconds=load_seconds, concurrency=concurrency)
    typer.echo(f"wrote {report}")


@eval_app.command("hostile")
def eval_hostile_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/hostile.md"), "--out", help="Markdown file to write."
    ),
    video: Path = typer.Option(
        Path("data/video/bikes.mp4"), "--video", help="Real clip the corpus is made from."
    ),
    fixtures: Path | None = typer.Option(
        None, "--fixtures", help="C2PA fixtures folder (default: ../shared/c2pa-fixtures if any)."
    ),
    quick: bool = typer.Option(False, "--quick", help="Every eighth case only (a smoke run)."),
) -> None:
    """Hostile files through every command and hostile requests through the API."""
    from reelproof.eval.hostile_bench import run_hostile

    if fixtures is None:
        shared = Path("../shared/c2pa-fixtures")
        fixtures = shared if shared.is_dir() else None
    rows = run_hostile(out, video, fixtures, quick=quick)
    failed = sum(not r.passed for r in rows)
    typer.echo(f"{len(rows)} rows, {failed} not as expected; wrote {out}")
    if failed:
        raise typer.Exit(1)


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


@eval_app.command("io")
def eval_io_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/io.md"), "--out", help="Markdown file to write."
    ),
    video_dir: Path = typer.Option(Path("data/video"), "--video-dir", help="Real clips folder."),
    repeats: int = typer.Option(5, "--repeats", min=1, help="Timed runs per measurement."),
    encode_frames: int = typer.Option(60, "--encode-frames", min=1, help="Frames per encode run."),
) -> None:
    """Reader and writer throughput relative to bare PyAV on the real clips (ratios)."""
    from reelproof.eval.io_bench import run_io_benchmark

    report = run_io_benchmark(video_dir, out, repeats=repeats, encode_frames=encode_frames)
    for row in report.decode:
        typer.echo(
            f"decode {row.clip}: reader {row.reader_fps:.0f} fps, bare PyAV {row.bare_fps:.0f} fps"
            f" -> ratio {row.ratio:.2f} (vs threaded bare {row.ratio_threaded:.2f})"
        )
    for enc in report.encode:
        typer.echo(
            f"encode {enc.clip}: writer {enc.writer_fps:.1f} fps, bare PyAV {enc.bare_fps:.1f} fps"
            f" -> ratio {enc.ratio:.2f}"
        )
    typer.echo(f"wrote {out}")


@eval_app.command("watermark")
def eval_watermark_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/watermark.md"), "--out", help="Markdown file to write."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="CI-sized run: fewer attacks, frames, clips and resolutions."
    ),
) -> None:
    """rp-ss vs dwtDct/dwtDctSvd: quality, robustness per attack, false positives, speed."""
    from reelproof.eval.watermark_bench import run_watermark_benchmark

    report = run_watermark_benchmark(out, quick=quick)
    typer.echo(f"wrote {report}")


@eval_app.command("generator")
def eval_generator_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/generator.md"), "--out", help="Markdown file to write."
    ),
    threads: int = typer.Option(2, "--threads", min=1, help="torch CPU threads."),
    clips: int = typer.Option(8, "--clips", min=1, help="Responsible generations to time."),
    seeds: int = typer.Option(2, "--seeds", min=1, help="Seeds per held-out prompt (quality)."),
    steps: int = typer.Option(20, "--steps", min=1, help="Denoising steps."),
    model: str = typer.Option("default", "--model", help="'default' or a default-model folder."),
) -> None:
    """Default model: 16x128x128 time, responsible-step overhead, trust + id, quality."""
    from reelproof.eval.generator_bench import run_generator_benchmark

    report = run_generator_benchmark(
        out, threads=threads, clips=clips, quality_seeds=seeds, steps=steps, model=model
    )
    typer.echo(
        f"held-out correct {100 * report.held_out.correct:.0f}% "
        f"({report.held_out.samples} clips); wrote {out}"
    )


@eval_app.command("detector")
def eval_detector_command(
    out: Path = typer.Option(
        Path("docs/benchmarks/detector.md"), "--out", help="Markdown file to write."
    ),
    data_dir: Path = typer.Option(Path("data"), "--data-dir", help="Real footage (make data)."),
    work_dir: Path = typer.Option(
        Path("data/detector"), "--work-dir", help="Cache for the corpus, variants and features."
    ),
    head: str = typer.Option("logistic", "--head", help="Classifier head."),
) -> None:
    """Classifier: in-domain, leave-one-family-out, re-encode/resize robustness, speed."""
    from reelproof.eval.detector_bench import DetectorBenchConfig, run_detector_benchmark

    cfg = DetectorBenchConfig(data_dir=data_dir, work_dir=work_dir, head=head)
    report = run_detector_benchmark(out, cfg, log=typer.echo)
    typer.echo(f"wrote {report}")
