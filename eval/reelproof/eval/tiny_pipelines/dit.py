"""Tiny Mochi, Allegro and Latte pipelines (one T5 text encoder each).

Configs follow diffusers' fast tests of each family.
"""

from __future__ import annotations

from typing import Any

import torch

from .text import construct, tiny_t5, word_tokenizer


def mochi() -> Any:
    from diffusers import (
        AutoencoderKLMochi,
        FlowMatchEulerDiscreteScheduler,
        MochiPipeline,
        MochiTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = construct(
        MochiTransformer3DModel,
        patch_size=2,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        pooled_projection_dim=16,
        in_channels=12,
        out_channels=None,
        qk_norm="rms_norm",
        text_embed_dim=32,
        time_embed_dim=4,
        activation_fn="swiglu",
        max_sequence_length=16,
    )
    transformer.pos_frequencies.data.zero_()
    torch.manual_seed(0)
    vae = construct(
        AutoencoderKLMochi,
        latent_channels=12,
        out_channels=3,
        encoder_block_out_channels=(32, 32, 32, 32),
        decoder_block_out_channels=(32, 32, 32, 32),
        layers_per_block=(1, 1, 1, 1, 1),
    )
    return construct(
        MochiPipeline,
        transformer=transformer,
        vae=vae,
        scheduler=construct(FlowMatchEulerDiscreteScheduler),
        text_encoder=tiny_t5(32),
        tokenizer=word_tokenizer(16),
    )


def allegro() -> Any:
    from diffusers import (
        AllegroPipeline,
        AllegroTransformer3DModel,
        AutoencoderKLAllegro,
        DDIMScheduler,
    )

    torch.manual_seed(0)
    transformer = construct(
        AllegroTransformer3DModel,
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=4,
        out_channels=4,
        num_layers=1,
        cross_attention_dim=24,
        sample_width=8,
        sample_height=8,
        sample_frames=8,
        caption_channels=24,
    )
    torch.manual_seed(0)
    vae = construct(
        AutoencoderKLAllegro,
        in_channels=3,
        out_channels=3,
        down_block_types=("AllegroDownBlock3D",) * 4,
        up_block_types=("AllegroUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    vae.enable_tiling()  # Allegro's VAE decodes only in tiles (diffusers does the same)
    return construct(
        AllegroPipeline,
        transformer=transformer,
        vae=vae,
        scheduler=construct(DDIMScheduler),
        text_encoder=tiny_t5(24),
        tokenizer=word_tokenizer(16),
    )


def latte() -> Any:
    from diffusers import AutoencoderKL, DDIMScheduler, LattePipeline, LatteTransformer3DModel

    torch.manual_seed(0)
    transformer = construct(
        LatteTransformer3DModel,
        sample_size=8,
        num_layers=1,
        patch_size=2,
        attention_head_dim=8,
        num_attention_heads=3,
        video_length=8,  # its temporal position table fixes the frame count
        caption_channels=32,
        in_channels=4,
        cross_attention_dim=24,
        out_channels=8,
        attention_bias=True,
        activation_fn="gelu-approximate",
        num_embeds_ada_norm=1000,
        norm_type="ada_norm_single",
        norm_elementwise_affine=False,
        norm_eps=1e-6,
    )
    torch.manual_seed(0)
    vae = construct(
        AutoencoderKL,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
    )
    return construct(
        LattePipeline,
        transformer=transformer.eval(),
        vae=vae.eval(),
        scheduler=construct(DDIMScheduler),
        text_encoder=tiny_t5(32),
        tokenizer=word_tokenizer(16),
    )
