"""``reelproof generate``: a watermarked, C2PA-signed clip from a prompt (and input media).

Everything that needs no weights is checked first (prompt, inputs, frame count, model folder,
pipeline class, output path); sizes that depend on the model's VAE are checked right after
loading, before any denoising step. The output appears only once signed and stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reelproof.service.cli.output import print_json

if TYPE_CHECKING:
    import torch

    from reelproof.generator import PipelineProfile

DTYPES = ("float32", "bfloat16", "float16")


def register(app: typer.Typer, name: str, help_text: str) -> None:
    app.command(name, help=help_text)(generate_command)


def generate_command(
    prompt: str = typer.Argument(
        "",
        help='What to show, e.g. "a red ball moving left on a black background". Empty for '
        "models conditioned on their inputs only (SVD).",
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Signed MP4 to write."),
    model: str = typer.Option(
        "default",
        "--model",
        help="'default' (embedded model) or a local diffusers video pipeline folder.",
    ),
    frames: int | None = typer.Option(None, "--frames", help="Frames (default: the model's)."),
    size: int | None = typer.Option(None, "--size", help="Square frame side in pixels."),
    height: int | None = typer.Option(None, "--height", help="Frame height (overrides --size)."),
    width: int | None = typer.Option(None, "--width", help="Frame width (overrides --size)."),
    steps: int | None = typer.Option(None, "--steps", help="Denoising steps."),
    seed: int | None = typer.Option(None, "--seed", help="Noise seed (random if omitted)."),
    image: Path | None = typer.Option(None, "--image", help="Input image (image-to-video)."),
    video: Path | None = typer.Option(
        None, "--video", help="Input clip (video-to-video); a signed one becomes the parent."
    ),
    last_image: Path | None = typer.Option(None, "--last-image", help="Last-frame image."),
    extra_inputs: list[str] = typer.Option(
        [], "--input", help="Further media by pipeline argument, NAME=FILE (e.g. mask=m.mp4)."
    ),
    guidance: float | None = typer.Option(None, "--guidance", help="Guidance scale."),
    fps: float | None = typer.Option(None, "--fps", help="MP4 frame rate (default: family's)."),
    dtype: str | None = typer.Option(
        None, "--dtype", help="Load weights as float32, bfloat16 or float16 (diffusers folders)."
    ),
    vae_tiling: bool = typer.Option(False, "--vae-tiling", help="Decode in tiles and slices."),
    cpu_offload: bool = typer.Option(
        False, "--cpu-offload", help="Move each model to the GPU only while it runs."
    ),
    device: str | None = typer.Option(None, "--device", help="Run on this device (cuda, cpu)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Generate a clip: watermark every frame, encode MP4, sign C2PA, store the manifest."""
    from reelproof.core import InputError
    from reelproof.generator import loading, pipelines
    from reelproof.generator.calls import check_output_path
    from reelproof.generator.inputs import media_files

    prompt_or_none = prompt if prompt.strip() else None
    height, width = height or size, width or size
    # Cheap checks first: a bad request never loads a model.
    folder = loading.resolve(model)
    check_output_path(output, overwrite)
    profile = _profile_in_folder(folder)
    files = media_files(image, video, last_image, _named_inputs(extra_inputs), profile)
    request = pipelines.Request(prompt_or_none, frozenset(files), frames, height, width, steps)
    pipelines.check_request(profile, None, request)
    _check_default_model(folder, prompt, frames, height, width)
    from reelproof.generator.signing import default_watermarker

    side = default_watermarker().min_side
    if min(height or side, width or side) < side:
        raise InputError(
            f"{width}x{height} is too small for the watermark (at least {side} px a side)",
            hint=f"use --size {side} or more",
        )
    if dtype is not None and dtype not in DTYPES:
        raise InputError(f"--dtype {dtype} is not one of {', '.join(DTYPES)}")
    if cpu_offload and not loading.accelerator_available():
        raise InputError(
            "--cpu-offload needs an accelerator; without one every model already runs from "
            "main memory",
            hint="drop --cpu-offload, or run on a machine with a GPU",
        )

    from reelproof.generator import ResponsibleGenerator

    memory = loading.MemoryOptions(vae_tiling=vae_tiling, cpu_offload=cpu_offload, device=device)
    gen = ResponsibleGenerator.from_pretrained(
        folder, torch_dtype=_torch_dtype(dtype), memory=memory
    )
    result = gen.generate(
        prompt_or_none, output, inputs=files, num_frames=frames, height=height, width=width,
        num_inference_steps=steps, seed=seed, guidance_scale=guidance, fps=fps,
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


def _profile_in_folder(folder: Path) -> PipelineProfile:
    """How the folder's pipeline class is driven, read from its code (no weights loaded)."""
    from reelproof.generator import discovery, pipelines, tinyvid

    if tinyvid.is_tinyvid_folder(folder):
        return pipelines.profile(tinyvid.TinyVideoPipeline)
    class_name = discovery.pipeline_class_in_folder(folder)
    return pipelines.profile(discovery.diffusers_class(class_name))


def _check_default_model(
    folder: Path, prompt: str, frames: int | None, height: int | None, width: int | None
) -> None:
    """The embedded model's own rules (vocabulary, sizes), from its marker file alone."""
    from reelproof.generator import tinyvid

    if tinyvid.is_tinyvid_folder(folder):
        cfg = tinyvid.config_in_folder(folder)
        tinyvid.check_prompt_and_size(cfg, prompt, frames or 16, height or 128, width or 128)


def _named_inputs(pairs: list[str]) -> dict[str, Path]:
    """``NAME=FILE`` pairs of ``--input``."""
    from reelproof.core import InputError

    named: dict[str, Path] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--input {pair!r} is not NAME=FILE", hint="e.g. --input mask=m.mp4")
        named[name] = Path(path)
    return named


def _torch_dtype(name: str | None) -> torch.dtype | None:
    if name is None:
        return None
    import torch

    dtypes: dict[str, torch.dtype] = {
        "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16,
    }  # fmt: skip
    return dtypes[name]
