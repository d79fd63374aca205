"""Tiny CogVideoX pipelines (text-, image-, video-to-video and Fun control).

Configs follow diffusers' CogVideoX fast tests: a 4-channel CogVideoX VAE and a one-layer
transformer with 2x2 patches.
"""

from __future__ import annotations

from typing import Any

import torch

from .text import construct, tiny_t5, word_tokenizer


def _parts(in_channels: int = 4, heads: int = 4, head_dim: int = 8, **extra: Any) -> dict[str, Any]:
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = construct(
        CogVideoXTransformer3DModel,
        num_attention_heads=heads,
        attention_head_dim=head_dim,
        in_channels=in_channels,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=8,
        sample_height=8,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
        **extra,
    )
    torch.manual_seed(0)
    vae = construct(
        AutoencoderKLCogVideoX,
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
    )
    return {
        "transformer": transformer,
        "vae": vae,
        "scheduler": construct(CogVideoXDDIMScheduler),
        "text_encoder": tiny_t5(32),
        "tokenizer": word_tokenizer(16),
    }


def cogvideox() -> Any:
    from diffusers import CogVideoXPipeline

    return construct(CogVideoXPipeline, **_parts())


def cogvideox_i2v() -> Any:
    from diffusers import CogVideoXImageToVideoPipeline

    # Image-to-video concatenates the image latents (twice the input channels) and uses rotary
    # position embeddings, whose head size must be a multiple of 16.
    parts = _parts(8, heads=2, head_dim=16, use_rotary_positional_embeddings=True)
    return construct(CogVideoXImageToVideoPipeline, **parts)


def cogvideox_v2v() -> Any:
    from diffusers import CogVideoXVideoToVideoPipeline

    return construct(CogVideoXVideoToVideoPipeline, **_parts())


def cogvideox_fun_control() -> Any:
    from diffusers import CogVideoXFunControlPipeline

    return construct(CogVideoXFunControlPipeline, **_parts(8))
