"""The embedded default model: a tiny text-to-video flow-matching model built from diffusers parts.

Components (all stock classes, small configs built in code, nothing downloaded):

- ``WordTokenizer``: a word-level tokenizer over the closed prompt vocabulary of
  :mod:`reelproof.generator.scenes`.
- ``transformers.UMT5EncoderModel`` (tiny config): the text encoder, trained from scratch.
- The denoiser, in **pixel space** at ``native_size`` x ``native_size`` (32x32), patch
  (2, 4, 4), tiny config: ``diffusers.HunyuanVideoTransformer3DModel`` for new models (the
  pooled prompt also modulates every block), ``diffusers.WanTransformer3DModel`` for the first
  shipped weights. Either may read three extra coordinate channels (``TinyVidConfig.coords``).
- ``diffusers.FlowMatchEulerDiscreteScheduler``: rectified-flow sampling.

"Decoding" is a bilinear upsample of the 32x32 pixel clip to the requested size (128x128 by
default): the model does not synthesise detail above 32x32. It then goes through the same
``video_processor.postprocess_video`` hook as every diffusers video pipeline, so the responsible
wrapper watermarks it exactly like a latent-diffusion pipeline's decoded output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import (
    DiffusionPipeline,
    FlowMatchEulerDiscreteScheduler,
    HunyuanVideoTransformer3DModel,
    WanTransformer3DModel,
)
from diffusers.pipelines.wan.pipeline_output import WanPipelineOutput
from diffusers.video_processor import VideoProcessor
from transformers import UMT5EncoderModel

from reelproof.core import ConfigError, InputError
from reelproof.generator import scenes
from reelproof.generator.tinyvid_text import (
    PAD,
    UNK,
    TextStates,
    WordTokenizer,
    build_text_encoder,
    encode_text,
    load_text_encoder_quietly,
)

MARKER_FILE = "reelproof_tinyvid.json"


@dataclass(frozen=True)
class TinyVidConfig:
    """Architecture of the default model.

    Attributes:
        native_size: Side of the square pixel grid the transformer denoises.
        native_frames: Clip length the model is trained on.
        max_tokens: Longest prompt, in words.
        text_dim: Text encoder width.
        text_layers: Text encoder depth.
        heads: Transformer attention heads.
        head_dim: Width of one head.
        layers: Transformer blocks.
        ffn_dim: Transformer feed-forward width.
        patch: Transformer patch (frames, height, width).
        vocab: Word list; index 0 is padding, 1 unknown.
        prediction: What the transformer outputs: ``"x"``, the clean clip (x-prediction, as
            in Li & He 2025, "Back to Basics: Let Denoising Generative Models Denoise"; the
            pipeline turns it into the flow velocity), or ``"v"``, the velocity
            ``noise - x0`` itself (the first shipped weights). A small pixel-space transformer
            must otherwise pass the input noise through its narrow tokens to its output, and
            that error swamps the part of the target that depends on the prompt.
        denoiser: Transformer class: ``"hunyuan"`` (``HunyuanVideoTransformer3DModel``; ``layers``
            split evenly into dual-stream and single-stream blocks, ``ffn_dim`` sets the MLP
            ratio) or ``"wan"`` (``WanTransformer3DModel``, the first shipped weights). Hunyuan
            adds the mean-pooled prompt to the timestep embedding, so the prompt scales and
            shifts every block's activations (adaLN); Wan reads it only through
            cross-attention, which a model this small did not learn to use on a CPU budget
            (DiT, Peebles & Xie 2023, found the same ranking for class conditioning).
        coords: Whether the transformer also reads three fixed coordinate channels (frame
            index, row, column; CoordConv, Liu et al. 2018). Wan's only position signal is
            RoPE inside self-attention, which is relative: from noise alone a token cannot tell
            where in the frame or clip it is, yet "moving left" fixes where the object must
            be at each frame. Checkpoints written before the field existed have none.
    """

    native_size: int = 32
    native_frames: int = 16
    max_tokens: int = 16
    text_dim: int = 64
    text_layers: int = 2
    heads: int = 4
    head_dim: int = 32
    layers: int = 4
    ffn_dim: int = 256
    patch: tuple[int, int, int] = (2, 4, 4)
    vocab: tuple[str, ...] = (PAD, UNK, *scenes.vocabulary())
    prediction: str = "x"
    denoiser: str = "hunyuan"
    coords: bool = True


# Noise level below which an x-prediction is no longer divided by sigma to give a velocity: the
# division would amplify the prediction's error without bound (the same clamp as Li & He).
MIN_VELOCITY_SIGMA = 0.05


COORD_CHANNELS = 3


def coordinate_grid(shape: torch.Size, cfg: TinyVidConfig) -> torch.Tensor:
    """Fixed coordinate channels (B, 3, F, S, S) for a clip of ``shape`` (B, C, F, S, S).

    Frame index, row and column, each scaled so the trained clip spans [-1, 1]; longer clips
    than ``cfg.native_frames`` run past 1 rather than squeezing time.
    """
    b, _, f, h, w = shape
    t = torch.arange(f, dtype=torch.float32) * (2.0 / max(cfg.native_frames - 1, 1)) - 1.0
    y = torch.linspace(-1.0, 1.0, h)
    x = torch.linspace(-1.0, 1.0, w)
    grid = torch.stack(torch.meshgrid(t, y, x, indexing="ij"))  # (3, F, S, S)
    return grid.unsqueeze(0).expand(b, -1, -1, -1, -1)


def transformer_input(noisy: torch.Tensor, cfg: TinyVidConfig) -> torch.Tensor:
    """What the transformer reads: the noisy clip, plus coordinate channels if configured."""
    if not cfg.coords:
        return noisy
    return torch.cat([noisy, coordinate_grid(noisy.shape, cfg).to(noisy)], dim=1)


def velocity(
    output: torch.Tensor, noisy: torch.Tensor, sigma: torch.Tensor, cfg: TinyVidConfig
) -> torch.Tensor:
    """Flow velocity ``noise - x0`` from the transformer's output.

    Args:
        output: transformer output, (B, 3, F, S, S).
        noisy: its input ``(1 - sigma) x0 + sigma noise``, same shape.
        sigma: noise level per clip, (B,) or a scalar tensor.
        cfg: the model's config (``prediction`` says what ``output`` is).
    """
    if cfg.prediction == "v":
        return output
    s = sigma.reshape(-1, *([1] * (noisy.ndim - 1))).clamp_min(MIN_VELOCITY_SIGMA)
    return (noisy - output) / s


def check_prompt_and_size(
    cfg: TinyVidConfig, prompt: str, num_frames: int, height: int, width: int
) -> None:
    """Validate a request against a default-model config; needs no weights.

    Raises:
        InputError: Empty prompt, unknown or too many words, or a size the model cannot produce.
    """
    if not prompt.strip():
        raise InputError("the prompt is empty", hint="describe the clip to generate")
    WordTokenizer(cfg.vocab, cfg.max_tokens).check(prompt)
    n = cfg.native_size
    for name, value in (("height", height), ("width", width)):
        if value % n or not n <= value <= 16 * n:
            raise InputError(
                f"{name} {value} is not a size the default model can produce",
                hint=f"use a multiple of {n} between {n} and {16 * n} (default 128)",
            )
    pt = cfg.patch[0]
    if num_frames % pt or not pt <= num_frames <= 64:
        raise InputError(
            f"{num_frames} frames is not a length the default model can produce",
            hint=f"use a multiple of {pt} between {pt} and 64 (trained on 16)",
        )


def config_in_folder(folder: Path) -> TinyVidConfig:
    """The :class:`TinyVidConfig` recorded in a checkpoint's marker file (no weights read)."""
    body = json.loads((folder / MARKER_FILE).read_text())["config"]
    body["patch"] = tuple(body["patch"])
    body["vocab"] = tuple(body["vocab"])
    body.setdefault("prediction", "v")  # written before the field existed: velocity models
    body.setdefault("coords", False)  # likewise: no coordinate channels
    body.setdefault("denoiser", "wan")  # likewise: the Wan transformer
    return TinyVidConfig(**body)


