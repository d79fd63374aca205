"""The watermarking hook inside a diffusers video pipeline, and the guard around it.

Every diffusers video pipeline ends with ``vae.decode(...)`` and then
``self.video_processor.postprocess_video(video, output_type)``. :class:`WatermarkingVideoProcessor`
replaces the pipeline instance's ``video_processor``: its ``postprocess_video`` converts the decoded
``(B, C, F, H, W)`` tensor to 8-bit frames, watermarks every frame, converts back and only then
delegates to the stock processor. The hook needs none of the per-pipeline latent maths and sees the
whole clip after tiled or chunked decoding.

:class:`PipelineGuard` keeps the wrapped pipeline usable only inside
``ResponsibleGenerator.generate``: every model component refuses to run unless a generation armed
the guard on this thread, so calling the pipeline directly (``output_type="latent"`` included, by
any route: ``pipe(...)``, the stock class's ``__call__``, ``from_pipe`` copies sharing its modules,
re-entry from a step callback) stops at its first model forward, before any denoising; and the
VAE, guarded layer by layer, decodes nothing outside a generation (latents captured some other
way cannot be turned into unmarked frames with this pipeline).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reelproof.core import InputError

if TYPE_CHECKING:
    import torch

# Marks one clip: (F, H, W, 3) uint8 RGB in, same shape and dtype out.
MarkFn = Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]

DENOISER_NAMES = ("transformer", "unet", "latent_upsampler")
"""Component names (prefixes) of the models that make the latents: their forwards count as
generation compute."""

DECODER_NAMES = ("vae", "audio_vae")
"""Component names (prefixes) of the decoders, guarded layer by layer."""

_GUARDS = "_reelproof_guards"
"""Attribute holding the guards a module belongs to."""

_REFUSED = (
    "this pipeline is wrapped by ResponsibleGenerator and runs only inside generate(), "
    "which never hands out latents or unmarked frames"
)


class UnmarkedOutputError(InputError):
    """A wrapped pipeline was asked for output the wrapper cannot watermark and sign."""


class PipelineGuard:
    """Arms the hook for one generation and refuses every other use of the pipeline's models.

    Each model component (and every layer of the VAE) gets one gate that lets a forward through
    only while a guard it belongs to is armed on the calling thread and no step callback runs;
    a module shared by two wrapped pipelines opens for either's generation.

    Attributes:
        proxy: The watermarking processor installed as ``pipe.video_processor``.
        denoiser_forwards: Denoiser forwards in the current generation (0: nothing computed).
    """

    def __init__(self, pipe: Any) -> None:
        self.proxy = WatermarkingVideoProcessor(pipe.video_processor, self)
        self._owner: int | None = None
        self._in_callback = False
        self.denoiser_forwards = 0
        self._denoisers: set[int] = set()
        for name, module in _modules(pipe):
            if name.startswith(DENOISER_NAMES):
                self._denoisers.add(id(module))
            # Every layer of a VAE, so that no route (decode, tiled_decode, _decode,
            # vae.decoder(...)) turns latents into pixels outside a generation.
            parts = module.modules() if name.startswith(DECODER_NAMES) else [module]
            for part in parts:
                _attach(part, self)
        pipe.video_processor = self.proxy

    def armed_here(self) -> bool:
        """Whether a generation on the calling thread armed this guard."""
        return self._owner == threading.get_ident()

    def admits(self) -> bool:
        """Whether this thread's armed generation may run a model now."""
        return self.armed_here() and not self._in_callback

    def refusal(self) -> UnmarkedOutputError:
        """The error for a model run this guard does not admit."""
        if self.armed_here():
            return UnmarkedOutputError(
                "a step callback may observe the generation, not run the pipeline's models",
                hint="keep step callbacks to progress reporting or interrupting",
            )
        return UnmarkedOutputError(_REFUSED, hint="call ResponsibleGenerator.generate(...)")

    def check_allowed(self) -> None:
        """Raise unless a generation on this thread armed the guard (and no callback runs)."""
        if not self.admits():
            raise self.refusal()

    def note_forward(self, module: object) -> None:
        """Count a forward of one of this pipeline's denoisers."""
        if id(module) in self._denoisers:
            self.denoiser_forwards += 1

    @contextmanager
    def armed(self, mark: MarkFn) -> Iterator[None]:
        """Let this thread run the pipeline once, marking what it decodes with ``mark``.

        Raises:
            UnmarkedOutputError: Another generation holds the guard.
        """
        if self._owner is not None:
            raise UnmarkedOutputError(
                "this pipeline is already generating", hint="one generation at a time per pipeline"
            )
        self._owner = threading.get_ident()
        self.denoiser_forwards = 0
        self.proxy.arm(mark)
        try:
            yield
        finally:
            self.proxy.disarm()
            self._owner = None
            self._in_callback = False

    @contextmanager
    def in_callback(self) -> Iterator[None]:
        """Mark the duration of a user step callback (models and decoding refuse meanwhile)."""
        self._in_callback = True
        try:
            yield
        finally:
            self._in_callback = False


