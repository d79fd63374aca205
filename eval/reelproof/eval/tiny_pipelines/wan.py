"""Tiny Wan-architecture pipelines: Wan 2.1 (T2V, I2V, V2V, VACE) and SkyReels-V2.

Configs follow diffusers' own fast tests (a 3-channel-base Wan VAE, a 2-layer transformer).
"""

from __future__ import annotations

from typing import Any

import torch

from .text import clip_image_processor, construct, tiny_clip_vision, tiny_t5, word_tokenizer

WAN_TRANSFORMER = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "out_channels": 16,
    "text_dim": 32,
    "freq_dim": 256,
    "ffn_dim": 32,
    "num_layers": 2,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "rope_max_seq_len": 32,
}


def wan_vae() -> Any:
    from diffusers import AutoencoderKLWan

    torch.manual_seed(0)
    return construct(
        AutoencoderKLWan,
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


def _text() -> dict[str, Any]:
    return {"text_encoder": tiny_t5(32, umt5=True), "tokenizer": word_tokenizer()}


def _flow() -> Any:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return construct(FlowMatchEulerDiscreteScheduler, shift=7.0)


def _unipc() -> Any:
    from diffusers import UniPCMultistepScheduler

    return construct(
        UniPCMultistepScheduler,
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=5.0,
    )


def _transformer(cls: Any, in_channels: int = 16, **extra: Any) -> Any:
    torch.manual_seed(0)
    return cls(in_channels=in_channels, **WAN_TRANSFORMER, **extra)


def _image_parts(projection: bool = False) -> dict[str, Any]:
    return {
        "image_encoder": tiny_clip_vision(hidden=4, image_size=32, projection=projection),
        "image_processor": clip_image_processor(32),
    }


def _wan_family(
    pipeline: str,
    transformer: str,
    in_channels: int = 16,
    unipc: bool = False,
    parts: dict[str, Any] | None = None,
    **transformer_extra: Any,
) -> Any:
    """A Wan-VAE pipeline of diffusers class ``pipeline`` around a tiny ``transformer``."""
    import diffusers

    denoiser = _transformer(getattr(diffusers, transformer), in_channels, **transformer_extra)
    return construct(
        getattr(diffusers, pipeline),
        transformer=denoiser,
        vae=wan_vae(),
        scheduler=_unipc() if unipc else _flow(),
        **_text(),
        **(parts or {}),
    )


def wan() -> Any:
    return _wan_family("WanPipeline", "WanTransformer3DModel")


def wan_i2v() -> Any:
    # Image-to-video conditions on the encoded image as extra input channels (36 instead of 16)
    # and a CLIP image embedding (image_dim).
    return _wan_family(
        "WanImageToVideoPipeline", "WanTransformer3DModel", 36, parts=_image_parts(), image_dim=4
    )


def wan_v2v() -> Any:
    return _wan_family("WanVideoToVideoPipeline", "WanTransformer3DModel")


def wan_vace() -> Any:
    return _wan_family(
        "WanVACEPipeline", "WanVACETransformer3DModel", vace_layers=[0], vace_in_channels=96
    )


def skyreels_v2() -> Any:
    return _wan_family("SkyReelsV2Pipeline", "SkyReelsV2Transformer3DModel", unipc=True)


def skyreels_v2_i2v() -> Any:
    # First-last-frame: the two images' 65 CLIP tokens each are stacked into one sequence.
    return _wan_family(
        "SkyReelsV2ImageToVideoPipeline", "SkyReelsV2Transformer3DModel", 36, unipc=True,
        parts=_image_parts(projection=True), image_dim=4, pos_embed_seq_len=2 * 65,
    )  # fmt: skip


def skyreels_v2_df() -> Any:
    return _wan_family(
        "SkyReelsV2DiffusionForcingPipeline", "SkyReelsV2Transformer3DModel", unipc=True
    )


def skyreels_v2_df_i2v() -> Any:
    return _wan_family(
        "SkyReelsV2DiffusionForcingImageToVideoPipeline", "SkyReelsV2Transformer3DModel",
        unipc=True,
    )  # fmt: skip


def skyreels_v2_df_v2v() -> Any:
    return _wan_family(
        "SkyReelsV2DiffusionForcingVideoToVideoPipeline", "SkyReelsV2Transformer3DModel",
        unipc=True,
    )  # fmt: skip


def chronoedit() -> Any:
    return _wan_family(
        "ChronoEditPipeline", "ChronoEditTransformer3DModel", 36, parts=_image_parts(), image_dim=4
    )


def lucy_edit() -> Any:
    # The input clip's latents are concatenated to the noise: twice the input channels.
    return _wan_family("LucyEditPipeline", "WanTransformer3DModel", 32)