Denoiser = WanTransformer3DModel | HunyuanVideoTransformer3DModel
DENOISERS: dict[str, type[Denoiser]] = {
    "wan": WanTransformer3DModel,
    "hunyuan": HunyuanVideoTransformer3DModel,
}


def denoiser_class(name: str) -> type[Denoiser]:
    """The transformer class a config's ``denoiser`` names.

    Raises:
        ConfigError: The name is not one of :data:`DENOISERS`.
    """
    if name not in DENOISERS:
        raise ConfigError(
            f"unknown default-model denoiser {name!r}", hint=f"use one of: {', '.join(DENOISERS)}"
        )
    return DENOISERS[name]


def build_transformer(cfg: TinyVidConfig) -> Denoiser:
    """A tiny randomly initialised transformer denoising RGB pixels for ``cfg``."""
    in_channels = 3 + (COORD_CHANNELS if cfg.coords else 0)
    if denoiser_class(cfg.denoiser) is WanTransformer3DModel:
        return WanTransformer3DModel(  # type: ignore[no-untyped-call]
            patch_size=cfg.patch,
            num_attention_heads=cfg.heads,
            attention_head_dim=cfg.head_dim,
            in_channels=in_channels,
            out_channels=3,
            text_dim=cfg.text_dim,
            freq_dim=64,
            ffn_dim=cfg.ffn_dim,
            num_layers=cfg.layers,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=64,
        )
    pt, ph, pw = cfg.patch
    if ph != pw:
        raise ConfigError(f"the Hunyuan denoiser needs a square patch, not {ph}x{pw}")
    t_axis, hw_axis = _rope_split(cfg.head_dim)
    return HunyuanVideoTransformer3DModel(  # type: ignore[no-untyped-call]
        in_channels=in_channels,
        out_channels=3,
        num_attention_heads=cfg.heads,
        attention_head_dim=cfg.head_dim,
        num_layers=cfg.layers // 2,
        num_single_layers=cfg.layers - cfg.layers // 2,
        num_refiner_layers=1,
        mlp_ratio=cfg.ffn_dim / (cfg.heads * cfg.head_dim),
        patch_size=ph,
        patch_size_t=pt,
        guidance_embeds=False,
        text_embed_dim=cfg.text_dim,
        pooled_projection_dim=cfg.text_dim,
        rope_axes_dim=(t_axis, hw_axis, cfg.head_dim - t_axis - hw_axis),
    )


