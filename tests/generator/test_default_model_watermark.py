"""Every clip of the embedded default model carries a watermark that reads back its exact id.

The default model makes tiny (16 frames, 128x128), flat clips on saturated black or white
backgrounds, where the mark has little texture to hide in and half of it is clipped away at 0 or
255; these tests generate real clips with the default key, dev signer and store and read the id
with the same verifier a user runs (``detect_file`` with the default keyring), from the signed
file and from a stripped (remuxed) copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# (prompt, seed) at 4 denoising steps. The white-background seeds are the weakest contents of the
# 24 four-step clips measured (the mark is clipped at 255 over most of the frame).
CLIPS = [
    ("a red square moving right on a white background", 17),
    ("a red square moving right on a white background", 9),
    ("a blue ball moving right on a white background", 15),
    ("a blue ball moving right on a white background", 23),
    ("a red triangle moving up on a black background", 2),
    ("a green ball moving up on a gray background", 3),
]


@pytest.fixture(scope="module")
def default_generator() -> object:
    from reelproof.generator import ResponsibleGenerator

    return ResponsibleGenerator.default()


@pytest.mark.parametrize(("prompt", "seed"), CLIPS)
def test_default_model_clip_reads_back_its_exact_id(
    default_generator: object, tmp_path: Path, prompt: str, seed: int
) -> None:
    # Margin, measured on these 6 contents x 4 random ids with the shipped settings: exact id from
    # the signed and the remuxed file 24/24, and 24/24 from the first 8 frames alone; 16-frame
    # z min 10.1 (median 11.7) where detection needs about 7.1; bit reliability min 8.1 (median
    # 19). With the earlier settings (strength 1.5, mask floor 0.25, 42 dB): 20/24 exact, 10/24
    # from 8 frames, z min 6.95, bit reliability min 2.1.
    from reelproof.provenance.tamper import remux
    from reelproof.watermark import detect_file

    out = tmp_path / "clip.mp4"
    result = default_generator.generate(  # type: ignore[attr-defined]
        prompt, out, seed=seed, num_inference_steps=4
    )
    signed = detect_file(out)
    assert signed.detected and signed.payload == result.watermark_id, signed
    stripped = remux(out, tmp_path / "stripped.mp4")
    reading = detect_file(stripped)
    assert reading.detected and reading.payload == result.watermark_id, reading
    # Half the frames must suffice too: the margin that keeps this reading reliable.
    half = detect_file(stripped, max_frames=8)
    assert half.detected and half.payload == result.watermark_id, half