def guard_of(pipe: Any) -> PipelineGuard:
    """The pipeline's guard, installed on first use (wrapping a pipeline twice shares it)."""
    existing = pipe.__dict__.get("_reelproof_guard")
    if isinstance(existing, PipelineGuard):
        return existing
    guard = PipelineGuard(pipe)
    pipe.__dict__["_reelproof_guard"] = guard
    return guard


def _attach(module: Any, guard: PipelineGuard) -> None:
    """Put ``module`` behind ``guard`` (one gate per module, however many guards share it)."""
    guards: list[PipelineGuard] | None = module.__dict__.get(_GUARDS)
    if guards is None:
        guards = module.__dict__[_GUARDS] = []
        module.register_forward_pre_hook(_gate)
    if guard not in guards:
        guards.append(guard)


def _gate(module: Any, args: object) -> None:
    """Forward pre-hook: let the forward through for an admitting guard, else refuse."""
    guards: list[PipelineGuard] = module.__dict__[_GUARDS]
    for guard in guards:
        if guard.admits():
            guard.note_forward(module)
            return
    mine = next((g for g in guards if g.armed_here()), guards[0])
    raise mine.refusal()


def reset_schedulers(pipe: Any) -> None:
    """Replace every scheduler with a fresh one from its config.

    Multistep schedulers (UniPC, DPM-Solver) keep the last steps' model outputs, which are
    predictions of the clean latents: left in place they could be decoded without the mark.
    """
    from diffusers import SchedulerMixin

    components: dict[str, object] = pipe.components
    for name, component in components.items():
        if isinstance(component, SchedulerMixin):
            scheduler: Any = component  # diffusers' config mixin is untyped
            setattr(pipe, name, type(scheduler).from_config(scheduler.config))


def _modules(pipe: Any) -> Iterator[tuple[str, Any]]:
    """The pipeline's torch modules (text encoders, denoisers, VAE, control nets ...)."""
    import torch

    components: dict[str, object] = pipe.components
    for name, component in sorted(components.items()):
        if isinstance(component, torch.nn.Module):
            yield name, component


