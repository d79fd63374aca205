"""``reelproof generator``: train the embedded default model."""

from __future__ import annotations

from pathlib import Path

import typer

from reelproof.service.cli.output import print_json

generator_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(generator_app, name=name, help=help_text)


@generator_app.command("train")
def train_command(
    out: Path = typer.Option(
        Path("generator/reelproof/generator/default_model"),
        "--out",
        help="Folder to write the weights and marker file to.",
    ),
    steps: int = typer.Option(1500, "--steps", min=1, help="Optimiser steps (LR schedule span)."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Clips per step."),
    lr: float = typer.Option(
        1e-3, "--lr", min=1e-7, help="Peak AdamW learning rate (lower it to continue a run)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of data, init and noise."),
    max_minutes: float = typer.Option(
        0.0, "--max-minutes", min=0.0, help="Stop early after this long (0: no limit)."
    ),
    stop_at: int = typer.Option(
        0, "--stop-at", min=0, help="Stop after this many steps, keeping the --steps schedule."
    ),
    threads: int = typer.Option(1, "--threads", min=1, help="torch CPU threads."),
    init_from: Path | None = typer.Option(
        None,
        "--init",
        exists=True,
        file_okay=False,
        help="Continue from this checkpoint folder's weights instead of a random start.",
    ),
    object_weight: float = typer.Option(
        0.0, "--object-weight", min=0.0, help="Extra loss weight on the shape's pixels."
    ),
    edge_weight: float = typer.Option(
        0.0,
        "--edge-weight",
        min=0.0,
        help="Extra loss weight on a band around the shape's outline.",
    ),
    prediction: str = typer.Option(
        "x",
        "--prediction",
        help="What a new model predicts: x (the clean clip) or v (the flow velocity).",
    ),
    noise_mean: float = typer.Option(
        0.8, "--noise-mean", help="Mean of the logit-normal noise levels (above 0: noisier)."
    ),
    noise_std: float = typer.Option(
        0.8, "--noise-std", min=0.01, help="Spread of the logit-normal noise levels."
    ),
    denoiser: str = typer.Option(
        "hunyuan",
        "--denoiser",
        help="Transformer of a new model: hunyuan (prompt also in adaLN) or wan (cross-attention).",
    ),
    coords: bool = typer.Option(
        True, "--coords/--no-coords", help="Give a new model fixed coordinate input channels."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON summary object."),
) -> None:
    """Train the default text-to-video model on procedurally rendered scenes (seeded)."""
    from reelproof.core import InputError
    from reelproof.generator.tinyvid import denoiser_class
    from reelproof.generator.training import TrainConfig, train

    if prediction not in ("x", "v"):
        raise InputError(f"--prediction must be x or v, not {prediction!r}")
    denoiser_class(denoiser)  # an unknown name fails here, before any rendering

    cfg = TrainConfig(
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        max_minutes=max_minutes,
        stop_at=stop_at,
        threads=threads,
        init_from=str(init_from) if init_from else "",
        object_weight=object_weight,
        edge_weight=edge_weight,
        prediction=prediction,
        noise_logit_mean=noise_mean,
        noise_logit_std=noise_std,
        denoiser=denoiser,
        coords=coords,
    )

    def log(line: str) -> None:
        if not as_json:
            typer.echo(line)

    summary = train(out, cfg, log=log)
    if as_json:
        print_json({"out": str(out), **summary})
