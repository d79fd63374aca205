"""Tiny LTX-Video pipelines (text-, image-, condition-to-video, long multi-prompt, upsampling).

Configs follow diffusers' LTX fast tests: an 8-channel LTX VAE with two spatio-temporal
downsampling stages and a one-layer transformer.
"""

from __future__ import annotations

from typing import Any

import torch

from .text import construct, tiny_t5, word_tokenizer


def ltx_vae() -> Any:
    from diffusers import AutoencoderKLLTXVideo

    torch.manual_seed(0)
    vae = construct(
        AutoencoderKLLTXVideo,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return vae


def ltx_transformer() -> Any:
    from diffusers import LTXVideoTransformer3DModel

    torch.manual_seed(0)
    return construct(
        LTXVideoTransformer3DModel,
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )


def _parts() -> dict[str, Any]:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return {
        "transformer": ltx_transformer(),
        "vae": ltx_vae(),
        "scheduler": construct(FlowMatchEulerDiscreteScheduler),
        "text_encoder": tiny_t5(32),
        "tokenizer": word_tokenizer(),
    }


def ltx() -> Any:
    from diffusers import LTXPipeline

    return construct(LTXPipeline, **_parts())


def ltx_i2v() -> Any:
    from diffusers import LTXImageToVideoPipeline

    return construct(LTXImageToVideoPipeline, **_parts())


def ltx_condition() -> Any:
    from diffusers import LTXConditionPipeline

    return construct(LTXConditionPipeline, **_parts())


def ltx_long() -> Any:
    from diffusers import LTXI2VLongMultiPromptPipeline

    return construct(LTXI2VLongMultiPromptPipeline, **_parts())


def ltx_upsample() -> Any:
    from diffusers import LTXLatentUpsamplePipeline
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    torch.manual_seed(0)
    upsampler = construct(
        LTXLatentUpsamplerModel,
        in_channels=8,
        mid_channels=32,
        num_blocks_per_stage=1,
        dims=3,
        spatial_upsample=True,
        temporal_upsample=False,
    )
    return construct(LTXLatentUpsamplePipeline, vae=ltx_vae(), latent_upsampler=upsampler)
