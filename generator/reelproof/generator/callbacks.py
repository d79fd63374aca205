"""Step callbacks through the responsible wrapper: progress in, never tensors out.

diffusers hands ``callback_on_step_end(pipe, step, timestep, tensors)`` the pipeline itself and
the tensors named in ``callback_on_step_end_tensor_inputs`` (``latents`` by default), from which
the final latents can be decoded without the mark. The wrapper therefore passes the pipeline an
empty tensor list and its own plain function, which calls the user's callback with a
:class:`StepView` (step count, guidance scale, ``interrupt()``) and an empty dict, while the
pipeline's models and decoder refuse to run. What the user's callback returns is ignored, so it
cannot inject tensors either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reelproof.core import InputError
from reelproof.generator.hook import PipelineGuard, UnmarkedOutputError

StepCallback = Callable[["StepView", int, Any, Mapping[str, object]], object]
"""``callback(view, step, timestep, {})``: diffusers' callback shape, without tensors."""

LEGACY_CALLBACK_ARGS = ("callback", "callback_steps")


class StepView:
    """What a step callback may see of a running generation: progress, never tensors.

    Args:
        pipe: The running pipeline (kept private: its scheduler and models hold decodable state).
    """

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe

    @property
    def num_timesteps(self) -> int | None:
        """Denoising steps of this run, as the pipeline counts them."""
        value = getattr(self._pipe, "_num_timesteps", None)
        return value if isinstance(value, int) else None

    @property
    def guidance_scale(self) -> float | None:
        """Classifier-free guidance scale of this run."""
        value = getattr(self._pipe, "_guidance_scale", None)
        return float(value) if isinstance(value, int | float) else None

    def interrupt(self) -> None:
        """Stop denoising after this step; what was denoised so far is decoded and marked."""
        self._pipe._interrupt = True


def check_step_callback(
    callback: StepCallback | None,
    has_step_callbacks: bool,
    pipe_kwargs: Mapping[str, object],
    class_name: str,
) -> None:
    """Refuse the callback arguments that would hand tensors to a callback.

    Raises:
        UnmarkedOutputError: Tensor inputs asked for, a diffusers ``PipelineCallback`` that
            reads tensors, or a legacy ``callback=`` (it receives the latents).
        InputError: A callback for a pipeline without step callbacks.
    """
    if pipe_kwargs.get("callback_on_step_end_tensor_inputs"):
        raise UnmarkedOutputError(
            "step callbacks cannot receive latents or other tensors: decoded without the "
            "watermark, they would be unmarked material",
            hint="drop callback_on_step_end_tensor_inputs; callbacks get progress only",
        )
    for legacy in LEGACY_CALLBACK_ARGS:
        if legacy in pipe_kwargs:
            raise UnmarkedOutputError(
                f"{legacy}= hands the latents to a callback every step",
                hint="use callback_on_step_end=..., which receives progress only",
            )
    if callback is None:
        return
    if not has_step_callbacks:
        raise InputError(f"{class_name} takes no step callback", hint="drop the callback")
    from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback

    if not isinstance(callback, PipelineCallback | MultiPipelineCallbacks):
        return
    tensor_inputs: list[str] = callback.tensor_inputs
    if tensor_inputs:
        raise UnmarkedOutputError(
            f"this callback reads the tensors {list(tensor_inputs)}, which would leave the "
            "pipeline unmarked",
            hint="pass a plain function taking (view, step, timestep, tensors)",
        )


def step_callback_arguments(
    callback: StepCallback | None, guard: PipelineGuard
) -> dict[str, object]:
    """The pipeline arguments that run ``callback`` at each step without any tensor."""
    if callback is None:
        return {}

    def observe(pipe: Any, step: int, timestep: Any, tensors: object) -> dict[str, object]:
        with guard.in_callback():
            callback(StepView(pipe), step, timestep, {})
        return {}

    return {"callback_on_step_end": observe, "callback_on_step_end_tensor_inputs": []}
