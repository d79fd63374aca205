"""The text side of the embedded default model: a word tokenizer over its closed scene
vocabulary, a tiny UMT5 encoder, and the encoded prompts both denoisers read
(``reelproof.generator.tinyvid`` builds the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from transformers import UMT5Config, UMT5EncoderModel

from reelproof.core import InputError

if TYPE_CHECKING:
    from reelproof.generator.tinyvid import TinyVidConfig

PAD, UNK = "<pad>", "<unk>"


class WordTokenizer:
    """Word-level tokenizer over a closed vocabulary (lower-cased, whitespace split).

    Unknown words are an error rather than silently mapped, so a user learns at once that the
    default model only knows its scene vocabulary.
    """

    def __init__(self, vocab: tuple[str, ...], max_tokens: int) -> None:
        self.vocab = vocab
        self.max_tokens = max_tokens
        self._index = {w: i for i, w in enumerate(vocab)}

    def check(self, prompt: str) -> list[str]:
        """Validate a prompt and return its words.

        Raises:
            InputError: Empty, too long, or containing words outside the vocabulary.
        """
        words = prompt.lower().replace(",", " ").split()
        if len(words) > self.max_tokens:
            raise InputError(
                f"prompt has {len(words)} words; the default model reads at most {self.max_tokens}",
                hint='write e.g. "a red ball moving left on a black background"',
            )
        unknown = sorted({w for w in words if w not in self._index or w in (PAD, UNK)})
        if unknown:
            known = ", ".join(w for w in self.vocab if w not in (PAD, UNK))
            raise InputError(
                f"the default model does not know the word(s) {', '.join(unknown)}",
                hint=f"use only: {known}",
            )
        return words

    def __call__(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenize a batch; the empty string is the unconditional prompt.

        Returns:
            ids (B, max_tokens) int64 and attention mask (B, max_tokens) int64.
        """
        ids = torch.zeros((len(prompts), self.max_tokens), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, prompt in enumerate(prompts):
            words = self.check(prompt) if prompt else []
            for col, word in enumerate(words):
                ids[row, col] = self._index[word]
                mask[row, col] = 1
        # An all-padding row would give attention nothing to attend to: keep the first slot.
        mask[:, 0] = 1
        return ids, mask


def build_text_encoder(cfg: TinyVidConfig) -> UMT5EncoderModel:
    """A tiny randomly initialised UMT5 encoder for ``cfg``."""
    config = UMT5Config(
        vocab_size=len(cfg.vocab),
        d_model=cfg.text_dim,
        d_kv=cfg.text_dim // 4,
        d_ff=cfg.text_dim * 2,
        num_layers=cfg.text_layers,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
        pad_token_id=0,
    )
    return UMT5EncoderModel(config)


@dataclass(frozen=True)
class TextStates:
    """Encoded prompts as both denoisers read them.

    Attributes:
        states: (B, max_tokens, text_dim) float32, padding positions zeroed.
        mask: (B, max_tokens) int64, 1 on words.
        pooled: (B, text_dim) mean of ``states`` over the words.
    """

    states: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor

    @staticmethod
    def cat(parts: list[TextStates]) -> TextStates:
        """Stack several batches along the batch axis."""
        return TextStates(
            torch.cat([p.states for p in parts]),
            torch.cat([p.mask for p in parts]),
            torch.cat([p.pooled for p in parts]),
        )


def encode_text(
    text_encoder: UMT5EncoderModel, tokenizer: WordTokenizer, prompts: list[str]
) -> TextStates:
    """Encode prompts; padding positions are zeroed and left out of the pooled vector."""
    ids, mask = tokenizer(prompts)
    states: torch.Tensor = text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    # Zero the padding like Wan's pipeline does, so the denoiser cannot read the padding.
    states = states * mask[..., None].to(states.dtype)
    pooled = states.sum(dim=1) / mask.sum(dim=1, keepdim=True).to(states.dtype)
    return TextStates(states, mask, pooled)


def load_text_encoder_quietly(folder: Path) -> UMT5EncoderModel:
    """The embedded text encoder, without transformers' "Loading weights" bar: its 22 tensors
    load in a millisecond, and the bar only cluttered ``reelproof demo``'s first lines. The
    library's setting is restored afterwards (user models keep their bar)."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # untyped in transformers
    try:
        return UMT5EncoderModel.from_pretrained(folder)
    finally:
        if was_on:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]  # untyped in transformers
