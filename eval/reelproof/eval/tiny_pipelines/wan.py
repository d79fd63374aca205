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


def wan() -> Any:
    from diffusers import WanPipeline, WanTransformer3DModel

    return construct(
        WanPipeline,
        transformer=_transformer(WanTransformer3DModel),
        vae=wan_vae(),
        scheduler=_flow(),
        **_text(),
    )


def wan_i2v() -> Any:
    from diffusers import WanImageToVideoPipeline, WanTransformer3DModel

    return construct(
        WanImageToVideoPipeline,
        transformer=_transformer(WanTransformer3DModel, 36, image_dim=4),
        vae=wan_vae(),
        scheduler=_flow(),
        **_text(),
        **_image_parts(),
    )


def wan_v2v() -> Any:
    from diffusers import WanTransformer3DModel, WanVideoToVideoPipeline

    return construct(
        WanVideoToVideoPipeline,
        transformer=_transformer(WanTransformer3DModel),
        vae=wan_vae(),
        scheduler=_flow(),
        **_text(),
    )


def wan_vace() -> Any:
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    transformer = _transformer(WanVACETransformer3DModel, vace_layers=[0], vace_in_channels=96)
    return construct(
        WanVACEPipeline, transformer=transformer, vae=wan_vae(), scheduler=_flow(), **_text()
    )


def skyreels_v2() -> Any:
    from diffusers import SkyReelsV2Pipeline, SkyReelsV2Transformer3DModel

    return construct(
        SkyReelsV2Pipeline,
        transformer=_transformer(SkyReelsV2Transformer3DModel),
        vae=wan_vae(),
        scheduler=_unipc(),
        **_text(),
    )


def skyreels_v2_i2v() -> Any:
    from diffusers import SkyReelsV2ImageToVideoPipeline, SkyReelsV2Transformer3DModel

    # First-last-frame: the two images' 65 CLIP tokens each are stacked into one sequence.
    transformer = _transformer(
        SkyReelsV2Transformer3DModel, 36, image_dim=4, pos_embed_seq_len=2 * 65
    )
    return construct(
        SkyReelsV2ImageToVideoPipeline,
        transformer=transformer,
        vae=wan_vae(),
        scheduler=_unipc(),
        **_text(),
        **_image_parts(projection=True),
    )


def skyreels_v2_df() -> Any:
    from diffusers import SkyReelsV2DiffusionForcingPipeline, SkyReelsV2Transformer3DModel

    return construct(
        SkyReelsV2DiffusionForcingPipeline,
        transformer=_transformer(SkyReelsV2Transformer3DModel),
        vae=wan_vae(),
        scheduler=_unipc(),
        **_text(),
    )


def skyreels_v2_df_i2v() -> Any:
    from diffusers import (
        SkyReelsV2DiffusionForcingImageToVideoPipeline,
        SkyReelsV2Transformer3DModel,
    )

    return construct(
        SkyReelsV2DiffusionForcingImageToVideoPipeline,
        transformer=_transformer(SkyReelsV2Transformer3DModel),
        vae=wan_vae(),
        scheduler=_unipc(),
        **_text(),
    )


def skyreels_v2_df_v2v() -> Any:
    from diffusers import (
        SkyReelsV2DiffusionForcingVideoToVideoPipeline,
        SkyReelsV2Transformer3DModel,
    )

    return construct(
        SkyReelsV2DiffusionForcingVideoToVideoPipeline,
        transformer=_transformer(SkyReelsV2Transformer3DModel),
        vae=wan_vae(),
        scheduler=_unipc(),
        **_text(),
    )


def chronoedit() -> Any:
    from diffusers import ChronoEditPipeline, ChronoEditTransformer3DModel

    return construct(
        ChronoEditPipeline,
        transformer=_transformer(ChronoEditTransformer3DModel, 36, image_dim=4),
        vae=wan_vae(),
        scheduler=_flow(),
        image_encoder=tiny_clip_vision(hidden=4, image_size=32, projection=False),
        image_processor=clip_image_processor(32),
        **_text(),
    )


def lucy_edit() -> Any:
    from diffusers import LucyEditPipeline, WanTransformer3DModel

    # The input clip's latents are concatenated to the noise: twice the input channels.
    return construct(
        LucyEditPipeline,
        transformer=_transformer(WanTransformer3DModel, 32),
        vae=wan_vae(),
        scheduler=_flow(),
        **_text(),
    )
