"""Which diffusers pipelines the responsible wrapper drives, and how to call them.

Support is by construction, not by list: every diffusers video pipeline decodes its latents and
then calls ``self.video_processor.postprocess_video``, where the watermark goes in
(:mod:`reelproof.generator.hook`). A pipeline class whose code makes that call is wrapped; one
that does not is refused before anything is loaded or run. How to call a pipeline is read from
its own ``__call__`` signature (``num_frames`` / ``video_length`` / ``frames``, ``image`` /
``video`` / ``last_image`` ..., ``height`` / ``width``), and the sizes it accepts from its VAE's
compression factors, so a pipeline added to diffusers later works unless it changes the decode
step. The only per-family table left is the frame rate a family is trained for, with a generic
default read from the pipeline's own example.
"""

from __future__ import annotations

import enum
import inspect
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from reelproof.core import ConfigError, InputError

HOOK_CALL = "video_processor.postprocess_video"
"""The decode step every wrapped pipeline must end in (the watermark hook sits there)."""


class MediaKind(enum.Enum):
    """How a media input is handed to a pipeline."""

    IMAGE = "image"  # one PIL image
    IMAGES = "images"  # a list of PIL images (reference images)
    VIDEO = "video"  # a list of PIL frames


MEDIA_PARAMETERS: Mapping[str, MediaKind] = {
    "image": MediaKind.IMAGE,
    "last_image": MediaKind.IMAGE,
    "reference_images": MediaKind.IMAGES,
    "video": MediaKind.VIDEO,
    "control_video": MediaKind.VIDEO,
    "conditioning_frames": MediaKind.VIDEO,
    "mask": MediaKind.VIDEO,
    "pose_video": MediaKind.VIDEO,
    "face_video": MediaKind.VIDEO,
}
"""Call parameters that take media, by the name diffusers gives them in every pipeline."""

UNMAPPED_MEDIA = ("conditions",)
"""Media parameters whose objects the wrapper cannot build from files (LTX-2 conditions)."""

FRAME_PARAMETERS = ("num_frames", "video_length", "frames")
"""Names of the frame-count argument, in the order they are looked for."""

FPS_BY_FAMILY: Mapping[str, int] = {
    "TinyVideo": 8,
    "AnimateDiff": 8,
    "PIA": 8,
    "TextToVideoSD": 8,
    "VideoToVideoSD": 8,
    "Latte": 8,
    "I2VGenXL": 16,
    "Mochi": 30,
    "LTX": 24,
}
"""Frame rate by class-name prefix, for families whose diffusers example does not state one."""

DEFAULT_FPS = 16
MAX_PROMPT_CHARS = 2000
MAX_SIDE = 2048
MAX_FRAMES = 1024

_EXAMPLE_FPS = re.compile(r"export_to_video\([^)]*\bfps\s*=\s*(\d+)")


class UnmarkablePipelineError(ConfigError):
    """A pipeline whose output the watermark hook cannot see; it is refused before any run."""


@dataclass(frozen=True)
class MediaInput:
    """One media parameter of a pipeline.

    Attributes:
        name: The call parameter (``image``, ``video``, ``last_image`` ...).
        kind: What the pipeline expects there.
        required: The signature gives it no default.
    """

    name: str
    kind: MediaKind
    required: bool


@dataclass(frozen=True)
class PipelineProfile:
    """How one pipeline class is driven, read from its code.

    Attributes:
        class_name: The pipeline class.
        parameters: Every argument its ``__call__`` takes.
        takes_prompt: It has a ``prompt`` argument.
        prompt_required: ``prompt`` has no default.
        frames_parameter: Name of its frame-count argument, or ``None`` when the frame count
            follows an input video.
        media: Its media arguments.
        fps: Frame rate of the encoded MP4 (the rate the family is trained for).
        step_callbacks: It takes ``callback_on_step_end``.
        defaults: Its integer defaults for ``num_frames`` (whatever the frame argument is
            called), ``height`` and ``width``; absent when it computes them at run time.
        open_keywords: Its ``__call__`` also takes ``**kwargs``.
    """

    class_name: str
    parameters: frozenset[str]
    takes_prompt: bool
    prompt_required: bool
    frames_parameter: str | None
    media: tuple[MediaInput, ...]
    fps: int
    step_callbacks: bool
    defaults: Mapping[str, int]
    open_keywords: bool

    def media_input(self, name: str) -> MediaInput | None:
        """The media parameter called ``name``, if the pipeline has one."""
        return next((m for m in self.media if m.name == name), None)

    def media_names(self) -> str:
        """The media arguments as a readable list ("none" when it takes none)."""
        return ", ".join(m.name for m in self.media) or "none"


