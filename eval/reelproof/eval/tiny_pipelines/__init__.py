"""Tiny randomly initialised diffusers video pipelines, built in code (nothing downloaded).

Used by the generator contract test (every video pipeline class diffusers exports, marked and
signed through the wrapper) and by ``reelproof eval generator`` (wrapper overhead per family).
``CASES`` says how to drive each pipeline class that has a tiny build; ``NOT_BUILT`` gives the
reason for every other class (docs/generator.md prints that list). Configs follow diffusers
0.42's own fast tests, with a word-level tokenizer built from a handful of words instead of
``hf-internal-testing`` downloads. Random weights draw noise, not pictures: the builds exercise
the code paths, never quality.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from . import cogvideo, dit, hunyuan, ltx, unet, wan

CALM = 0.1
"""Scale of a tiny VAE's last layer (see :func:`calm_decoder`)."""


def calm_decoder(pipe: Any, scale: float = CALM) -> Any:
    """Scale the last layer of the pipeline's VAE decoder so its frames look like footage.

    A randomly initialised decoder paints full-contrast noise at every pixel, which no trained
    model does and which a watermark calibrated for camera footage is not meant to survive. Its
    output layer is linear, so scaling its weights scales the decoded video towards mid-grey
    (about 6-15 grey levels of spread): the wrapper, the hook and the file are exercised exactly
    as before, and the change is in the weights, so it survives save and load.
    """
    layers = (torch.nn.Conv2d, torch.nn.Conv3d, torch.nn.Linear)
    last = [m for m in pipe.vae.decoder.modules() if isinstance(m, layers)][-1]
    with torch.no_grad():
        last.weight.mul_(scale)
        if last.bias is not None:
            last.bias.mul_(scale)
    return pipe


@dataclass(frozen=True)
class TinyCase:
    """How the contract test drives one tiny pipeline.

    Attributes:
        build: Builds the pipeline (random weights, seeded).
        family: The model family (one folder per family goes through save/load).
        inputs: Media arguments the test passes (a signed clip goes to the first clip input).
        frames: Frame count asked for; ``None`` when it follows the input clip.
        extra: Pipeline arguments that keep the tiny build cheap or valid.
    """

    build: Callable[[], Any]
    family: str
    inputs: tuple[str, ...] = ()
    frames: int | None = 9
    extra: Mapping[str, object] = field(default_factory=dict)


HY = hunyuan.PROMPT_KWARGS
SEQ16 = {"max_sequence_length": 16}

CASES: dict[str, TinyCase] = {
    # Wan 2.1 and the Wan-architecture families
    "WanPipeline": TinyCase(wan.wan, "Wan"),
    "WanImageToVideoPipeline": TinyCase(wan.wan_i2v, "Wan", ("image",)),
    "WanVideoToVideoPipeline": TinyCase(wan.wan_v2v, "Wan", ("video",), frames=None),
    "WanVACEPipeline": TinyCase(wan.wan_vace, "Wan", ("video",)),
    "SkyReelsV2Pipeline": TinyCase(wan.skyreels_v2, "SkyReels-V2"),
    "SkyReelsV2ImageToVideoPipeline": TinyCase(
        wan.skyreels_v2_i2v, "SkyReels-V2", ("image", "last_image")
    ),
    "SkyReelsV2DiffusionForcingPipeline": TinyCase(wan.skyreels_v2_df, "SkyReels-V2"),
    "SkyReelsV2DiffusionForcingImageToVideoPipeline": TinyCase(
        wan.skyreels_v2_df_i2v, "SkyReels-V2", ("image",)
    ),
    "SkyReelsV2DiffusionForcingVideoToVideoPipeline": TinyCase(
        wan.skyreels_v2_df_v2v,
        "SkyReels-V2",
        ("video",),
        extra={"overlap_history": 5, "base_num_frames": 9},
    ),
    "ChronoEditPipeline": TinyCase(wan.chronoedit, "ChronoEdit", ("image",)),
    "LucyEditPipeline": TinyCase(wan.lucy_edit, "Lucy", ("video",)),
    # LTX-Video
    "LTXPipeline": TinyCase(ltx.ltx, "LTX", extra=SEQ16),
    "LTXImageToVideoPipeline": TinyCase(ltx.ltx_i2v, "LTX", ("image",), extra=SEQ16),
    "LTXConditionPipeline": TinyCase(ltx.ltx_condition, "LTX", ("image",), extra=SEQ16),
    "LTXI2VLongMultiPromptPipeline": TinyCase(ltx.ltx_long, "LTX", extra=SEQ16),
    "LTXLatentUpsamplePipeline": TinyCase(ltx.ltx_upsample, "LTX", ("video",), frames=None),
    # CogVideoX
    "CogVideoXPipeline": TinyCase(cogvideo.cogvideox, "CogVideoX", extra=SEQ16),
    "CogVideoXImageToVideoPipeline": TinyCase(
        cogvideo.cogvideox_i2v, "CogVideoX", ("image",), extra=SEQ16
    ),
    "CogVideoXVideoToVideoPipeline": TinyCase(
        cogvideo.cogvideox_v2v, "CogVideoX", ("video",), frames=None, extra=SEQ16
    ),
    "CogVideoXFunControlPipeline": TinyCase(
        cogvideo.cogvideox_fun_control, "CogVideoX", ("control_video",), frames=None, extra=SEQ16
    ),
    # HunyuanVideo
    "HunyuanVideoPipeline": TinyCase(hunyuan.hunyuan_video, "HunyuanVideo", extra=HY),
    "HunyuanVideoImageToVideoPipeline": TinyCase(
        hunyuan.hunyuan_i2v, "HunyuanVideo", ("image",), extra=hunyuan.I2V_PROMPT_KWARGS
    ),
    "HunyuanSkyreelsImageToVideoPipeline": TinyCase(
        hunyuan.hunyuan_skyreels_i2v, "HunyuanVideo", ("image",), extra=HY
    ),
    "HunyuanVideoFramepackPipeline": TinyCase(
        hunyuan.hunyuan_framepack,
        "HunyuanVideo",
        ("image", "last_image"),
        extra={**HY, "latent_window_size": 3},
    ),
    # Other DiT families
    "MochiPipeline": TinyCase(dit.mochi, "Mochi", frames=7, extra=SEQ16),
    "AllegroPipeline": TinyCase(dit.allegro, "Allegro", extra=SEQ16),
    "LattePipeline": TinyCase(dit.latte, "Latte", frames=8, extra={"clean_caption": False}),
    # UNet families
    "AnimateDiffPipeline": TinyCase(unet.animatediff, "AnimateDiff", frames=8),
    "AnimateDiffPAGPipeline": TinyCase(unet.animatediff_pag, "AnimateDiff", frames=8),
    "AnimateDiffVideoToVideoPipeline": TinyCase(
        unet.animatediff_v2v, "AnimateDiff", ("video",), frames=None
    ),
    "AnimateDiffControlNetPipeline": TinyCase(
        unet.animatediff_controlnet, "AnimateDiff", ("conditioning_frames",)
    ),
    "AnimateDiffVideoToVideoControlNetPipeline": TinyCase(
        unet.animatediff_v2v_controlnet,
        "AnimateDiff",
        ("video", "conditioning_frames"),
        frames=None,
    ),
    "PIAPipeline": TinyCase(unet.pia, "AnimateDiff", ("image",), frames=8),
    "TextToVideoSDPipeline": TinyCase(unet.text_to_video_sd, "ModelScope", frames=8),
    "VideoToVideoSDPipeline": TinyCase(
        unet.video_to_video_sd, "ModelScope", ("video",), frames=None
    ),
    "StableVideoDiffusionPipeline": TinyCase(unet.svd, "StableVideoDiffusion", ("image",), 8),
}

