"""Tiny HunyuanVideo pipelines (text-to-video, SkyReels image-to-video, FramePack).

Configs follow diffusers' HunyuanVideo fast tests: a 4-channel Hunyuan VAE, a one-block dual-
and single-stream transformer, Llama and CLIP text encoders over the shared word vocabulary.
"""

from __future__ import annotations

from typing import Any

import torch

from .text import construct, tiny_clip_text, tiny_llama, word_tokenizer

PROMPT_KWARGS = {"prompt_template": {"template": "{}", "crop_start": 0}, "max_sequence_length": 16}
"""Call arguments that keep the text encoders cheap (the stock template is ~100 tokens long)."""


def hunyuan_vae() -> Any:
    from diffusers import AutoencoderKLHunyuanVideo

    torch.manual_seed(0)
    return construct(
        AutoencoderKLHunyuanVideo,
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=("HunyuanVideoDownBlock3D",) * 4,
        up_block_types=("HunyuanVideoUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        act_fn="silu",
        norm_num_groups=4,
        scaling_factor=0.476986,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
        mid_block_add_attention=True,
    )


def _transformer_kwargs(in_channels: int, patch_size: int = 1) -> dict[str, Any]:
    return {
        "in_channels": in_channels,
        "out_channels": 4,
        "num_attention_heads": 2,
        "attention_head_dim": 10,
        "num_layers": 1,
        "num_single_layers": 1,
        "num_refiner_layers": 1,
        "patch_size": patch_size,
        "patch_size_t": 1,
        "text_embed_dim": 16,
        "pooled_projection_dim": 8,
        "rope_axes_dim": (2, 4, 4),
    }


def _text_parts() -> dict[str, Any]:
    from diffusers import FlowMatchEulerDiscreteScheduler

    return {
        "vae": hunyuan_vae(),
        "scheduler": construct(FlowMatchEulerDiscreteScheduler, shift=7.0),
        "text_encoder": tiny_llama(16),
        "tokenizer": word_tokenizer(64),
        "text_encoder_2": tiny_clip_text(8),
        "tokenizer_2": word_tokenizer(77),
    }


def hunyuan_video() -> Any:
    from diffusers import HunyuanVideoPipeline, HunyuanVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = construct(
        HunyuanVideoTransformer3DModel, guidance_embeds=True, **_transformer_kwargs(4)
    )
    return construct(HunyuanVideoPipeline, transformer=transformer, **_text_parts())


def hunyuan_skyreels_i2v() -> Any:
    from diffusers import HunyuanSkyreelsImageToVideoPipeline, HunyuanVideoTransformer3DModel

    torch.manual_seed(0)
    # The image latents are concatenated to the noise: twice the input channels.
    transformer = construct(
        HunyuanVideoTransformer3DModel, guidance_embeds=True, **_transformer_kwargs(8)
    )
    return construct(HunyuanSkyreelsImageToVideoPipeline, transformer=transformer, **_text_parts())


def hunyuan_framepack() -> Any:
    from diffusers import HunyuanVideoFramepackPipeline, HunyuanVideoFramepackTransformer3DModel
    from transformers import SiglipImageProcessor, SiglipVisionConfig, SiglipVisionModel

    torch.manual_seed(0)
    transformer = construct(
        HunyuanVideoFramepackTransformer3DModel,
        guidance_embeds=True,
        image_condition_type=None,
        has_image_proj=True,
        image_proj_dim=32,
        has_clean_x_embedder=True,
        **_transformer_kwargs(4, patch_size=2),
    )
    torch.manual_seed(0)
    image_encoder = construct(
        SiglipVisionModel,
        construct(
            SiglipVisionConfig,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
        ),
    )
    feature_extractor = construct(SiglipImageProcessor, size={"height": 32, "width": 32})
    return construct(
        HunyuanVideoFramepackPipeline,
        transformer=transformer,
        image_encoder=image_encoder,
        feature_extractor=feature_extractor,
        **_text_parts(),
    )


I2V_PROMPT_KWARGS = {
    "prompt_template": {
        "template": "{}",
        "crop_start": 0,
        # A 224-px image in 32-px patches: 49 image tokens spliced in after the 5th token.
        "image_emb_len": 49,
        "image_emb_start": 5,
        "image_emb_end": 54,
    },
    "max_sequence_length": 64,  # room for the 49 image tokens
}


def hunyuan_i2v() -> Any:
    from diffusers import HunyuanVideoImageToVideoPipeline, HunyuanVideoTransformer3DModel
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
    )

    from .text import clip_image_processor

    torch.manual_seed(0)
    transformer = construct(
        HunyuanVideoTransformer3DModel,
        guidance_embeds=False,
        image_condition_type="latent_concat",
        **_transformer_kwargs(2 * 4 + 1),  # noise, image latents and a mask channel
    )
    text_config = construct(
        LlamaConfig,
        hidden_size=16,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        pad_token_id=100,
        vocab_size=128,
        bos_token_id=1,
        eos_token_id=1,
    )
    vision_config = construct(
        CLIPVisionConfig,
        hidden_size=8,
        intermediate_size=37,
        projection_dim=32,
        num_attention_heads=4,
        num_hidden_layers=2,
        image_size=224,
        patch_size=32,
    )
    torch.manual_seed(0)
    llava = construct(
        LlavaForConditionalGeneration,
        construct(
            LlavaConfig,
            vision_config=vision_config,
            text_config=text_config,
            pad_token_id=100,
            image_token_index=101,
        ),
    )
    parts = _text_parts()
    parts["text_encoder"] = llava
    return construct(
        HunyuanVideoImageToVideoPipeline,
        transformer=transformer,
        image_processor=clip_image_processor(224),
        **parts,
    )