@dataclass(frozen=True)
class Geometry:
    """Sizes a built pipeline can produce.

    Attributes:
        spatial_multiple: Height and width must be multiples of this (VAE compression times
            the transformer's patch).
        frame_step: Frame counts must be ``k * frame_step + 1`` (the VAE's temporal
            compression); 1 means any count.
    """

    spatial_multiple: int
    frame_step: int


@dataclass(frozen=True)
class Request:
    """What a caller asked for, as checked before any compute.

    ``None`` geometry means "the pipeline's default".
    """

    prompt: str | None
    media: frozenset[str]
    num_frames: int | None
    height: int | None
    width: int | None
    num_inference_steps: int | None


def hook_source_of(cls: type) -> str | None:
    """The source of the first class in ``cls``'s MRO that calls the hook, else ``None``.

    Only the pipeline's own classes are read (not ``DiffusionPipeline`` and its bases).
    """
    for klass in cls.__mro__:
        if klass is object or klass.__module__ == "diffusers.pipelines.pipeline_utils":
            break
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if HOOK_CALL in source:
            return source
    return None


_PROFILES: dict[type, PipelineProfile] = {}


def profile(cls: type) -> PipelineProfile:
    """Read how to drive a pipeline class from its code (no weights are involved).

    Raises:
        UnmarkablePipelineError: The class never decodes through
            ``video_processor.postprocess_video``, so its frames could not be watermarked.
    """
    known = _PROFILES.get(cls)
    if known is not None:
        return known
    name = cls.__name__
    if not callable(cls) or hook_source_of(cls) is None:
        raise UnmarkablePipelineError(
            f"{name} cannot be marked: it never decodes through {HOOK_CALL}, the step where "
            "the responsible wrapper watermarks every frame",
            hint="wrap a diffusers video pipeline (text-, image- or video-to-video)",
        )
    params = call_parameters(cls)
    media = tuple(
        MediaInput(p, kind, params[p].default is inspect.Parameter.empty)
        for p, kind in MEDIA_PARAMETERS.items()
        if p in params
    )
    prompt = params.get("prompt")
    frames_parameter = next((p for p in FRAME_PARAMETERS if p in params), None)
    defaults: dict[str, int] = {}
    for key, param in (("num_frames", frames_parameter), ("height", "height"), ("width", "width")):
        default = params[param].default if param is not None and param in params else None
        if isinstance(default, int) and not isinstance(default, bool):
            defaults[key] = default
    _PROFILES[cls] = PipelineProfile(
        class_name=name,
        parameters=frozenset(params),
        takes_prompt=prompt is not None,
        prompt_required=prompt is not None and prompt.default is inspect.Parameter.empty,
        frames_parameter=frames_parameter,
        media=media,
        fps=family_fps(cls),
        step_callbacks="callback_on_step_end" in params,
        defaults=defaults,
        open_keywords=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()),
    )
    return _PROFILES[cls]


def call_parameters(cls: type) -> Mapping[str, inspect.Parameter]:
    """The parameters of ``cls.__call__``; a subclass that only forwards ``*args, **kwargs``
    takes those of the class it forwards to."""
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = inspect.signature(cls.__call__).parameters
    for klass in cls.__mro__:
        call = klass.__dict__.get("__call__")
        if call is None:
            continue
        params = inspect.signature(call).parameters
        if any(p.kind not in variadic for name, p in params.items() if name != "self"):
            return params
    return params


def family_fps(cls: type) -> int:
    """Frame rate for a pipeline class: the family table, else its diffusers example's
    ``export_to_video(..., fps=N)``, else :data:`DEFAULT_FPS`."""
    for prefix, fps in FPS_BY_FAMILY.items():
        if cls.__name__.startswith(prefix):
            return fps
    module = sys.modules.get(cls.__module__)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        source = ""
    found = _EXAMPLE_FPS.search(source)
    return int(found.group(1)) if found else DEFAULT_FPS