class WatermarkingVideoProcessor:
    """Proxy for a pipeline's ``video_processor`` that watermarks before any output conversion.

    A call while the guard is not armed (someone calling the wrapped pipeline directly) is
    refused, so the wrapped pipeline never hands out unmarked frames.

    Attributes:
        inner: The stock ``VideoProcessor`` everything else is delegated to.
        marked: The marked clips of the last decode, (B, F, H, W, 3) uint8, for encoding.
        seconds: Time the hook added in the last generation (conversions and marking).
    """

    def __init__(self, inner: Any, guard: PipelineGuard) -> None:
        self.inner = inner
        self._guard = guard
        self._mark: MarkFn | None = None
        self.marked: npt.NDArray[np.uint8] | None = None
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes the proxy lacks: preprocessing, config, ... stay stock.
        return getattr(self.inner, name)

    @property
    def normalised(self) -> bool:
        """Whether decoded video is in [-1, 1] (every stock video pipeline) rather than [0, 1]."""
        return bool(getattr(self.inner.config, "do_normalize", True))

    def arm(self, mark: MarkFn) -> None:
        """Mark the next decoded video with ``mark``."""
        self._mark = mark
        self.marked = None
        self.seconds = 0.0

    def disarm(self) -> None:
        """Refuse decoding again until the next :meth:`arm`."""
        self._mark = None

    def postprocess_video(self, video: torch.Tensor, output_type: str = "np", **kwargs: Any) -> Any:
        """Watermark the decoded video, then run the stock postprocessing.

        Args:
            video: Decoded video (B, C, F, H, W) float, in [-1, 1] when the processor normalises
                (every stock video pipeline) else in [0, 1].
            output_type: ``"np"``, ``"pt"`` or ``"pil"``; anything else is refused.

        Returns:
            What the stock ``postprocess_video`` returns (a diffusers output), made from marked
            pixels.
        """
        if output_type not in ("np", "pt", "pil"):
            raise UnmarkedOutputError(
                f"output_type={output_type!r} would hand out unmarked material",
                hint='ask for "np", "pt" or "pil"',
            )
        self._guard.check_allowed()
        if self._mark is None:
            raise UnmarkedOutputError(_REFUSED, hint="call ResponsibleGenerator.generate(...)")
        start = time.perf_counter()
        frames = video_to_uint8(video, self.normalised)  # (B, F, H, W, 3) uint8
        if self.marked is not None and np.array_equal(frames, self.marked):
            marked = frames  # a second pass over frames this generation already marked
        else:
            marked = np.stack([self._mark(clip) for clip in frames])
        self.marked = marked
        back = uint8_to_video(marked, self.normalised, like=video)
        self.seconds += time.perf_counter() - start
        return self.inner.postprocess_video(back, output_type=output_type, **kwargs)

    def convert(self, output_type: str) -> Any:
        """The last marked clips in another output type, through the stock postprocessing."""
        import torch

        if self.marked is None:
            raise UnmarkedOutputError("nothing was marked in this generation")
        like = torch.zeros(())
        back = uint8_to_video(self.marked, self.normalised, like=like)
        return self.inner.postprocess_video(back, output_type=output_type)


def video_to_uint8(video: torch.Tensor, normalised: bool) -> npt.NDArray[np.uint8]:
    """Decoded (B, C, F, H, W) float video -> (B, F, H, W, 3) uint8 RGB frames.

    Rounds exactly as diffusers' ``numpy_to_pil`` does, so PIL output equals these bytes.
    """
    import torch

    if video.ndim != 5 or video.shape[1] != 3:
        raise InputError(f"expected a decoded (B, 3, F, H, W) video, got {tuple(video.shape)}")
    x = video.detach().to(torch.float32).cpu()
    x01 = (x / 2 + 0.5).clamp(0, 1) if normalised else x.clamp(0, 1)
    out = (x01.permute(0, 2, 3, 4, 1).numpy() * 255).round().astype(np.uint8)
    return out


def uint8_to_video(
    frames: npt.NDArray[np.uint8], normalised: bool, like: torch.Tensor
) -> torch.Tensor:
    """(B, F, H, W, 3) uint8 -> (B, C, F, H, W) float32 video in the decoder's range and device.

    float32 even for half-precision pipelines: bf16 cannot hold k/255 exactly, and the stock
    postprocessing would then round marked pixels to other values.
    """
    import torch

    x01 = torch.from_numpy(frames.astype(np.float32) / 255.0).permute(0, 4, 1, 2, 3)
    x = x01 * 2 - 1 if normalised else x01
    return x.to(device=like.device, dtype=torch.float32)


def forget_locals(err: BaseException) -> None:
    """Drop the local variables of every finished frame in ``err``'s tracebacks (and chain).

    A traceback keeps the pipeline's frames alive, and with them its ``latents`` and decoded,
    not yet marked ``video``: a caller catching the error could read them from
    ``err.__traceback__``. Cleared frames still print their file, line and code.
    """
    seen: set[int] = set()
    stack = [err]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
