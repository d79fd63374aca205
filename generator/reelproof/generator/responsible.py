"""ResponsibleGenerator: watermarked and signed by construction over a diffusers video pipeline.

Order of one generation (the architecture's rule)::

    denoise -> vae.decode -> [hook] watermark every frame -> postprocess (np)
            -> encode MP4 (H.264, faststart) -> sign C2PA last -> store manifest by watermark id

The hook (:mod:`reelproof.generator.hook`) sits in the pipeline's own ``video_processor``, so every
output the caller receives (the returned frames in any output type and the saved file) is made
from marked pixels, and the saved file carries credentials whose manifest is also stored under the
watermark id (so a stripped copy can recover it). Any diffusers pipeline that decodes through
``video_processor.postprocess_video`` is accepted (:mod:`reelproof.generator.pipelines`).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from reelproof.core import InputError, Payload, ReelProofError
from reelproof.generator import calls, pipelines
from reelproof.generator.callbacks import StepCallback, step_callback_arguments
from reelproof.generator.hook import (
    MarkFn,
    WatermarkingVideoProcessor,
    forget_locals,
    guard_of,
    reset_schedulers,
)
from reelproof.generator.inputs import MediaFile, ingredients_of, load_media, media_files
from reelproof.generator.loading import parameters_digest
from reelproof.generator.results import GenerationResult, StageTimings

if TYPE_CHECKING:
    import torch

    from reelproof.generator.loading import MemoryOptions
    from reelproof.generator.seams import ManifestStore, Signer, Watermarker

DEFAULT_PRESET = "default"


class ResponsibleGenerator:
    """Wraps a diffusers video pipeline so its outputs are watermarked and signed.

    Build it with :meth:`from_pipeline`, :meth:`from_pretrained` or :meth:`default`, then call
    :meth:`generate`. The wrapped pipeline's ``video_processor`` is replaced by a watermarking
    proxy and its models refuse to run outside :meth:`generate`.

    Attributes:
        pipe: The wrapped diffusers pipeline.
        profile: How its class is called (read from its signature).
        geometry: Sizes it accepts (from its VAE's compression).
    """

    def __init__(
        self,
        pipe: Any,
        watermarker: Watermarker,
        signer: Signer,
        store: ManifestStore,
        model_name: str | None = None,
        model_version: str = "0",
        weights_digest: str | None = None,
    ) -> None:
        self.profile = pipelines.profile(type(pipe))
        processor = getattr(pipe, "video_processor", None)
        if not callable(getattr(processor, "postprocess_video", None)):
            raise pipelines.UnmarkablePipelineError(
                f"{self.profile.class_name} has no video_processor.postprocess_video to hook "
                "the watermark into",
                hint="use a stock diffusers video pipeline",
            )
        self.pipe = pipe
        self.guard = guard_of(pipe)
        self.geometry = pipelines.geometry_of(pipe)
        self.watermarker = watermarker
        self.signer = signer
        self.store = store
        self.model_name = model_name or self.profile.class_name
        self.model_version = model_version
        self.weights_digest = weights_digest or parameters_digest(pipe)
        self._lock = threading.Lock()

    @property
    def proxy(self) -> WatermarkingVideoProcessor:
        """The watermarking ``video_processor`` installed in the pipeline."""
        return self.guard.proxy

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pipeline(
        cls,
        pipe: Any,
        watermarker: Watermarker | None = None,
        signer: Signer | None = None,
        store: ManifestStore | None = None,
        *,
        model_name: str | None = None,
        model_version: str = "0",
        weights_digest: str | None = None,
    ) -> ResponsibleGenerator:
        """Wrap an already built pipeline.

        Args:
            pipe: A diffusers video pipeline (any class that decodes through
                ``video_processor.postprocess_video``).
            watermarker: A ``reelproof.watermark`` watermarker; the default key's rp-ss if None.
            signer: A ``reelproof.provenance`` signer; the dev PKI's if None.
            store: A manifest store; the default SQLite store if None.
            model_name, model_version, weights_digest: How the manifest names the model.

        Raises:
            UnmarkablePipelineError: The pipeline cannot be marked (checked before anything
                else is built).
        """
        from reelproof.generator.signing import default_seams

        pipelines.profile(type(pipe))  # refuse an unmarkable class before building anything
        parts = default_seams(watermarker, signer, store)
        return cls(
            pipe, *parts, model_name=model_name, model_version=model_version,
            weights_digest=weights_digest,
        )  # fmt: skip

    @classmethod
    def from_pretrained(
        cls,
        local_dir_or_preset: str | os.PathLike[str] = DEFAULT_PRESET,
        watermarker: Watermarker | None = None,
        signer: Signer | None = None,
        store: ManifestStore | None = None,
        torch_dtype: torch.dtype | None = None,
        enable_vae_tiling: bool = False,
        memory: MemoryOptions | None = None,
    ) -> ResponsibleGenerator:
        """Load a local diffusers folder (or the embedded default) and wrap it.

        Args:
            local_dir_or_preset: ``"default"`` for the embedded model, a folder written by
                ``reelproof generator train``, or any local diffusers video pipeline folder
                (e.g. a copy of Wan2.1-T2V-1.3B-Diffusers). Nothing is downloaded.
            watermarker, signer, store: As in :meth:`from_pipeline`.
            torch_dtype: dtype to load diffusers folders in (e.g. ``torch.bfloat16``).
            enable_vae_tiling: Decode in tiles and slices (same as ``memory.vae_tiling``).
            memory: Memory options (VAE tiling, CPU offload, device); see
                :class:`~reelproof.generator.loading.MemoryOptions`.

        Raises:
            ConfigError: Missing folder, not a model folder, or a pipeline that cannot be marked.
        """
        from reelproof.generator import loading
        from reelproof.generator.signing import default_seams

        options = memory or loading.MemoryOptions()
        if enable_vae_tiling:
            options = loading.MemoryOptions(True, options.cpu_offload, options.device)
        loaded = loading.load_local(local_dir_or_preset, torch_dtype=torch_dtype)
        loading.apply_memory_options(loaded.pipe, options)
        return cls(
            loaded.pipe, *default_seams(watermarker, signer, store),
            model_name=loaded.name, model_version=loaded.version,
            weights_digest=loaded.weights_digest,
        )  # fmt: skip

    @classmethod
    def default(cls) -> ResponsibleGenerator:
        """The embedded default model with the default key, dev signer and manifest store."""
        return cls.from_pretrained(DEFAULT_PRESET)

    # ------------------------------------------------------------------ generation

    def generate(
        self,
        prompt: str | None,
        output: str | os.PathLike[str],
        *,
        image: str | os.PathLike[str] | None = None,
        video: str | os.PathLike[str] | None = None,
        last_image: str | os.PathLike[str] | None = None,
        inputs: Mapping[str, str | os.PathLike[str]] | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        num_inference_steps: int | None = None,
        seed: int | None = None,
        output_type: str = "np",
        fps: float | None = None,
        guidance_scale: float | None = None,
        callback_on_step_end: StepCallback | None = None,
        show_progress: bool = False,
        overwrite: bool = False,
        **pipe_kwargs: object,
    ) -> GenerationResult:
        """Generate one clip, watermark it, encode it, sign it and store its manifest.

        Args:
            prompt: Text prompt (``None`` for pipelines conditioned on their inputs only).
            output: Destination ``.mp4``; written atomically, only once signed.
            image: Input image file (image-to-video, first frame); an ``inputTo`` ingredient.
            video: Input clip file (video-to-video, control); ``parentOf`` when it carries its
                own C2PA manifest, else ``inputTo``.
            last_image: Last-frame image file (first-last-frame pipelines).
            inputs: Further media files by the pipeline's argument name (``{"mask": ...}``).
            num_frames, height, width: Clip geometry (checked against the pipeline first);
                ``None`` for the pipeline's default.
            num_inference_steps: Denoising steps; the pipeline's default if None.
            seed: Seed of the initial noise; a random one (reported) if None.
            output_type: Type of ``GenerationResult.frames``: ``"np"``, ``"pt"`` or ``"pil"``.
                ``"latent"`` is refused: it would be unmarked material.
            fps: Frame rate of the MP4; the model family's rate if None.
            guidance_scale: Classifier-free guidance scale; the pipeline's default if None.
            callback_on_step_end: Called as ``callback(view, step, timestep, {})`` after each
                step (see :mod:`reelproof.generator.callbacks`); never receives tensors.
            show_progress: Show diffusers' progress bar over denoising steps.
            overwrite: Replace an existing output file.
            **pipe_kwargs: Further pipeline arguments (``negative_prompt``, ...).

        Returns:
            The :class:`GenerationResult`.

        Raises:
            UnmarkedOutputError: ``output_type="latent"``, tensors asked for by a callback, or a
                pipeline whose output did not come out of the watermark hook.
            InputError: Bad prompt, inputs, sizes or output path (before any compute).
        """
        out_path = Path(output)
        files = media_files(image, video, last_image, inputs, self.profile)
        calls.check_output_path(out_path, overwrite)
        calls.check_arguments(self.profile, output_type, pipe_kwargs, callback_on_step_end)
        request = pipelines.Request(
            prompt, frozenset(files), num_frames, height, width, num_inference_steps
        )
        pipelines.check_request(self.profile, self.geometry, request)
        self._check_watermarkable(height, width)
        early = getattr(self.pipe, "check_inputs_early", None)
        if callable(early) and prompt is not None:
            early(prompt, *self._effective_geometry(num_frames, height, width))
        media = load_media(files)

        seed = int.from_bytes(os.urandom(4), "big") if seed is None else int(seed)
        payload = Payload.random(64)
        call = calls.call_arguments(self.profile, request, media, seed, guidance_scale, pipe_kwargs)
        call.update(step_callback_arguments(callback_on_step_end, self.guard))
        self.pipe.set_progress_bar_config(disable=not show_progress, desc="denoising")

        with self._lock:
            frames_out, clip, pipe_s, mark_s = self._run(call, payload, output_type)
        rate = Fraction(fps if fps is not None else self.profile.fps).limit_denominator(1001)
        return self._finish(out_path, clip, rate, payload, prompt, seed, media, output_type,
                            frames_out, pipe_s, mark_s)  # fmt: skip

    def __call__(
        self, prompt: str | None, output: str | os.PathLike[str], **kwargs: Any
    ) -> GenerationResult:
        """Alias of :meth:`generate`."""
        return self.generate(prompt, output, **kwargs)

    # ------------------------------------------------------------------ steps

    def _run(
        self, call: dict[str, object], payload: Payload, output_type: str
    ) -> tuple[object, npt.NDArray[np.uint8], float, float]:
        """Run the pipeline once with the hook armed; returns (frames in ``output_type``, the
        marked clip (F, H, W, 3) uint8, pipeline seconds, watermark seconds)."""
        from reelproof.generator.signing import HEADROOM_LUT

        mark_seconds = [0.0]

        def mark(clip: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
            t = time.perf_counter()
            room = np.take(HEADROOM_LUT, clip)  # saturated pixels would clip half of the mark
            marked = np.asarray(self.watermarker.embed(room, payload))
            mark_seconds[0] += time.perf_counter() - t
            return marked.astype(np.uint8, copy=False)

        t0 = time.perf_counter()
        output = self._call_pipeline(call, mark)
        pipe_s = time.perf_counter() - t0
        marked = self.guard.proxy.marked
        returned = output.frames if hasattr(output, "frames") else output[0]
        clip = calls.check_output_is_marked(self.profile.class_name, returned, marked)
        frames = returned if output_type == "np" else self.guard.proxy.convert(output_type)
        return frames, clip, pipe_s, mark_seconds[0]

    def _call_pipeline(self, call: dict[str, object], mark: MarkFn) -> Any:
        """The pipeline call, armed; an error leaves no pipeline state (latents) behind."""
        try:
            with self.guard.armed(mark):
                return self.pipe(**call)
        except BaseException as err:
            forget_locals(err)  # the traceback would keep the latents and unmarked frames
            refused = isinstance(err, ValueError | TypeError) and not isinstance(
                err, ReelProofError
            )
            if refused and self.guard.denoiser_forwards == 0:
                raise InputError(
                    f"{self.profile.class_name} refused the request: {err}",
                    hint="check the inputs and arguments this pipeline needs",
                ) from err
            raise
        finally:
            reset_schedulers(self.pipe)  # schedulers keep the last steps' predictions

    def _finish(
        self,
        out_path: Path,
        clip: npt.NDArray[np.uint8],
        rate: Fraction,
        payload: Payload,
        prompt: str | None,
        seed: int,
        media: list[MediaFile],
        output_type: str,
        frames_out: object,
        pipe_s: float,
        mark_s: float,
    ) -> GenerationResult:
        """Encode, sign (last write) and store the marked clip; remove the file on failure."""
        from reelproof.generator import signing

        watermark_id = payload.to_hex()
        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=".reelproof-gen-", dir=out_path.parent) as tmp:
            encoded = signing.encode_mp4(clip, Path(tmp) / "unsigned.mp4", rate)
            t2 = time.perf_counter()
            spec_args = signing.SpecArgs(
                title=out_path.name,
                model_name=self.model_name,
                model_version=self.model_version,
                weights_digest=self.weights_digest,
                prompt=prompt,
                watermark_id=watermark_id,
                ingredients=ingredients_of(media),
            )
            signed = signing.sign_file(encoded, out_path, spec_args, self.signer)
            t3 = time.perf_counter()
            try:
                location = signing.store_manifest(self.store, watermark_id, clip, rate, signed)
            except BaseException:
                out_path.unlink(missing_ok=True)  # no signed file without its stored manifest
                raise
            t4 = time.perf_counter()
        timings = StageTimings(
            generate_s=pipe_s - mark_s, watermark_s=mark_s, encode_s=t2 - t1, sign_s=t3 - t2,
            store_s=t4 - t3,
        )  # fmt: skip
        return GenerationResult(
            path=out_path,
            watermark_id=watermark_id,
            manifest=signing.summarise(signed, spec_args, self.signer),
            store=location,
            timings=timings,
            prompt=prompt,
            seed=seed,
            num_frames=int(clip.shape[0]),
            height=int(clip.shape[1]),
            width=int(clip.shape[2]),
            fps=float(rate),
            output_type=output_type,
            frames=frames_out,
        )

    # ------------------------------------------------------------------ checks

    def _effective_geometry(
        self, num_frames: int | None, height: int | None, width: int | None
    ) -> tuple[int, int, int]:
        """Requested geometry with the pipeline's own defaults filled in (for early checks)."""
        defaults = self.profile.defaults
        return (
            num_frames if num_frames is not None else defaults.get("num_frames", 1),
            height if height is not None else defaults.get("height", 0),
            width if width is not None else defaults.get("width", 0),
        )

    def _check_watermarkable(self, height: int | None, width: int | None) -> None:
        """Refuse frames too small for the watermark before spending compute on them."""
        _, h, w = self._effective_geometry(None, height, width)
        side = self.watermarker.min_side
        if 0 < min(h, w) < side:
            raise InputError(
                f"{w}x{h} is too small for the watermark (at least {side} px a side)",
                hint=f"generate at least {side}x{side}",
            )
