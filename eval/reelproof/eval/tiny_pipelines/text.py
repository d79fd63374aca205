"""Tiny text encoders and a word-level tokenizer, built in code (nothing downloaded).

Every tiny pipeline shares one vocabulary of a few words; prompts of other words map to
``<unk>``, which is all a random text encoder needs.
"""

from __future__ import annotations

from typing import Any

import torch


def construct(cls: type, /, *args: object, **kwargs: object) -> Any:
    """Build a diffusers or transformers object.

    Their constructors are wrapped by untyped decorators (``register_to_config``), so calls go
    through this one untyped funnel instead of carrying a type-ignore each.
    """
    factory: Any = cls
    return factory(*args, **kwargs)


WORDS = ["a", "red", "ball", "moving", "left", "on", "black", "background", "cat", "dog"]
VOCAB = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}


def word_tokenizer(max_length: int = 32) -> Any:
    """A fast tokenizer over WORDS (pad 0, eos 1, unk 2); stands in for T5, CLIP and Llama's."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return construct(
        PreTrainedTokenizerFast,
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        bos_token="</s>",
        model_max_length=max_length,
    )


def tiny_t5(d_model: int = 32, umt5: bool = False) -> Any:
    """A two-layer T5 (or UMT5, Wan's text encoder) encoder over the word vocabulary."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    return construct(
        UMT5EncoderModel if umt5 else T5EncoderModel,
        construct(
            UMT5Config if umt5 else T5Config,
            vocab_size=len(VOCAB),
            d_model=d_model,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            dropout_rate=0.0,
        ),
    )


def tiny_clip_text(hidden: int = 32, projection: bool = False) -> Any:
    """A two-layer CLIP text encoder (with projection for SDXL's second encoder)."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = construct(
        CLIPTextConfig,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
        hidden_size=hidden,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=len(VOCAB),
        projection_dim=hidden,
        max_position_embeddings=77,
    )
    torch.manual_seed(0)
    return (
        construct(CLIPTextModelWithProjection, config)
        if projection
        else construct(CLIPTextModel, config)
    )


def tiny_llama(hidden: int = 16) -> Any:
    """A two-layer Llama over the word vocabulary (HunyuanVideo's first text encoder)."""
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    return construct(
        LlamaModel,
        construct(
            LlamaConfig,
            bos_token_id=1,
            eos_token_id=1,
            pad_token_id=0,
            hidden_size=hidden,
            intermediate_size=37,
            num_attention_heads=4,
            num_key_value_heads=4,
            num_hidden_layers=2,
            vocab_size=len(VOCAB),
            max_position_embeddings=512,
        ),
    )


def tiny_clip_vision(
    hidden: int = 32, image_size: int = 32, patch: int = 4, projection: bool = True
) -> Any:
    """A tiny CLIP vision tower (image-to-video image encoders)."""
    from transformers import CLIPVisionConfig, CLIPVisionModel, CLIPVisionModelWithProjection

    config = construct(
        CLIPVisionConfig,
        hidden_size=hidden,
        projection_dim=hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        image_size=image_size,
        intermediate_size=37,
        patch_size=patch,
    )
    torch.manual_seed(0)
    return (
        construct(CLIPVisionModelWithProjection, config)
        if projection
        else construct(CLIPVisionModel, config)
    )


def clip_image_processor(size: int = 32) -> Any:
    from transformers import CLIPImageProcessor

    return construct(CLIPImageProcessor, crop_size=size, size=size)
