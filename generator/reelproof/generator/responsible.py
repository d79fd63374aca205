"""ResponsibleGenerator: watermarked and signed by construction over a diffusers video pipeline.

Order of one generation (the architecture's rule)::

    denoise -> vae.decode -> [hook] watermark every frame -> postprocess (np/pt/pil)
            -> encode MP4 (H.264, faststart) -> sign C2PA last -> store manifest by watermark id

The hook (:mod:`reelproof.generator.hook`) sits in the pipeline's own ``video_processor``, so every
output the caller receives — the returned frames in any output type and the saved file — is made
from marked pixels, and the saved file carries credentials whose manifest is also stored under the
watermark id (so a stripped copy can recover it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reelproof.core import ConfigError, InputError, Payload, ReelProofError, Result
from reelproof.generator.hook import UnmarkedOutputError, WatermarkingVideoProcessor
from reelproof.generator.pipelines import PipelineKind, check_request, kind_of

OUTPUT_TYPES = ("np", "pt", "pil")
DEFAULT_PRESET = "default"


@dataclass(frozen=True)
class StageTimings(Result):
    """Wall-clock seconds per stage of one generation.

    Attributes:
        generate_s: Pipeline call (text encoding, denoising, decoding, postprocessing) without
            the watermark embedding inside it.
        watermark_s: Watermark embedding inside the hook.
        encode_s: MP4 encoding.
        sign_s: C2PA signing.
        store_s: Writing the manifest to the store.
    """

    schema: ClassVar[str] = "generation_timings"

    generate_s: float
    watermark_s: float
    encode_s: float
    sign_s: float
    store_s: float

    @property
    def overhead_s(self) -> float:
        """Seconds the responsible steps add to plain generation."""
        return self.watermark_s + self.encode_s + self.sign_s + self.store_s

    @property
    def total_s(self) -> float:
        """Seconds of the whole generation."""
        return self.generate_s + self.overhead_s


@dataclass(frozen=True)
class ManifestSummary(Result):
    """What the signed manifest of a generated clip says.

    Attributes:
        title: Asset title.
        claim_generator: Software that signed (name/version).
        digital_source_type: IPTC source type of the ``c2pa.created`` action.
        model: Generating model name and version.
        weights_digest: Digest of the weights that ran.
        signer: Subject of the signing certificate.
        dev_signer: Whether the signer is a development (untrusted in production) certificate.
        ingredients: Titles of ``inputTo`` ingredients (image-to-video input image).
        watermark_id: Soft-binding value recorded in the manifest.
        sha256: Digest of the final signed file.
        signed_at: UTC signing time (not a trusted timestamp).
        manifest_bytes: Size of the embedded C2PA manifest store.
    """

    schema: ClassVar[str] = "manifest_summary"

    title: str
    claim_generator: str
    digital_source_type: str
    model: str
    weights_digest: str
    signer: str
    dev_signer: bool
    ingredients: tuple[str, ...]
    watermark_id: str
    sha256: str
    signed_at: str
    manifest_bytes: int

    def one_line(self) -> str:
        """Short human description."""
        ing = f"; input {', '.join(self.ingredients)}" if self.ingredients else ""
        source = self.digital_source_type.rsplit("/", 1)[-1]
        dev = " (dev certificate)" if self.dev_signer else ""
        return (
            f"{self.title}: {source} by {self.model}, signed by {self.signer}{dev} "
            f"via {self.claim_generator}, soft binding {self.watermark_id}{ing}"
        )


@dataclass(frozen=True)
class GenerationResult(Result):
    """One responsible generation.

    Attributes:
        path: The signed MP4.
        watermark_id: 16 hex digits carried by every frame's watermark.
        manifest: Summary of the signed manifest.
        store: Where the manifest was stored (manifest store location).
        timings: Seconds per stage.
        prompt: The prompt (``None`` for image-only pipelines).
        seed: Seed of the initial noise.
        num_frames, height, width: Clip geometry.
        fps: Frame rate of the MP4.
        output_type: Type of ``frames``.
        frames: The pipeline output made from marked pixels (np (B, F, H, W, 3) float in [0, 1],
            pt (B, F, 3, H, W) float in [0, 1], or pil nested lists). Not serialised.
    """

    schema: ClassVar[str] = "generation"

    path: Path
    watermark_id: str
    manifest: ManifestSummary
    store: str
    timings: StageTimings
    prompt: str | None
    seed: int
    num_frames: int
    height: int
    width: int
    fps: float
    output_type: str
    frames: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        # Drop the frames before serialising: they are large and not JSON material.
        body = Result.to_dict(replace(self, frames=None))
        body.pop("frames", None)
        body["path"] = str(self.path)
        body["timings"]["overhead_s"] = self.timings.overhead_s
        body["timings"]["total_s"] = self.timings.total_s
        return body


class ResponsibleGenerator:
    """Wraps a diffusers video pipeline so its outputs are watermarked and signed.

    Build it with :meth:`from_pipeline`, :meth:`from_pretrained` or :meth:`default`, then call
    :meth:`generate`. The wrapped pipeline's ``video_processor`` is replaced by a watermarking
    proxy; calling the pipeline directly afterwards is refused at decode time.
    """

    def __init__(
        self,
        pipe: Any,
        watermarker: Any,
        signer: Any,
        store: Any,
        model_name: str | None = None,
        model_version: str = "0",
        weights_digest: str | None = None,
    ) -> None:
        class_name = type(pipe).__name__
        self.kind: PipelineKind = kind_of(class_name)
        processor = getattr(pipe, "video_processor", None)
        if processor is None or not hasattr(processor, "postprocess_video"):
            raise ConfigError(
                f"{class_name} has no video_processor.postprocess_video to hook the watermark into",
                hint="use a stock diffusers video pipeline",
            )
        if not isinstance(processor, WatermarkingVideoProcessor):
            processor = WatermarkingVideoProcessor(processor)
            pipe.video_processor = processor
        self.pipe = pipe
        self.proxy: WatermarkingVideoProcessor = processor
        self.watermarker = watermarker
        self.signer = signer
        self.store = store
        self.model_name = model_name or class_name
        self.model_version = model_version
        self.weights_digest = weights_digest or _weights_digest(pipe)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_pipeline(
        cls,
        pipe: Any,
        watermarker: Any = None,
        signer: Any = None,
        store: Any = None,
        **kwargs: Any,
    ) -> ResponsibleGenerator:
        """Wrap an already built pipeline.

        Args:
            pipe: A diffusers video pipeline of a supported class
                (:data:`reelproof.generator.pipelines.SUPPORTED_PIPELINES`).
            watermarker: A ``reelproof.watermark`` watermarker; the default key's rp-ss if None.
            signer: A ``reelproof.provenance`` signer; the dev PKI's if None.
            store: A manifest store; the default SQLite store if None.
            **kwargs: ``model_name``, ``model_version``, ``weights_digest``.

        Raises:
            UnknownNameError: The pipeline class is not supported.
        """
        kind_of(type(pipe).__name__)  # fail on an unknown class before building anything
        watermarker, signer, store = _default_parts(watermarker, signer, store)
        return cls(pipe, watermarker, signer, store, **kwargs)

    @classmethod
    def from_pretrained(
        cls,
        local_dir_or_preset: str | os.PathLike[str] = DEFAULT_PRESET,
        watermarker: Any = None,
        signer: Any = None,
        store: Any = None,
        torch_dtype: Any = None,
        enable_vae_tiling: bool = False,
    ) -> ResponsibleGenerator:
        """Load a local diffusers folder (or the embedded default) and wrap it.

        Args:
            local_dir_or_preset: ``"default"`` for the embedded model, a folder written by
                ``reelproof generator train``, or any diffusers pipeline folder of a supported
                class (e.g. a local copy of Wan2.1-T2V-1.3B-Diffusers). Nothing is downloaded.
            watermarker, signer, store: As in :meth:`from_pipeline`.
            torch_dtype: dtype to load diffusers folders in (e.g. ``torch.bfloat16``).
            enable_vae_tiling: Decode in tiles (and slices) to bound memory on large clips.

        Raises:
            ConfigError: Missing folder, not a model folder, or unsupported pipeline class.
        """
        from reelproof.generator import loading

        loaded = loading.load_local(local_dir_or_preset, torch_dtype=torch_dtype)
        if enable_vae_tiling and hasattr(loaded.pipe, "vae"):
            for method in ("enable_tiling", "enable_slicing"):
                if hasattr(loaded.pipe.vae, method):
                    getattr(loaded.pipe.vae, method)()
        watermarker, signer, store = _default_parts(watermarker, signer, store)
        return cls(
            loaded.pipe, watermarker, signer, store,
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
        num_frames: int = 16,
        height: int = 128,
        width: int = 128,
        num_inference_steps: int = 20,
        seed: int | None = None,
        output_type: str = "np",
        fps: float | None = None,
        guidance_scale: float | None = None,
        show_progress: bool = False,
        overwrite: bool = False,
        **pipe_kwargs: Any,
    ) -> GenerationResult:
        """Generate one clip, watermark it, encode it, sign it and store its manifest.

        Args:
            prompt: Text prompt (``None`` for image-only pipelines such as SVD).
            output: Destination ``.mp4``; written atomically, only once signed.
            image: Input image file for image-to-video pipelines (recorded as an ingredient).
            num_frames, height, width: Clip geometry (checked against the pipeline first).
            num_inference_steps: Denoising steps.
            seed: Seed of the initial noise; a random one (reported) if None.
            output_type: Type of ``GenerationResult.frames``: ``"np"``, ``"pt"`` or ``"pil"``.
                ``"latent"`` is refused: it would be unmarked material.
            fps: Frame rate of the MP4; the model family's rate if None.
            guidance_scale: Classifier-free guidance scale; the pipeline's default if None.
            show_progress: Show diffusers' progress bar over denoising steps.
            overwrite: Replace an existing output file.
            **pipe_kwargs: Further pipeline arguments (``negative_prompt``, ...).

        Returns:
            The :class:`GenerationResult`.

        Raises:
            UnmarkedOutputError: ``output_type="latent"``.
            InputError: Bad prompt, image, sizes or output path (before any compute).
        """
        out_path = Path(output)
        image_path = Path(image) if image is not None else None
        self._check(prompt, image_path, out_path, output_type, overwrite, pipe_kwargs)
        check_request(self.kind, prompt, image_path is not None, num_frames, height, width,
                      num_inference_steps)  # fmt: skip
        self._check_watermarkable(height, width)
        early = getattr(self.pipe, "check_inputs_early", None)
        if early is not None and prompt is not None:
            early(prompt, num_frames, height, width)
        pil_image = _load_image(image_path) if image_path is not None else None

        import torch

        seed = int.from_bytes(os.urandom(4), "big") if seed is None else int(seed)
        payload = Payload.random(64)
        watermark_id = payload.to_hex()
        call: dict[str, Any] = {
            "num_frames": num_frames,
            "height": height,
            "width": width,
            "num_inference_steps": num_inference_steps,
            "generator": torch.Generator(device="cpu").manual_seed(seed),
            "output_type": output_type,
            **pipe_kwargs,
        }
        if self.kind.takes_prompt and prompt is not None:
            call["prompt"] = prompt
        if pil_image is not None:
            call["image"] = pil_image
        if guidance_scale is not None:
            call["guidance_scale"] = guidance_scale
        self.pipe.set_progress_bar_config(disable=not show_progress, desc="denoising")

        from reelproof.generator.signing import HEADROOM_LUT

        mark_seconds = [0.0]

        def mark(clip: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
            t = time.perf_counter()
            room = np.take(HEADROOM_LUT, clip)  # saturated pixels would clip half of the mark
            marked = np.asarray(self.watermarker.embed(room, payload))
            mark_seconds[0] += time.perf_counter() - t
            return marked.astype(np.uint8, copy=False)

        t0 = time.perf_counter()
        with self._armed(mark):
            output_obj = self.pipe(**call)
        pipe_s = time.perf_counter() - t0
        frames_out = output_obj.frames if hasattr(output_obj, "frames") else output_obj[0]
        marked = self.proxy.marked
        if marked is None or marked.shape[0] != 1:
            raise ReelProofError(
                "the pipeline did not decode exactly one clip through the watermark hook",
                hint="generate one clip per call (num_videos_per_prompt=1)",
            )
        clip = marked[0]  # (F, H, W, 3) uint8, marked
        rate = Fraction(fps if fps is not None else self.kind.fps).limit_denominator(1001)

        from reelproof.generator import signing

        t1 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=".reelproof-gen-", dir=out_path.parent) as tmp:
            encoded = Path(tmp) / "unsigned.mp4"
            signing.encode_mp4(clip, encoded, rate)
            t2 = time.perf_counter()
            spec_args = signing.SpecArgs(
                title=out_path.name,
                model_name=self.model_name,
                model_version=self.model_version,
                weights_digest=self.weights_digest,
                prompt=prompt,
                watermark_id=watermark_id,
                input_image=image_path,
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
            generate_s=pipe_s - mark_seconds[0],
            watermark_s=mark_seconds[0],
            encode_s=t2 - t1,
            sign_s=t3 - t2,
            store_s=t4 - t3,
        )
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

    def __call__(self, prompt: str | None, output: str | os.PathLike[str], **kwargs: Any) -> Any:
        """Alias of :meth:`generate`."""
        return self.generate(prompt, output, **kwargs)

    # ------------------------------------------------------------------ helpers

    @contextmanager
    def _armed(
        self, mark: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]
    ) -> Iterator[None]:
        self.proxy.arm(mark)
        try:
            yield
        finally:
            self.proxy.disarm()

    def _check_watermarkable(self, height: int, width: int) -> None:
        """Refuse frames too small for the watermark before spending compute on them."""
        side = self.watermarker.min_side
        if min(height, width) < side:
            raise InputError(
                f"{width}x{height} is smaller than the watermark's minimum tile of {side} px a side",
                hint=f"generate at least {side}x{side}",
            )

    def _check(
        self,
        prompt: str | None,
        image: Path | None,
        out_path: Path,
        output_type: str,
        overwrite: bool,
        pipe_kwargs: dict[str, Any],
    ) -> None:
        if output_type == "latent":
            raise UnmarkedOutputError(
                'output_type="latent" would hand out unmarked material',
                hint='ask for "np", "pt" or "pil"; the MP4 is always written',
            )
        if output_type not in OUTPUT_TYPES:
            raise InputError(f"unknown output_type {output_type!r}", hint="use np, pt or pil")
        for forbidden in ("latents", "return_dict", "num_videos_per_prompt", "prompt_embeds"):
            if forbidden in pipe_kwargs:
                raise InputError(
                    f"{forbidden} cannot be passed through the responsible wrapper",
                    hint="the wrapper makes exactly one clip per call from its own noise",
                )
        if prompt is not None and not isinstance(prompt, str):
            raise InputError("the prompt must be a string")
        if out_path.suffix.lower() != ".mp4":
            raise InputError(f"output {out_path} must end in .mp4", hint="e.g. -o out.mp4")
        if not out_path.parent.is_dir():
            raise InputError(f"folder {out_path.parent} does not exist", hint="create it first")
        if out_path.exists() and not overwrite:
            raise InputError(f"{out_path} already exists", hint="choose another name or overwrite")
        if image is not None and not image.is_file():
            raise InputError(f"input image {image} does not exist")


def _default_parts(watermarker: Any, signer: Any, store: Any) -> tuple[Any, Any, Any]:
    """Fill in the default watermarker, dev signer and default manifest store."""
    from reelproof.generator import signing

    if watermarker is None:
        watermarker = signing.default_watermarker()
    if signer is None:
        signer = signing.default_signer()
    if store is None:
        store = signing.default_store()
    return watermarker, signer, store


def _load_image(path: Path) -> Any:
    """Open an input image as RGB PIL (pipelines resize it themselves)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError) as err:
        raise InputError(
            f"cannot read input image {path}: {err}", hint="give a PNG or JPEG"
        ) from err


def _weights_digest(pipe: Any) -> str:
    """``sha256:`` over the pipeline's parameters (names, shapes and bytes), in a fixed order."""
    digest = hashlib.sha256()
    components = getattr(pipe, "components", {}) or {}
    for name in sorted(components):
        module = components[name]
        state = getattr(module, "state_dict", None)
        if state is None:
            continue
        for key, tensor in sorted(state().items()):
            digest.update(f"{name}.{key}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=_u8()).numpy())
    return f"sha256:{digest.hexdigest()}"


def _u8() -> Any:
    import torch

    return torch.uint8