def _rope_split(head_dim: int) -> tuple[int, int]:
    """Rotary widths for (frames, rows); columns get the rest. Each part must be even."""
    if head_dim % 2 or head_dim < 8:
        raise ConfigError(
            f"head_dim {head_dim} cannot be split into even rotary parts for frames, rows "
            "and columns",
            hint="use an even head width of at least 8, e.g. 32",
        )
    t_axis = 2 * (head_dim // 8)  # about a quarter of each head for time
    if (head_dim - t_axis) % 4:  # rows and columns share the rest evenly
        t_axis += 2
    return t_axis, (head_dim - t_axis) // 2


def build_scheduler() -> FlowMatchEulerDiscreteScheduler:
    """The sampler the model was trained for (rectified flow, no timestep shift)."""
    return FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)  # type: ignore[no-untyped-call]


def denoise(
    transformer: Denoiser,
    noisy: torch.Tensor,
    sigma: torch.Tensor,
    text: TextStates,
    cfg: TinyVidConfig,
) -> torch.Tensor:
    """The transformer's raw output for a noisy clip (B, 3, F, S, S) at noise levels ``sigma``.

    ``sigma`` is (B,) in [0, 1]; the transformers take ``1000 * sigma`` as their timestep, the
    convention of ``FlowMatchEulerDiscreteScheduler``.
    """
    hidden = transformer_input(noisy, cfg)
    timestep = sigma * 1000.0
    if isinstance(transformer, HunyuanVideoTransformer3DModel):
        out = transformer(  # type: ignore[operator]
            hidden_states=hidden,
            timestep=timestep,
            encoder_hidden_states=text.states,
            encoder_attention_mask=text.mask,
            pooled_projections=text.pooled,
            return_dict=False,
        )
    else:
        out = transformer(  # type: ignore[operator]
            hidden_states=hidden,
            timestep=timestep,
            encoder_hidden_states=text.states,
            return_dict=False,
        )
    result: torch.Tensor = out[0]
    return result


