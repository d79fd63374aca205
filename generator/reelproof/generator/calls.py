"""One pipeline call through the wrapper: what may be asked, how it is passed, what may come back.

Before the call: the output path, the output type and the pass-through arguments are checked,
and the call is built with each argument under the name this pipeline gives it. After the call:
what the pipeline returned must be exactly the frames the watermark hook marked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reelproof.core import InputError, ReelProofError
from reelproof.generator import pipelines
from reelproof.generator.callbacks import StepCallback, check_step_callback
from reelproof.generator.hook import UnmarkedOutputError
from reelproof.generator.inputs import MediaFile

OUTPUT_TYPES = ("np", "pt", "pil")
REFUSED_PASS_THROUGH = (
    "latents", "return_dict", "num_videos_per_prompt", "prompt_embeds", "output_type",
    "generator", *pipelines.UNMAPPED_MEDIA,
)  # fmt: skip
"""Pipeline arguments the wrapper owns: one clip per call, from its own noise and prompt."""


def check_output_path(out_path: Path, overwrite: bool) -> None:
    """Refuse an output that is not a new ``.mp4`` in an existing folder.

    Raises:
        InputError: Wrong suffix, missing folder, or an existing file without ``overwrite``.
    """
    if out_path.suffix.lower() != ".mp4":
        raise InputError(f"output {out_path} must end in .mp4", hint="e.g. -o out.mp4")
    if not out_path.parent.is_dir():
        raise InputError(f"folder {out_path.parent} does not exist", hint="create it first")
    if out_path.exists() and not overwrite:
        raise InputError(f"{out_path} already exists", hint="choose another name or overwrite")


def check_arguments(
    profile: pipelines.PipelineProfile,
    output_type: str,
    pipe_kwargs: Mapping[str, object],
    callback: StepCallback | None,
) -> None:
    """Refuse an output type, a callback or a pass-through argument that could carry
    unmarked or unrecorded material, before any compute.

    Raises:
        UnmarkedOutputError: Latent output, or a callback asking for tensors.
        InputError: An argument the wrapper owns, a media object instead of a file, or an
            argument the pipeline does not take.
    """
    if output_type not in OUTPUT_TYPES:
        raise UnmarkedOutputError(
            f"output_type={output_type!r} would hand out unmarked material",
            hint='ask for "np", "pt" or "pil"; the MP4 is always written',
        )
    check_step_callback(callback, profile.step_callbacks, pipe_kwargs, profile.class_name)
    for name in pipe_kwargs:
        if name in REFUSED_PASS_THROUGH:
            raise InputError(
                f"{name} cannot be passed through the responsible wrapper",
                hint="the wrapper makes exactly one clip per call from its own noise",
            )
        if name in pipelines.MEDIA_PARAMETERS:
            raise InputError(
                f"pass {name} as a file (inputs={{{name!r}: PATH}}) so the manifest records it",
                hint="every input is an ingredient of the signed clip",
            )
        if name == "callback_on_step_end_tensor_inputs":
            continue  # empty: checked with the callback
        if name not in profile.parameters and not profile.open_keywords:
            raise InputError(f"{profile.class_name} takes no argument {name!r}")


def call_arguments(
    profile: pipelines.PipelineProfile,
    request: pipelines.Request,
    media: list[MediaFile],
    seed: int,
    guidance_scale: float | None,
    pipe_kwargs: Mapping[str, object],
) -> dict[str, object]:
    """The pipeline call, with each argument under the name this pipeline gives it.

    The pipeline is always asked for ``"np"``: every stock pipeline routes that through the
    hook, and ``pt`` / ``pil`` are made afterwards from the marked frames.

    Raises:
        InputError: A geometry, step or guidance argument this pipeline does not take.
    """
    import torch

    call: dict[str, object] = {"output_type": "np"}
    optional: dict[str, object] = {
        "prompt": request.prompt,
        profile.frames_parameter or "num_frames": request.num_frames,
        "height": request.height,
        "width": request.width,
        "num_inference_steps": request.num_inference_steps,
        "guidance_scale": guidance_scale,
    }
    for name, value in optional.items():
        if value is None:
            continue
        if name not in profile.parameters:
            raise InputError(f"{profile.class_name} takes no {name}", hint=f"drop {name}")
        call[name] = value
    if "generator" in profile.parameters:
        call["generator"] = torch.Generator(device="cpu").manual_seed(seed)
    for item in media:
        call[item.parameter] = item.value
    call.update(pipe_kwargs)
    return call


def check_output_is_marked(
    class_name: str, returned: object, marked: npt.NDArray[np.uint8] | None
) -> npt.NDArray[np.uint8]:
    """Return the marked clip (F, H, W, 3) uint8 if the pipeline's output is exactly it.

    A pipeline that never decoded through the hook, decoded more than one clip, or changed the
    frames after the hook (a second decode path, a post-filter) hands back nothing.

    Raises:
        UnmarkedOutputError: The output did not come out of the watermark hook.
    """
    if marked is None:
        raise UnmarkedOutputError(
            f"{class_name} returned frames that never went through video_processor."
            "postprocess_video, where the watermark goes in; nothing was returned or written",
            hint="this pipeline cannot be wrapped; report it with its class name",
        )
    if marked.shape[0] != 1:
        raise ReelProofError(
            "the pipeline decoded more than one clip through the watermark hook",
            hint="generate one clip per call (num_videos_per_prompt=1)",
        )
    frames = np.asarray(returned, dtype=np.float32)
    if frames.shape != marked.shape or not np.array_equal(
        np.round(frames * 255).astype(np.uint8), marked
    ):
        raise UnmarkedOutputError(
            f"{class_name} returned frames that differ from the ones the watermark hook "
            "marked; nothing was returned or written",
            hint="this pipeline changes frames after decoding and cannot be wrapped",
        )
    clip: npt.NDArray[np.uint8] = marked[0]
    return clip
