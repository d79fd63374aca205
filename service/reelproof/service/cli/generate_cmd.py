"""``reelproof generate``: a watermarked, C2PA-signed clip from a prompt.

Everything is checked (prompt, sizes, model folder, pipeline class, output path) before any
weight is loaded or any step is run; the output appears only once signed and stored.
"""

from __future__ import annotations

from pathlib import Path

import typer

from reelproof.service.cli.output import print_json


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(generate_command)


def generate_command(
    prompt: str = typer.Argument(
        "",
        help='What to show, e.g. "a red ball moving left on a '
        'black background". Empty for image-only models (SVD).',
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Signed MP4 to write."),
    model: str = typer.Option(
        "default",
        "--model",
        help="'default' (embedded model) or a local diffusers pipeline folder.",
    ),
    frames: int = typer.Option(16, "--frames", help="Frames to generate."),
    size: int = typer.Option(128, "--size", help="Frame side in pixels (square)."),
    steps: int = typer.Option(20, "--steps", help="Denoising steps."),
    seed: int | None = typer.Option(None, "--seed", help="Noise seed (random if omitted)."),
    image: Path | None = typer.Option(
        None, "--image", help="Input image for image-to-video models."
    ),
    guidance: float | None = typer.Option(None, "--guidance", help="Guidance scale."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Generate a clip: watermark every frame, encode MP4, sign C2PA, store the manifest."""
    from reelproof.core import InputError
    from reelproof.generator import loading, pipelines

    prompt_or_none = prompt if prompt.strip() else None
    # Cheap checks first: a bad request never loads a model.
    folder = loading.resolve(model)
    if image is not None and not image.is_file():
        raise InputError(f"input image {image} does not exist")
    if output.suffix.lower() != ".mp4":
        raise InputError(f"output {output} must end in .mp4", hint="e.g. -o out.mp4")
    if output.exists() and not overwrite:
        raise InputError(f"{output} already exists", hint="choose another name or --overwrite")
    if not output.parent.is_dir():
        raise InputError(f"folder {output.parent} does not exist", hint="create it first")
    from reelproof.generator import tinyvid

    class_name = (
        "TinyVideoPipeline"
        if tinyvid.is_tinyvid_folder(folder)
        else pipelines.pipeline_class_in_folder(folder)
    )
    kind = pipelines.kind_of(class_name)
    pipelines.check_request(kind, prompt_or_none, image is not None, frames, size, size, steps)
    if class_name == "TinyVideoPipeline":
        tinyvid.check_request(tinyvid.config_in_folder(folder), prompt, frames, size, size)
    from reelproof.watermark import RpSsConfig

    tile = RpSsConfig().tile  # the default watermark's tile: smaller frames cannot carry it
    if size < tile:
        raise InputError(
            f"{size}x{size} is smaller than the {tile}-pixel watermark tile",
            hint=f"use --size {tile} or more",
        )

    from reelproof.generator import ResponsibleGenerator

    gen = ResponsibleGenerator.from_pretrained(folder)
    result = gen.generate(
        prompt_or_none, output, image=image, num_frames=frames, height=size, width=size,
        num_inference_steps=steps, seed=seed, guidance_scale=guidance,
        show_progress=not as_json, overwrite=overwrite,
    )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    t = result.timings
    typer.echo(f"wrote {result.path}  ({result.num_frames} frames {result.width}x{result.height})")
    typer.echo(f"watermark id: {result.watermark_id}")
    typer.echo(f"manifest: {result.manifest.one_line()}")
    typer.echo(f"manifest stored in: {result.store} (key {result.watermark_id})")
    typer.echo(
        f"timings: generate {t.generate_s:.2f}s, watermark {t.watermark_s:.2f}s, "
        f"encode {t.encode_s:.2f}s, sign {t.sign_s:.2f}s, store {t.store_s:.2f}s "
        f"(seed {result.seed})"
    )