class TinyVideoPipeline(DiffusionPipeline):
    """Text-to-video pipeline of the embedded default model.

    Follows diffusers' video pipeline shape: encode prompt -> denoise with the scheduler ->
    "decode" (upsample) -> ``self.video_processor.postprocess_video(video, output_type)``.
    """

    model_cpu_offload_seq = "text_encoder->transformer"
    transformer: Denoiser
    text_encoder: UMT5EncoderModel
    scheduler: FlowMatchEulerDiscreteScheduler

    def __init__(
        self,
        transformer: Denoiser,
        text_encoder: UMT5EncoderModel,
        scheduler: FlowMatchEulerDiscreteScheduler,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.register_modules(  # type: ignore[attr-defined]
            transformer=transformer, text_encoder=text_encoder, scheduler=scheduler
        )
        # build_pipeline and load_pipeline set the real configuration right after construction.
        self.tinyvid_config = TinyVidConfig()
        self.video_processor = VideoProcessor(vae_scale_factor=1)

    @property
    def tinyvid_config(self) -> TinyVidConfig:
        """The model's architecture and vocabulary; setting it rebuilds the tokenizer."""
        return self._tinyvid_config

    @tinyvid_config.setter
    def tinyvid_config(self, cfg: TinyVidConfig) -> None:
        # The tokenizer is derived from the vocabulary, so the two can never disagree.
        self._tinyvid_config = cfg
        self.tokenizer = WordTokenizer(cfg.vocab, cfg.max_tokens)

    def check_inputs_early(self, prompt: str, num_frames: int, height: int, width: int) -> None:
        """Validate a request before any compute (see :func:`check_prompt_and_size`)."""
        check_prompt_and_size(self.tinyvid_config, prompt, num_frames, height, width)

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | None = None,
        num_frames: int = 16,
        height: int = 128,
        width: int = 128,
        num_inference_steps: int = 20,
        guidance_scale: float = 4.0,
        generator: torch.Generator | None = None,  # diffusers' argument name
        output_type: str = "np",
        return_dict: bool = True,
        callback_on_step_end: Callable[..., Mapping[str, object]] | None = None,
        callback_on_step_end_tensor_inputs: list[str] | None = None,
    ) -> WanPipelineOutput | tuple[Any]:
        """Generate clips; arguments follow ``diffusers.WanPipeline``."""
        tensor_inputs = callback_on_step_end_tensor_inputs
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        for p in prompts:
            self.check_inputs_early(p, num_frames, height, width)
        negative = negative_prompt or ""
        cfg = self.tinyvid_config
        cond = encode_text(self.text_encoder, self.tokenizer, prompts)
        uncond = encode_text(self.text_encoder, self.tokenizer, [negative] * len(prompts))
        text = TextStates.cat([cond, uncond])
        size = cfg.native_size
        # Pixel-space "latents": (B, 3, F, 32, 32) float32 noise, drawn on CPU for reproducibility.
        latents = torch.randn(
            (len(prompts), 3, num_frames, size, size), generator=generator, dtype=torch.float32
        )
        self.scheduler.set_timesteps(num_inference_steps, device=latents.device)  # type: ignore[attr-defined]
        timesteps = self.scheduler.timesteps  # type: ignore[attr-defined]
        with self.progress_bar(total=len(timesteps)) as bar:  # type: ignore[attr-defined]
            for i, t in enumerate(timesteps):
                both = torch.cat([latents, latents])
                sigma = (t / self.scheduler.config.num_train_timesteps).to(both.dtype)  # type: ignore[attr-defined]
                out = denoise(self.transformer, both, sigma.expand(both.shape[0]), text, cfg)
                v = velocity(out, both, sigma, cfg)
                v_cond, v_uncond = v.chunk(2)
                v = v_uncond + guidance_scale * (v_cond - v_uncond)
                latents = self.scheduler.step(v, t, latents, return_dict=False)[0]  # type: ignore[attr-defined]
                if callback_on_step_end is not None:
                    # As in diffusers: the callback gets only the tensors it names.
                    names = ["latents"] if tensor_inputs is None else tensor_inputs
                    given = {"latents": latents} if "latents" in names else {}
                    got = callback_on_step_end(self, i, t, given).get("latents")
                    latents = got if isinstance(got, torch.Tensor) else latents
                bar.update()
        if output_type == "latent":
            video = latents
        else:
            video = decode_pixels(latents, num_frames, height, width)
            video = self.video_processor.postprocess_video(video, output_type=output_type)
        self.maybe_free_model_hooks()  # type: ignore[attr-defined]
        if not return_dict:
            return (video,)
        return WanPipelineOutput(frames=video)


