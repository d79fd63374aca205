"""Contract over every video pipeline class the installed diffusers exports (discovered).

For each class: build it tiny (random weights, CPU), generate through the wrapper and check the
exact watermark id in the MP4, trusted credentials under the dev anchors, every input recorded
as an ingredient (a signed input clip as ``parentOf`` with its manifest), and latent output
refused by both routes before any denoising. One folder per family is saved and loaded back
through ``from_pretrained``. Classes without a tiny build say why (``tiny.NOT_BUILT``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from reelproof.generator import ResponsibleGenerator, UnmarkedOutputError, discover_video_pipelines
from reelproof.generator.pipelines import MEDIA_PARAMETERS, MediaKind, profile

from .conftest import files_in
from .media import InputMedia
from .tiny import CASES, NOT_BUILT, TinyCase, calm_decoder

DISCOVERED = discover_video_pipelines()
PROMPT = "a red ball moving left"
_BUILT: dict[str, ResponsibleGenerator] = {}


def built(name: str, watermarker: Any, signer: Any, store: Any) -> ResponsibleGenerator:
    """The wrapped tiny pipeline of ``name``, built once per module."""
    if name not in _BUILT:
        pipe = calm_decoder(CASES[name].build())
        _BUILT[name] = ResponsibleGenerator.from_pipeline(pipe, watermarker, signer, store)
    return _BUILT[name]


def generate_args(
    gen: ResponsibleGenerator, case: TinyCase, media: InputMedia, size: int
) -> dict[str, Any]:
    """Arguments of ``generate`` for a tiny case: the fewest steps and pixels that still run
    every stage."""
    params = gen.profile.parameters
    args: dict[str, Any] = {"inputs": media.for_inputs(case.inputs), "seed": 1, **case.extra}
    if case.frames is not None:
        args["num_frames"] = case.frames
    for name in ("height", "width"):
        if name in params:
            args[name] = size
    if "num_inference_steps" in params:
        args["num_inference_steps"] = 2
    return args


def direct_call(
    gen: ResponsibleGenerator, case: TinyCase, media: InputMedia, size: int
) -> dict[str, Any]:
    """What a user calling the wrapped pipeline itself would pass, asking for latents."""
    call: dict[str, Any] = {**case.extra, "output_type": "latent"}
    if gen.profile.takes_prompt:
        call["prompt"] = PROMPT
    for name, path in media.for_inputs(case.inputs).items():
        kind = MEDIA_PARAMETERS[name]
        if kind is MediaKind.VIDEO:
            from reelproof.core.io import read_clip

            call[name] = [Image.fromarray(f) for f in read_clip(path).frames]
        else:
            call[name] = Image.open(path).convert("RGB")
    if case.frames is not None and gen.profile.frames_parameter is not None:
        call[gen.profile.frames_parameter] = case.frames
    for name in ("height", "width"):
        if name in gen.profile.parameters:
            call[name] = size
    return call


def denoiser_calls(pipe: Any) -> list[int]:
    """A list that grows by one at each forward of the pipeline's denoiser."""
    calls: list[int] = []
    names = ("transformer", "unet", "latent_upsampler")
    module = next(getattr(pipe, n) for n in names if getattr(pipe, n, None) is not None)
    module.register_forward_hook(lambda *a: calls.append(1))
    return calls


def expected_ingredients(case: TinyCase, media: InputMedia) -> list[tuple[str, str]]:
    files = media.for_inputs(case.inputs)
    order = list(MEDIA_PARAMETERS)
    names = sorted(files, key=order.index)
    parent = [(media.signed_clip.name, "parentOf")] if media.signed_clip in files.values() else []
    others = [(files[n].name, "inputTo") for n in names if files[n] != media.signed_clip]
    return parent + others


@pytest.mark.parametrize("class_name", sorted(DISCOVERED))
def test_every_video_pipeline_is_marked_signed_and_sealed(
    class_name: str, tmp_path: Path, size: int, media: InputMedia, watermarker: Any,
    signer: Any, store: Any, trust: Any,
) -> None:  # fmt: skip
    from reelproof.core.io import read_clip
    from reelproof.provenance import verify

    wrapped = profile(DISCOVERED[class_name])  # every discovered class reads as wrappable
    assert wrapped.class_name == class_name
    case = CASES.get(class_name)
    if case is None:
        assert class_name in NOT_BUILT, f"{class_name}: add a tiny build or a reason to NOT_BUILT"
        pytest.skip(NOT_BUILT[class_name])
    gen = built(class_name, watermarker, signer, store)
    args = generate_args(gen, case, media, size)
    prompt = PROMPT if gen.profile.takes_prompt else None
    calls = denoiser_calls(gen.pipe)

    with pytest.raises(UnmarkedOutputError, match="latent"):
        gen.generate(prompt, tmp_path / "latent.mp4", output_type="latent", **args)
    with pytest.raises(UnmarkedOutputError, match="ResponsibleGenerator"):
        gen.pipe(**direct_call(gen, case, media, size))
    assert calls == [] and files_in(tmp_path) == []

    result = gen.generate(prompt, tmp_path / "clip.mp4", **args)
    assert calls, "the denoiser never ran"
    assert files_in(tmp_path) == ["clip.mp4"]
    returned = np.round(np.asarray(result.frames)[0] * 255).astype(np.uint8)
    assert gen.proxy.marked is not None and np.array_equal(returned, gen.proxy.marked[0])

    reading = watermarker.detect(read_clip(result.path).frames)
    assert reading.detected and reading.payload == result.watermark_id, reading
    report = verify(result.path, trust)
    assert report.state == "trusted", report.summary
    assert [b.value for b in report.soft_bindings] == [result.watermark_id]
    assert report.digital_source_type is not None
    assert report.digital_source_type.endswith("trainedAlgorithmicMedia")
    stored = store.lookup(result.watermark_id)
    assert stored is not None and stored.content_sha256 == result.manifest.sha256
    got = [(i.title, i.relationship) for i in report.ingredients]
    assert got == expected_ingredients(case, media)
    for ingredient in report.ingredients:  # a signed parent keeps its own manifest
        assert (ingredient.manifest_label is not None) == (ingredient.relationship == "parentOf")


FAMILY_REPRESENTATIVES = sorted(
    {case.family: name for name, case in reversed(CASES.items())}.values()
)


@pytest.mark.parametrize("class_name", FAMILY_REPRESENTATIVES)
def test_a_saved_folder_of_each_family_loads_and_generates(
    class_name: str, tmp_path: Path, size: int, media: InputMedia, watermarker: Any,
    signer: Any, store: Any, trust: Any,
) -> None:  # fmt: skip
    from reelproof.core.io import read_clip
    from reelproof.generator.loading import MemoryOptions
    from reelproof.provenance import verify

    case = CASES[class_name]
    gen = built(class_name, watermarker, signer, store)
    folder = tmp_path / f"tiny-{case.family}"
    gen.pipe.save_pretrained(folder)
    loaded = ResponsibleGenerator.from_pretrained(
        folder, watermarker, signer, store, memory=MemoryOptions(vae_tiling=True)
    )
    assert type(loaded.pipe) is type(gen.pipe) and loaded.model_name == folder.name
    assert loaded.weights_digest.startswith("sha256:")
    prompt = PROMPT if loaded.profile.takes_prompt else None
    result = loaded.generate(
        prompt, tmp_path / "loaded.mp4", **generate_args(loaded, case, media, size)
    )
    assert result.manifest.model == f"{folder.name} local"
    assert verify(result.path, trust).state == "trusted"
    assert watermarker.detect(read_clip(result.path).frames).payload == result.watermark_id