def _int_attribute(obj: object, names: tuple[str, ...], default: int) -> int:
    """The first of ``names`` that ``obj`` holds as a positive int, else ``default``."""
    for attr in names:
        value = getattr(obj, attr, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return default


def _patch_side(pipe: object) -> int:
    """The denoiser's spatial patch size (1 for UNets), from its config."""
    from_pipe = _int_attribute(pipe, ("transformer_spatial_patch_size",), 0)
    if from_pipe:
        return from_pipe
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    patch = getattr(config, "patch_size", None)
    if isinstance(patch, list | tuple) and patch:
        patch = patch[-1]
    return patch if isinstance(patch, int) and patch > 0 else 1


def geometry_of(pipe: object) -> Geometry:
    """The sizes a built pipeline accepts, from the compression factors it computed itself."""
    spatial = _int_attribute(
        pipe,
        ("vae_scale_factor_spatial", "vae_spatial_compression_ratio",
         "vae_spatial_scale_factor", "vae_scale_factor"),
        8,
    )  # fmt: skip
    temporal = _int_attribute(
        pipe,
        ("vae_scale_factor_temporal", "vae_temporal_compression_ratio",
         "vae_temporal_scale_factor"),
        1,
    )  # fmt: skip
    return Geometry(spatial_multiple=spatial * _patch_side(pipe), frame_step=temporal)


def check_request(profile: PipelineProfile, geometry: Geometry | None, request: Request) -> None:
    """Validate a generation request against a pipeline, before any compute.

    ``geometry`` is ``None`` before the pipeline is loaded (the CLI checks what it can first).

    Raises:
        InputError: Prompt, inputs, sizes or steps the pipeline cannot take.
    """
    _check_prompt(profile, request)
    _check_media(profile, request.media)
    if request.num_frames is not None:
        if profile.frames_parameter is None:
            raise InputError(
                f"{profile.class_name} takes no frame count: its length follows its input video",
                hint="drop --frames / num_frames",
            )
        if not 1 <= request.num_frames <= MAX_FRAMES:
            raise InputError(
                f"{request.num_frames} frames is out of range", hint=f"use 1 to {MAX_FRAMES}"
            )
        step = geometry.frame_step if geometry is not None else 1
        if step > 1 and request.num_frames % step != 1:
            raise InputError(
                f"{request.num_frames} frames is not usable by {profile.class_name}, whose VAE "
                f"compresses time by {step}",
                hint=f"use {step}k+1 frames, e.g. {2 * step + 1}",
            )
    multiple = geometry.spatial_multiple if geometry is not None else 1
    for name, value in (("height", request.height), ("width", request.width)):
        if value is None:
            continue
        if name not in profile.parameters:
            raise InputError(f"{profile.class_name} takes no {name}", hint=f"drop {name}")
        if value < multiple or value > MAX_SIDE or value % multiple:
            raise InputError(
                f"{name} {value} is not usable by {profile.class_name}",
                hint=f"use a multiple of {multiple} between {multiple} and {MAX_SIDE}",
            )
    steps = request.num_inference_steps
    if steps is not None:
        if "num_inference_steps" not in profile.parameters:
            raise InputError(f"{profile.class_name} takes no step count", hint="drop --steps")
        if not 1 <= steps <= 1000:
            raise InputError(f"{steps} steps is out of range", hint="use 1 to 1000")


def _check_prompt(profile: PipelineProfile, request: Request) -> None:
    prompt = request.prompt
    if prompt is not None and not isinstance(prompt, str):
        raise InputError("the prompt must be a string")
    if prompt is not None and not profile.takes_prompt:
        raise InputError(
            f"{profile.class_name} takes no prompt (it is conditioned on its inputs only)",
            hint="drop the prompt",
        )
    if prompt is not None and len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(
            f"the prompt has {len(prompt)} characters; at most {MAX_PROMPT_CHARS} are accepted",
            hint="shorten the prompt",
        )
    needs_prompt = profile.prompt_required or (profile.takes_prompt and not request.media)
    if needs_prompt and (prompt is None or not prompt.strip()):
        raise InputError("the prompt is empty", hint="describe the clip to generate")


def _check_media(profile: PipelineProfile, given: frozenset[str]) -> None:
    for name in sorted(given):
        if profile.media_input(name) is None:
            raise InputError(
                f"{profile.class_name} takes no {name} input",
                hint=f"its media inputs: {profile.media_names()}",
            )
    for media in profile.media:
        if media.required and media.name not in given:
            raise InputError(
                f"{profile.class_name} needs its {media.name} input",
                hint=f"pass {media.name}= (CLI: --input {media.name}=FILE)",
            )
