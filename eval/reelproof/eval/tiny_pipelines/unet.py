"""Tiny UNet-based video pipelines: AnimateDiff and its variants, ModelScope text-to-video
(TextToVideoSD, VideoToVideoSD), Stable Video Diffusion and I2VGen-XL.

Configs follow diffusers' fast tests, with an 8-channel 4-stage image VAE (8x downsampling) so
that the UNets run on 16x16 latents for 128x128 frames.
"""

from __future__ import annotations

from typing import Any

import torch

from .text import clip_image_processor, construct, tiny_clip_text, tiny_clip_vision, word_tokenizer

TWO_D = {
    "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
}


def image_vae() -> Any:
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return construct(
        AutoencoderKL,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
    )


SMALL_UNET: dict[str, object] = {
    "block_out_channels": (8, 16),
    "layers_per_block": 1,
    "in_channels": 4,
    "cross_attention_dim": 32,
    "attention_head_dim": 4,
}
"""Two resolution levels of 8 and 16 channels, shared by the UNets and the ControlNet."""


def _unet2d(in_channels: int = 4) -> Any:
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return construct(
        UNet2DConditionModel,
        **{**SMALL_UNET, "in_channels": in_channels},
        sample_size=16,
        out_channels=4,
        norm_num_groups=2,
        **TWO_D,
    )


def _motion_adapter() -> Any:
    from diffusers import MotionAdapter

    torch.manual_seed(0)
    return construct(
        MotionAdapter,
        block_out_channels=(8, 16),
        motion_layers_per_block=1,
        motion_norm_num_groups=2,
        motion_num_attention_heads=2,
    )


def _sd_parts() -> dict[str, Any]:
    from diffusers import DDIMScheduler

    return {
        "vae": image_vae(),
        "text_encoder": tiny_clip_text(32),
        "tokenizer": word_tokenizer(77),
        "scheduler": construct(DDIMScheduler, beta_schedule="linear", clip_sample=False),
    }


def _animatediff_parts() -> dict[str, Any]:
    return {"unet": _unet2d(), "motion_adapter": _motion_adapter(), **_sd_parts()}


def _controlnet() -> Any:
    from diffusers import ControlNetModel

    torch.manual_seed(0)
    return construct(
        ControlNetModel,
        **SMALL_UNET,
        norm_num_groups=2,
        conditioning_embedding_out_channels=(4, 8, 8, 8),
        down_block_types=TWO_D["down_block_types"],
    )


def animatediff() -> Any:
    from diffusers import AnimateDiffPipeline

    return construct(AnimateDiffPipeline, **_animatediff_parts())


def animatediff_pag() -> Any:
    from diffusers import AnimateDiffPAGPipeline

    return construct(AnimateDiffPAGPipeline, **_animatediff_parts(), pag_applied_layers=["mid"])


def animatediff_v2v() -> Any:
    from diffusers import AnimateDiffVideoToVideoPipeline

    return construct(AnimateDiffVideoToVideoPipeline, **_animatediff_parts())


def animatediff_controlnet() -> Any:
    from diffusers import AnimateDiffControlNetPipeline

    return construct(
        AnimateDiffControlNetPipeline, **_animatediff_parts(), controlnet=_controlnet()
    )


def animatediff_v2v_controlnet() -> Any:
    from diffusers import AnimateDiffVideoToVideoControlNetPipeline

    return construct(
        AnimateDiffVideoToVideoControlNetPipeline, **_animatediff_parts(), controlnet=_controlnet()
    )


def pia() -> Any:
    from diffusers import PIAPipeline

    # PIA conditions on the masked image latents: 4 + 4 + 1 mask input channels.
    parts = _animatediff_parts()
    parts["unet"] = _unet2d(in_channels=9)
    return construct(PIAPipeline, **parts)


def _unet3d() -> Any:
    from diffusers import UNet3DConditionModel

    torch.manual_seed(0)
    return construct(
        UNet3DConditionModel,
        **SMALL_UNET,
        sample_size=16,
        out_channels=4,
        norm_num_groups=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
    )


def text_to_video_sd() -> Any:
    from diffusers import TextToVideoSDPipeline

    return construct(TextToVideoSDPipeline, unet=_unet3d(), **_sd_parts())


def video_to_video_sd() -> Any:
    from diffusers import VideoToVideoSDPipeline

    return construct(VideoToVideoSDPipeline, unet=_unet3d(), **_sd_parts())


def svd() -> Any:
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )

    torch.manual_seed(0)
    unet = construct(
        UNetSpatioTemporalConditionModel,
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=8,
        out_channels=4,
        cross_attention_dim=32,
        num_attention_heads=2,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        projection_class_embeddings_input_dim=24,
        addition_time_embed_dim=8,
    )
    torch.manual_seed(0)
    # Its blocks normalise in 32 groups: 32 channels is the smallest width it accepts.
    vae = construct(
        AutoencoderKLTemporalDecoder,
        block_out_channels=(32, 32, 32, 32),
        latent_channels=4,
        layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 4,
    )
    scheduler = construct(
        EulerDiscreteScheduler,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        prediction_type="v_prediction",
        interpolation_type="linear",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    return construct(
        StableVideoDiffusionPipeline,
        unet=unet,
        vae=vae,
        scheduler=scheduler,
        # SVD resizes the conditioning image to CLIP's 224x224 itself.
        image_encoder=tiny_clip_vision(32, image_size=224, patch=14),
        feature_extractor=clip_image_processor(224),
    )
