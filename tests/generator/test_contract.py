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

from reelproof.eval.tiny_pipelines import CASES, NOT_BUILT, TinyCase, calm_decoder
from reelproof.eval.tiny_pipelines.media import (
    PROMPT,
    InputMedia,
    generate_arguments,
    pipeline_arguments,
)
from reelproof.generator import ResponsibleGenerator, UnmarkedOutputError, discover_video_pipelines
from reelproof.generator.pipelines import MEDIA_PARAMETERS, profile

from .conftest import check_credentials, files_in

DISCOVERED = discover_video_pipelines()
_BUILT: dict[str, ResponsibleGenerator] = {}


def built(name: str, watermarker: Any, signer: Any, store: Any) -> ResponsibleGenerator:
    """The wrapped tiny pipeline of ``name``, built once per module."""
    if name not in _BUILT:
        pipe = calm_decoder(CASES[name].build())
        _BUILT[name] = ResponsibleGenerator.from_pipeline(pipe, watermarker, signer, store)
    return _BUILT[name]


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
    wrapped = profile(DISCOVERED[class_name])  # every discovered class reads as wrappable
    assert wrapped.class_name == class_name
    case = CASES.get(class_name)
    if case is None:
        assert class_name in NOT_BUILT, f"{class_name}: add a tiny build or a reason to NOT_BUILT"
        pytest.skip(NOT_BUILT[class_name])
    gen = built(class_name, watermarker, signer, store)
    args = generate_arguments(gen.profile, case, media, size)
    prompt = PROMPT if gen.profile.takes_prompt else None
    calls = denoiser_calls(gen.pipe)

    with pytest.raises(UnmarkedOutputError, match="latent"):
        gen.generate(prompt, tmp_path / "latent.mp4", output_type="latent", **args)
    with pytest.raises(UnmarkedOutputError, match="ResponsibleGenerator"):
        gen.pipe(**pipeline_arguments(gen.profile, case, media, size, "latent"))
    assert calls == [] and files_in(tmp_path) == []

    result = gen.generate(prompt, tmp_path / "clip.mp4", **args)
    assert calls, "the denoiser never ran"
    assert files_in(tmp_path) == ["clip.mp4"]
    returned = np.round(np.asarray(result.frames)[0] * 255).astype(np.uint8)
    assert gen.proxy.marked is not None and np.array_equal(returned, gen.proxy.marked[0])

    report = check_credentials(result, trust, store, watermarker)
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
        prompt, tmp_path / "loaded.mp4", **generate_arguments(loaded.profile, case, media, size)
    )
    assert result.manifest.model == f"{folder.name} local"
    assert verify(result.path, trust).state == "trusted"
    assert watermarker.detect(read_clip(result.path).frames).payload == result.watermark_id


def test_the_tables_and_the_docs_cover_exactly_the_discovered_classes() -> None:
    """Every discovered class has a tiny build or a reason, none is stale, and
    docs/generator.md prints both lists with the reasons and the counts."""
    assert set(CASES).isdisjoint(NOT_BUILT)
    assert set(CASES) | set(NOT_BUILT) == set(DISCOVERED)
    text = (Path(__file__).resolve().parents[2] / "docs" / "generator.md").read_text()
    for name in CASES:
        assert f"`{name}`" in text, name
    for name, reason in NOT_BUILT.items():
        assert f"`{name}`" in text and reason in text, name
    assert f"**{len(DISCOVERED)} classes**" in text
    assert f"{len(CASES)} classes, every one marked and signed" in text
    assert f"without a tiny build ({len(NOT_BUILT)} classes)" in text
