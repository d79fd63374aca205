"""``reelproof detector``: train, evaluate and run the synthetic-video classifier."""

from __future__ import annotations

from pathlib import Path

import typer

detector_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.add_typer(detector_app, name=name, help=help_text)


@detector_app.command("score")
def score_command(
    clip: Path = typer.Argument(..., help="Video to score."),
    model: Path | None = typer.Option(
        None, "--model", help="Detector file (default: the shipped default weights)."
    ),
    max_frames: int = typer.Option(16, "--max-frames", min=1, max=512, help="Frame budget."),
    faces: bool = typer.Option(
        False, "--faces", help="Face mode: find, track and score each face (MTCNN)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Score CLIP: p(synthetic), label (synthetic/real/inconclusive/abstain), per-second
    segments, and with --faces one score per tracked face."""
    from reelproof.detector import load_detector

    score = load_detector(model).score_file(clip, max_frames=max_frames, faces=faces)
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(score.to_dict())
        return
    p = "n/a" if score.p_synthetic is None else f"{score.p_synthetic:.3f}"
    typer.echo(f"{clip}: {score.label} (p_synthetic {p}, {score.frames_used} frames)")
    if score.reason:
        typer.echo(f"  reason ({score.code}): {score.reason}")
    for seg in score.segments:
        typer.echo(f"  {seg.start_s:7.2f}-{seg.end_s:7.2f} s  p={seg.p_synthetic:.3f}")
    for face in score.faces:
        x, y, w, h = face.box
        typer.echo(
            f"  face {face.track_id}: {face.start_s:.2f}-{face.end_s:.2f} s, {face.label} "
            f"(p={face.p_synthetic:.3f}, {face.frames_used} frames, box {w}x{h} at {x},{y})"
        )
    if faces and not score.faces and score.label != "abstain":
        typer.echo("  faces: none found")
    typer.echo(f"  model: {score.model}; a fallback signal: check provenance first.")


@detector_app.command("train")
def train_command(
    data: list[Path] = typer.Option(
        ...,
        "--data",
        help="Dataset root (real/ + fake/, FaceForensics++, or real/ + per-generator folders);"
        " repeat to combine roots.",
    ),
    out: Path = typer.Option(Path("detector.joblib"), "--out", help="Detector file to write."),
    backbone: str = typer.Option("forensic", "--backbone", help="Feature extractor name."),
    head: str = typer.Option("logistic", "--head", help="Classifier head name."),
    pretrained: Path | None = typer.Option(
        None, "--pretrained", help="State dict for a timm backbone (never downloaded)."
    ),
    max_frames: int = typer.Option(16, "--max-frames", min=1, max=512, help="Frames per video."),
    target_fpr: float = typer.Option(0.005, "--target-fpr", min=0.0, max=0.5),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print the model card as JSON."),
) -> None:
    """Train a calibrated detector; the file gets a card (data, splits, out-of-fold metrics)."""
    from reelproof.core import ConfigError
    from reelproof.detector.model import DetectorConfig
    from reelproof.detector.training import train_from_folders

    if backbone == "traces":
        # Its CNN is trained on the shared real-generator clips and their format controls;
        # from folders it would stay untrained (random features) without saying so.
        raise ConfigError(
            "the 'traces' backbone is trained by scripts/train_default_detector.py",
            hint="run that script, or pick another --backbone such as 'forensic'",
        )
    config = DetectorConfig(
        backbone=backbone,
        head=head,
        max_frames=max_frames,
        target_fpr=target_fpr,
        seed=seed,
        temporal=head == "fusion",  # the fusion head reads each clip's temporal vector
    )
    log = None if as_json else typer.echo
    detector = train_from_folders(data, config, pretrained_path=pretrained, log=log)
    detector.save(out)
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json({"model": detector.model_id, "path": str(out), "card": detector.card})
        return
    video = detector.card["out_of_fold"]["video"]
    typer.echo(
        f"wrote {out} ({detector.model_id}); out-of-fold video AUC {video['auc']:.3f}, "
        f"thresholds {detector.thresholds[0]:.3f}/{detector.thresholds[1]:.3f}"
    )


@detector_app.command("eval")
def eval_command(
    data: Path = typer.Option(..., "--data", help="Dataset root (same layouts as train)."),
    model: Path | None = typer.Option(
        None, "--model", help="Detector file (default: the shipped default weights)."
    ),
    max_frames: int = typer.Option(16, "--max-frames", min=1, max=512),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Evaluate a detector on a labelled folder: video/frame AUC, AP, EER, TPR@FPR, ECE."""
    from reelproof.detector import load_detector
    from reelproof.detector.evaluate import evaluate_folder

    report = evaluate_folder(load_detector(model), data, max_frames=max_frames)
    if as_json:
        from reelproof.service.cli.output import print_json

        print_json(report.to_dict())
        return
    for row in report.rows:
        m = row.metrics
        auc = "n/a" if m.auc is None else f"{m.auc:.3f}"
        typer.echo(
            f"{row.name:>24}: n={m.n_real}+{m.n_fake} AUC {auc} ECE {m.ece:.3f} "
            f"FPR@thr {row.fpr_at_threshold:.3f} TPR@thr {row.tpr_at_threshold:.3f}"
        )
