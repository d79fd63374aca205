"""The responsible wrapper over stock diffusers pipelines (tiny random configs, CPU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reelproof.core import ConfigError, InputError
from reelproof.generator import (
    ResponsibleGenerator,
    UnmarkablePipelineError,
    UnmarkedOutputError,
)

from .conftest import as_uint8_frames, check_credentials, files_in

WAN_ARGS: dict[str, Any] = {
    "num_frames": 9, "height": 128, "width": 128, "num_inference_steps": 2, "seed": 3,
}  # fmt: skip


@pytest.mark.parametrize("output_type", ["np", "pt", "pil"])
def test_every_output_type_is_marked_and_signed(
    wan_generator: Any, output_type: str, tmp_path: Path, trust: Any, store: Any,
    watermarker: Any,
) -> None:  # fmt: skip
    out = tmp_path / "clip.mp4"
    result = wan_generator.generate("a red ball", out, output_type=output_type, **WAN_ARGS)
    assert len(result.watermark_id) == 16 and int(result.watermark_id, 16) >= 0
    frames = as_uint8_frames(result.frames, output_type)
    assert frames.shape == (9, 128, 128, 3)
    # The returned frames are exactly the marked frames that were encoded.
    assert wan_generator.proxy.marked is not None
    assert np.array_equal(frames, wan_generator.proxy.marked[0])
    reading = watermarker.detect(frames)
    assert reading.detected and reading.payload == result.watermark_id
    check_credentials(result, trust, store, watermarker)
    assert files_in(tmp_path) == ["clip.mp4"]  # no temp files left behind


def test_each_generation_gets_a_fresh_id(wan_generator: Any, tmp_path: Path) -> None:
    a = wan_generator.generate("a red ball", tmp_path / "a.mp4", **WAN_ARGS)
    b = wan_generator.generate("a red ball", tmp_path / "b.mp4", **WAN_ARGS)
    assert a.watermark_id != b.watermark_id
    body = a.to_dict()
    assert body["schema"].startswith("reelproof.generation/")
    assert "frames" not in body and body["watermark_id"] == a.watermark_id


def test_latent_output_is_refused_before_compute(wan_generator: Any, tmp_path: Path) -> None:
    calls: list[int] = []
    transformer = wan_generator.pipe.transformer
    hook = transformer.register_forward_hook(lambda *a: calls.append(1))
    try:
        with pytest.raises(UnmarkedOutputError, match="latent"):
            wan_generator.generate("a red ball", tmp_path / "x.mp4", output_type="latent",
                                   **WAN_ARGS)  # fmt: skip
    finally:
        hook.remove()
    assert calls == [] and files_in(tmp_path) == []


def test_wrapped_pipeline_refuses_to_decode_directly(wan_generator: Any) -> None:
    import torch

    with pytest.raises(UnmarkedOutputError, match="ResponsibleGenerator"):
        wan_generator.pipe(
            prompt="a red ball", num_frames=9, height=128, width=128, num_inference_steps=1,
            generator=torch.Generator().manual_seed(0), output_type="np",
        )  # fmt: skip
    with pytest.raises(UnmarkedOutputError, match="latent"):
        wan_generator.proxy.postprocess_video(torch.zeros(1, 3, 1, 8, 8), output_type="latent")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prompt": ""}, "empty"),
        ({"prompt": "x" * 5000}, "characters"),
        ({"height": 120}, "height"),
        ({"height": 32, "width": 32}, "too small"),
        ({"num_frames": 8}, "frames"),
        ({"image": "missing.png"}, "image"),
    ],
)
def test_bad_requests_fail_before_any_compute(
    wan_generator: Any, tmp_path: Path, kwargs: dict[str, Any], match: str
) -> None:
    args = {**WAN_ARGS, "prompt": "a red ball", **kwargs}
    prompt = args.pop("prompt")
    calls: list[int] = []
    hook = wan_generator.pipe.transformer.register_forward_hook(lambda *a: calls.append(1))
    try:
        with pytest.raises(InputError, match=match):
            wan_generator.generate(prompt, tmp_path / "bad.mp4", **args)
    finally:
        hook.remove()
    assert calls == [] and files_in(tmp_path) == []


def test_output_path_checks(wan_generator: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mp4"):
        wan_generator.generate("a red ball", tmp_path / "clip.gif", **WAN_ARGS)
    with pytest.raises(InputError, match="does not exist"):
        wan_generator.generate("a red ball", tmp_path / "no" / "clip.mp4", **WAN_ARGS)
    existing = tmp_path / "there.mp4"
    existing.write_bytes(b"keep me")
    with pytest.raises(InputError, match="exists"):
        wan_generator.generate("a red ball", existing, **WAN_ARGS)
    assert existing.read_bytes() == b"keep me"


def test_unmarkable_pipeline_class_is_refused(watermarker: Any, signer: Any, store: Any) -> None:
    class HomeMadePipeline:
        video_processor = None

        def __call__(self, prompt: str) -> object:
            return prompt

    with pytest.raises(UnmarkablePipelineError, match="HomeMadePipeline cannot be marked"):
        ResponsibleGenerator.from_pipeline(HomeMadePipeline(), watermarker, signer, store)


def test_from_pretrained_checks_the_folder_first(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        ResponsibleGenerator.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"model_index\.json"):
        ResponsibleGenerator.from_pretrained(tmp_path)
    (tmp_path / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    with pytest.raises(UnmarkablePipelineError, match="FluxPipeline cannot be marked"):
        ResponsibleGenerator.from_pretrained(tmp_path)
    (tmp_path / "model_index.json").write_text('{"_class_name": "NoSuchPipeline"}')
    with pytest.raises(ConfigError, match="no pipeline class NoSuchPipeline"):
        ResponsibleGenerator.from_pretrained(tmp_path)


def test_saved_wan_folder_loads_through_from_pretrained(
    wan_generator: Any, tmp_path: Path, watermarker: Any, signer: Any, store: Any, trust: Any
) -> None:
    from reelproof.generator.hook import WatermarkingVideoProcessor

    folder = tmp_path / "tiny-wan"
    inner = wan_generator.pipe.video_processor
    assert isinstance(inner, WatermarkingVideoProcessor)
    wan_generator.pipe.video_processor = inner.inner  # save the stock pipeline
    try:
        wan_generator.pipe.save_pretrained(folder)
    finally:
        wan_generator.pipe.video_processor = inner
    gen = ResponsibleGenerator.from_pretrained(folder, watermarker, signer, store)
    result = gen.generate("a red ball", tmp_path / "loaded.mp4", **WAN_ARGS)
    assert result.manifest.model.startswith("tiny-wan")
    check_credentials(result, trust, store, watermarker)


def test_image_to_video_records_the_input_image(
    tmp_path: Path, watermarker: Any, signer: Any, store: Any, trust: Any
) -> None:
    from reelproof.eval.tiny_pipelines.wan import wan_i2v
    from reelproof.provenance import verify

    gen = ResponsibleGenerator.from_pipeline(wan_i2v(), watermarker, signer, store)
    image = tmp_path / "input.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((128, 128, 3)) * 255).astype(np.uint8)).save(image)
    with pytest.raises(InputError, match="needs its image input"):
        gen.generate("a red ball", tmp_path / "noimg.mp4", **WAN_ARGS)
    result = gen.generate("a red ball", tmp_path / "i2v.mp4", image=image, **WAN_ARGS)
    assert result.manifest.ingredients == ("input.png",)
    report = verify(result.path, trust)
    assert [(i.title, i.relationship) for i in report.ingredients] == [("input.png", "inputTo")]
    check_credentials(result, trust, store, watermarker)


def test_stripped_copy_recovers_id_and_manifest(
    wan_generator: Any, tmp_path: Path, store: Any, trust: Any
) -> None:
    from reelproof.provenance import recover_from_store, verify
    from reelproof.provenance.tamper import remux
    from reelproof.watermark import Keyring, detect_file

    result = wan_generator.generate("a red ball", tmp_path / "orig.mp4", **WAN_ARGS)
    stripped = remux(result.path, tmp_path / "stripped.mp4")
    assert verify(stripped, trust).state == "absent"
    reading = detect_file(stripped, Keyring.default())
    assert reading.detected and reading.payload == result.watermark_id
    recovered = recover_from_store(stripped, reading.payload, store, trust)
    assert recovered is not None and recovered.watermark_id == result.watermark_id
