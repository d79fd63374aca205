"""Which diffusers pipelines the responsible wrapper knows, and how to call them.

The wrapper composes stock pipelines; it only needs to know which inputs a pipeline takes (a
prompt, an input image, or both), the frame rate its model was trained for, and the size
granularity it accepts, so that bad requests fail before any compute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelproof.core import ConfigError, InputError, UnknownNameError


@dataclass(frozen=True)
class PipelineKind:
    """How one pipeline class is driven.

    Attributes:
        takes_prompt: Whether it is conditioned on text.
        takes_image: Whether it needs an input image (image-to-video).
        fps: Frame rate of the encoded MP4 (the rate the model family is trained for).
        size_multiple: Height and width must be multiples of this.
        frames_rule: ``"any"``, ``"4k+1"`` (temporal VAE compression by 4) or ``"8k+1"``.
    """

    takes_prompt: bool
    takes_image: bool
    fps: int
    size_multiple: int = 8
    frames_rule: str = "any"


SUPPORTED_PIPELINES: dict[str, PipelineKind] = {
    "TinyVideoPipeline": PipelineKind(True, False, fps=8, size_multiple=32),
    "WanPipeline": PipelineKind(True, False, fps=16, size_multiple=16, frames_rule="4k+1"),
    "WanImageToVideoPipeline": PipelineKind(
        True, True, fps=16, size_multiple=16, frames_rule="4k+1"
    ),
    "LTXPipeline": PipelineKind(True, False, fps=24, size_multiple=32, frames_rule="8k+1"),
    "LTXImageToVideoPipeline": PipelineKind(
        True, True, fps=24, size_multiple=32, frames_rule="8k+1"
    ),
    "CogVideoXPipeline": PipelineKind(True, False, fps=8, size_multiple=16, frames_rule="4k+1"),
    "CogVideoXImageToVideoPipeline": PipelineKind(
        True, True, fps=8, size_multiple=16, frames_rule="4k+1"
    ),
    "AnimateDiffPipeline": PipelineKind(True, False, fps=8),
    "TextToVideoSDPipeline": PipelineKind(True, False, fps=8),
    "StableVideoDiffusionPipeline": PipelineKind(False, True, fps=7),
}
"""Pipeline class name -> how to drive it. Every entry ends in ``video_processor.postprocess_video``."""

MAX_PROMPT_CHARS = 2000
MAX_SIDE = 2048
MAX_FRAMES = 1024


def kind_of(class_name: str) -> PipelineKind:
    """The :class:`PipelineKind` of a pipeline class name.

    Raises:
        UnknownNameError: The wrapper does not know this pipeline class.
    """
    if class_name not in SUPPORTED_PIPELINES:
        known = ", ".join(sorted(SUPPORTED_PIPELINES))
        raise UnknownNameError(
            f"the responsible wrapper does not support pipeline class {class_name!r}",
            hint=f"supported: {known}",
        )
    return SUPPORTED_PIPELINES[class_name]


def pipeline_class_in_folder(folder: Path) -> str:
    """Read ``_class_name`` from a diffusers folder's ``model_index.json`` (no weights loaded).

    Raises:
        ConfigError: The folder is not a diffusers pipeline folder.
    """
    index = folder / "model_index.json"
    if not index.is_file():
        raise ConfigError(
            f"{folder} is not a diffusers pipeline folder (no model_index.json)",
            hint="pass a folder saved with save_pretrained, e.g. Wan2.1-T2V-1.3B-Diffusers",
        )
    try:
        body: Any = json.loads(index.read_text())
        name = body["_class_name"]
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{index} is not a valid model_index.json: {err}") from err
    if not isinstance(name, str):
        raise ConfigError(f"{index} names no pipeline class")
    return name


def check_request(
    kind: PipelineKind,
    prompt: str | None,
    has_image: bool,
    num_frames: int,
    height: int,
    width: int,
    num_inference_steps: int,
) -> None:
    """Validate a generation request against a pipeline kind, before any compute.

    Raises:
        InputError: Empty or over-long prompt, missing or unexpected image, unusable sizes.
    """
    if kind.takes_prompt and not kind.takes_image and (prompt is None or not prompt.strip()):
        raise InputError("the prompt is empty", hint="describe the clip to generate")
    if prompt is not None and len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(
            f"the prompt has {len(prompt)} characters; at most {MAX_PROMPT_CHARS} are accepted",
            hint="shorten the prompt",
        )
    if kind.takes_image and not has_image:
        raise InputError("this pipeline is image-to-video and needs an input image",
                         hint="pass --image IN.png")  # fmt: skip
    if has_image and not kind.takes_image:
        raise InputError("this pipeline is text-to-video and takes no input image",
                         hint="drop --image, or load an image-to-video model")  # fmt: skip
    m = kind.size_multiple
    for name, value in (("height", height), ("width", width)):
        if value < m or value > MAX_SIDE or value % m:
            raise InputError(
                f"{name} {value} is not usable by this pipeline",
                hint=f"use a multiple of {m} between {m} and {MAX_SIDE}",
            )
    if num_frames < 1 or num_frames > MAX_FRAMES:
        raise InputError(f"{num_frames} frames is out of range", hint=f"use 1 to {MAX_FRAMES}")
    rule_step = {"4k+1": 4, "8k+1": 8}.get(kind.frames_rule)
    if rule_step and num_frames % rule_step != 1:
        raise InputError(
            f"{num_frames} frames is not usable by this pipeline",
            hint=f"use {rule_step}k+1 frames, e.g. {rule_step * 2 + 1}",
        )
    if num_inference_steps < 1 or num_inference_steps > 1000:
        raise InputError(f"{num_inference_steps} steps is out of range", hint="use 1 to 1000")
