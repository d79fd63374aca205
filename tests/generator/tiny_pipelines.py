"""Tiny randomly initialised diffusers video pipelines, built in code (nothing downloaded).

Configs follow diffusers 0.42's own fast tests (tests/pipelines/*), with a word-level tokenizer
built from a handful of words instead of ``hf-internal-testing`` downloads.
"""

from __future__ import annotations

from typing import Any

import torch

WORDS = ["a", "red", "ball", "moving", "left", "on", "black", "background", "cat", "dog"]


def word_tokenizer() -> Any:
    """A T5-style fast tokenizer over WORDS (pad 0, eos 1, unk 2), built in code."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=32,
    )


def tiny_t5(d_model: int = 32) -> Any:
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    config = T5Config(
        vocab_size=len(WORDS) + 3,
        d_model=d_model,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return T5EncoderModel(config)


def _tiny_wan_parts(in_channels: int, **transformer_extra: Any) -> tuple[Any, Any]:
    """The tiny Wan VAE and transformer shared by the text- and image-to-video pipelines.

    Image-to-video conditions on the encoded image as extra input channels (36 instead of 16)
    and an image embedding (``image_dim``); everything else is the same config.
    """
    from diffusers import AutoencoderKLWan, WanTransformer3DModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        **transformer_extra,
    )
    return vae, transformer


def tiny_wan() -> Any:
    """WanPipeline (text-to-video), config of diffusers' tests/pipelines/wan/test_wan.py."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline

    vae, transformer = _tiny_wan_parts(in_channels=16)
    return WanPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=tiny_t5(32),
        tokenizer=word_tokenizer(),
    )


def tiny_svd() -> Any:
    """StableVideoDiffusionPipeline (image-to-video), config of diffusers' SVD fast tests."""
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=8,
        out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=8,
        projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        trained_betas=None,
        use_karras_sigmas=True,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        latent_channels=4,
    )
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=5,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=14,
        )
    )
    return StableVideoDiffusionPipeline(
        unet=unet,
        image_encoder=image_encoder,
        scheduler=scheduler,
        vae=vae,
        feature_extractor=CLIPImageProcessor(crop_size=224, size=224),
    )


def tiny_wan_i2v() -> Any:
    """WanImageToVideoPipeline (image-to-video), config of diffusers' Wan I2V fast tests."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    vae, transformer = _tiny_wan_parts(in_channels=36, image_dim=4)
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=1,
        )
    )
    return WanImageToVideoPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=tiny_t5(32),
        tokenizer=word_tokenizer(),
        image_encoder=image_encoder,
        image_processor=CLIPImageProcessor(crop_size=32, size=32),
    )
