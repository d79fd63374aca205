"""Small clips: 64x64 generations through the wrapper carry the exact id with the default mark.

Pre-visualisation and many test configs are smaller than the 128-px frames the first rp-ss tile
needed. These tests use the default watermarker (``Watermarker.min_side`` decides what it can
mark) and read the id back from the signed file the way a verifier does (``detect_file`` over
the default keyring).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reelproof.eval.tiny_pipelines import calm_decoder
from reelproof.eval.tiny_pipelines.wan import wan
from reelproof.generator import ResponsibleGenerator

SIDE = 64


def read_id(path: Path) -> str | None:
    from reelproof.watermark import Keyring, detect_file

    return detect_file(path, Keyring.default()).payload


def test_the_default_watermarker_marks_64_px_frames() -> None:
    from reelproof.generator.signing import default_watermarker

    assert default_watermarker().min_side <= SIDE


def test_a_64_px_clip_of_the_embedded_model_reads_back_its_exact_id(
    tmp_path: Path, signer: Any, store: Any, trust: Any
) -> None:
    from reelproof.provenance import verify

    gen = ResponsibleGenerator.from_pretrained("default", signer=signer, store=store)
    result = gen.generate("a red ball moving left on a black background", tmp_path / "s.mp4",
                          height=SIDE, width=SIDE, num_inference_steps=8, seed=5)  # fmt: skip
    assert (result.width, result.height) == (SIDE, SIDE)
    assert read_id(result.path) == result.watermark_id
    assert verify(result.path, trust).state == "trusted"


@pytest.mark.parametrize("seed", [1, 2])
def test_a_64_px_clip_of_a_diffusers_pipeline_reads_back_its_exact_id(
    tmp_path: Path, signer: Any, store: Any, seed: int
) -> None:
    gen = ResponsibleGenerator.from_pipeline(calm_decoder(wan()), signer=signer, store=store)
    result = gen.generate("a red ball", tmp_path / "w.mp4", num_frames=9, height=SIDE,
                          width=SIDE, num_inference_steps=2, seed=seed)  # fmt: skip
    assert (result.width, result.height) == (SIDE, SIDE)
    assert read_id(result.path) == result.watermark_id