def decode_pixels(latents: torch.Tensor, num_frames: int, height: int, width: int) -> torch.Tensor:
    """Upsample native pixels to the output size.

    Args:
        latents: (B, 3, F, h, w) float32 in about [-1, 1].

    Returns:
        (B, 3, F, height, width) float32 clamped to [-1, 1].
    """
    b, c, f, h, w = latents.shape
    frames = latents.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
    frames = F.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False)
    video = frames.reshape(b, f, c, height, width).permute(0, 2, 1, 3, 4)
    return video.clamp(-1.0, 1.0)


def build_pipeline(cfg: TinyVidConfig | None = None) -> TinyVideoPipeline:
    """A randomly initialised default-model pipeline (training starts here; tests use it too)."""
    cfg = cfg or TinyVidConfig()
    pipe = TinyVideoPipeline(build_transformer(cfg), build_text_encoder(cfg), build_scheduler())
    pipe.tinyvid_config = cfg
    return pipe


def save_pipeline(pipe: TinyVideoPipeline, folder: Path, extra: Mapping[str, object]) -> None:
    """Write the weights (safetensors) and a marker file describing the model to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pipe.transformer.save_pretrained(folder / "transformer", safe_serialization=True)  # type: ignore[union-attr]
    pipe.text_encoder.save_pretrained(folder / "text_encoder", safe_serialization=True)
    pipe.scheduler.save_pretrained(folder / "scheduler")  # type: ignore[attr-defined]
    marker = {"format": "reelproof-tinyvid/1", "config": asdict(pipe.tinyvid_config), **extra}
    (folder / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n")


def is_tinyvid_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a default-model checkpoint (not a diffusers pipeline folder)."""
    return (folder / MARKER_FILE).is_file()


def load_pipeline(folder: Path) -> TinyVideoPipeline:
    """Load a default-model checkpoint written by :func:`save_pipeline`.

    Raises:
        ConfigError: The folder lacks a part or was written for another architecture.
    """
    marker = json.loads((folder / MARKER_FILE).read_text())
    if marker.get("format") != "reelproof-tinyvid/1":
        raise ConfigError(
            f"{folder} holds an unknown default-model format {marker.get('format')!r}",
            hint="re-run `reelproof generator train` with this version of ReelProof",
        )
    for part in ("transformer", "text_encoder", "scheduler"):
        if not (folder / part).is_dir():
            raise ConfigError(f"{folder} lacks its {part}/ folder", hint="re-train or re-install")
    cfg = config_in_folder(folder)
    transformer = denoiser_class(cfg.denoiser).from_pretrained(folder / "transformer")  # type: ignore[no-untyped-call]
    text_encoder = load_text_encoder_quietly(folder / "text_encoder")
    scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(folder / "scheduler")  # type: ignore[no-untyped-call]
    pipe = TinyVideoPipeline(transformer.eval(), text_encoder.eval(), scheduler)  # type: ignore[no-untyped-call]
    pipe.tinyvid_config = cfg
    return pipe