NOT_BUILT: dict[str, str] = {
    # The wrapper refuses these by design.
    "LTX2VideoDiffusionDecodePipeline": "wrapper refuses by design: it only decodes latents "
    "the caller supplies (a second stage), and the wrapper owns the noise (latents= refused)",
    "ConsisIDPipeline": "not built: it conditions on face-identity tensors (id_vit_hidden, "
    "id_cond) from a separate face model; through the wrapper they would go in pipe_kwargs, "
    "and a face model has no tiny offline build here",
    # No tiny build is possible offline.
    **dict.fromkeys(
        (
            "CosmosTextToWorldPipeline",
            "CosmosVideoToWorldPipeline",
            "Cosmos2TextToImagePipeline",
            "Cosmos2VideoToWorldPipeline",
            "Cosmos2_5_PredictBasePipeline",
            "Cosmos2_5_TransferPipeline",
            "Cosmos3OmniPipeline",
        ),
        "impossible offline: the pipeline refuses to run without NVIDIA's cosmos_guardrail "
        "safety checker (its licence requires it), which downloads its guard models",
    ),
    # Possible offline, not built yet: each needs a tiny build of a large multimodal text
    # encoder or a bespoke model; the wrapper reads them like every other (their profile is
    # checked by the contract test).
    **dict.fromkeys(
        (
            "LTX2Pipeline",
            "LTX2ImageToVideoPipeline",
            "LTX2ConditionPipeline",
            "LTX2InContextPipeline",
            "LTX2DFRPipeline",
            "LTX2DFRTemporalRefinePipeline",
            "LTX2LatentUpsamplePipeline",
        ),
        "not built yet: needs tiny Gemma-3 text encoder, text connectors, audio VAE and "
        "vocoder builds (LTX-2 also generates audio, which the wrapper drops)",
    ),
    **dict.fromkeys(
        (
            "HunyuanVideo15Pipeline",
            "HunyuanVideo15ImageToVideoPipeline",
            "Kandinsky5T2VPipeline",
            "Kandinsky5I2VPipeline",
            "Kandinsky6TI2VAPipeline",
        ),
        "not built yet: needs a tiny Qwen2.5-VL text encoder and its chat-template processor",
    ),
    **dict.fromkeys(
        ("SanaVideoPipeline", "SanaImageToVideoPipeline", "SanaWMPipeline"),
        "not built yet: needs a tiny Gemma-2 text encoder and a Sana video transformer",
    ),
    **dict.fromkeys(
        ("MotifVideoPipeline", "MotifVideoImage2VideoPipeline"),
        "not built yet: needs a tiny T5Gemma-2 encoder and a guider component",
    ),
    **dict.fromkeys(
        ("EasyAnimatePipeline", "EasyAnimateControlPipeline", "EasyAnimateInpaintPipeline"),
        "not built yet: needs a tiny Magvit VAE and a BERT or Qwen2-VL text encoder",
    ),
    "Kandinsky6SRPipeline": "not built yet: a super-resolution stage with its own VAE and "
    "latent upscaler",
    "WanAnimatePipeline": "not built yet: needs pose and face clips and a Wan-Animate "
    "transformer with motion and face encoders",
    **dict.fromkeys(
        ("HeliosPipeline", "HeliosPyramidPipeline", "AnyFlowPipeline", "AnyFlowFARPipeline"),
        "not built yet: Wan-VAE families with their own transformer and scheduler",
    ),
    "I2VGenXLPipeline": "not built yet: needs a tiny I2VGenXL UNet",
    "AnimateDiffSDXLPipeline": "not built yet: needs a tiny SDXL UNet with two CLIP encoders",
    "AnimateDiffSparseControlNetPipeline": "not built yet: needs a tiny SparseControlNet",
}
