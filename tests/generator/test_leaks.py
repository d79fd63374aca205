"""Every path to undecoded or unmarked output, and the test that it is closed.

docs/generator.md ("What cannot leave unmarked") lists the same paths in the same order.
Most run on the tiny Wan pipeline; the scheduler paths use SkyReels-V2, whose UniPC scheduler
keeps its last predictions of the clean latents.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from reelproof.core import InputError
from reelproof.eval.tiny_pipelines import calm_decoder
from reelproof.eval.tiny_pipelines.wan import skyreels_v2
from reelproof.generator import ResponsibleGenerator, StepView, UnmarkedOutputError

from .conftest import files_in

ARGS: dict[str, Any] = {"num_frames": 9, "num_inference_steps": 2, "seed": 3}


@pytest.fixture()
def args(size: int) -> dict[str, Any]:
    return {**ARGS, "height": size, "width": size}


@pytest.fixture(scope="module")
def skyreels(watermarker: Any, signer: Any, store: Any) -> ResponsibleGenerator:
    return ResponsibleGenerator.from_pipeline(
        calm_decoder(skyreels_v2()), watermarker, signer, store
    )


@contextmanager
def counting(gen: ResponsibleGenerator) -> Iterator[list[int]]:
    """A list that grows by one at each forward of the generator's transformer."""
    calls: list[int] = []
    handle = gen.pipe.transformer.register_forward_hook(lambda *a: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def latents_like(gen: ResponsibleGenerator, size: int) -> torch.Tensor:
    """A (1, 16, 3, s/8, s/8) latent tensor of the tiny Wan VAE."""
    return torch.randn(1, 16, 3, size // 8, size // 8)


def big_tensors(objects: list[object]) -> list[object]:
    """Latents or frames among ``objects``: tensors of 4+ dimensions, arrays of 3+."""
    found: list[object] = []
    for obj in objects:
        items = obj if isinstance(obj, list | tuple) else [obj]
        found += [t for t in items if isinstance(t, torch.Tensor) and t.ndim >= 4]
        found += [a for a in items if isinstance(a, np.ndarray) and a.ndim >= 3]
    return found


# 1. output_type asking for latents ------------------------------------------------------------


@pytest.mark.parametrize("output_type", ["latent", "latents"])
def test_latent_output_types_are_refused_before_compute(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any], output_type: str
) -> None:
    with counting(wan_generator) as calls, pytest.raises(UnmarkedOutputError, match="unmarked"):
        wan_generator.generate("a red ball", tmp_path / "x.mp4", output_type=output_type, **args)
    assert calls == [] and files_in(tmp_path) == []


# 2. the wrapped pipeline object, by every route ----------------------------------------------


def test_the_wrapped_pipeline_refuses_every_direct_route(wan_generator: Any, size: int) -> None:
    from diffusers import WanPipeline

    pipe = wan_generator.pipe
    call = {"prompt": "a red ball", "num_frames": 9, "height": size, "width": size,
            "num_inference_steps": 1, "output_type": "latent"}  # fmt: skip
    routes = {
        "pipe(...)": lambda: pipe(**call),
        "stock __call__": lambda: WanPipeline.__call__(pipe, **call),
        "from_pipe copy": lambda: WanPipeline.from_pipe(pipe)(**call),
        "transformer": lambda: pipe.transformer(
            hidden_states=latents_like(wan_generator, size),
            timestep=torch.tensor([1]),
            encoder_hidden_states=torch.zeros(1, 4, 32),
        ),
        "vae.decode": lambda: pipe.vae.decode(latents_like(wan_generator, size)),
        "vae.decoder": lambda: pipe.vae.decoder(latents_like(wan_generator, size)),
    }
    for route, run in routes.items():
        with counting(wan_generator) as calls, pytest.raises(UnmarkedOutputError, match="Resp"):
            run()
        assert calls == [], route


# 3. step callbacks -----------------------------------------------------------------------------


def test_callbacks_cannot_ask_for_tensors(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any]
) -> None:
    from diffusers.callbacks import SDCFGCutoffCallback

    out = tmp_path / "x.mp4"
    cutoff = SDCFGCutoffCallback(cutoff_step_ratio=0.5)  # reads prompt_embeds
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("tensors", {"callback_on_step_end": lambda *a: None,
                     "callback_on_step_end_tensor_inputs": ["latents"]}),
        ("prompt_embeds", {"callback_on_step_end": cutoff}),
        ("callback=", {"callback": lambda *a: None}),
    ]  # fmt: skip
    for match, extra in attempts:
        with counting(wan_generator) as calls, pytest.raises(UnmarkedOutputError, match=match):
            wan_generator.generate("a red ball", out, **args, **extra)
        assert calls == [] and files_in(tmp_path) == []


def test_a_callback_captures_nothing_decodable(
    skyreels: ResponsibleGenerator, tmp_path: Path, args: dict[str, Any], watermarker: Any
) -> None:
    """The callback gets a view and an empty dict; from inside it the models, the decoder and
    the pipeline refuse to run; what it grabs from the scheduler through its closure cannot be
    decoded afterwards."""
    seen: list[object] = []
    grabbed: list[torch.Tensor] = []
    refusals: list[str] = []

    def callback(view: StepView, step: int, timestep: Any, tensors: dict[str, object]) -> Any:
        seen.extend([view, step, timestep, *tensors.values(), *vars(view).values()])
        outputs = getattr(skyreels.pipe.scheduler, "model_outputs", [])
        grabbed.extend(t.clone() for t in outputs if isinstance(t, torch.Tensor))
        attempts = {
            "decode": lambda: skyreels.pipe.vae.decode(grabbed[-1]),
            "transformer": lambda: skyreels.pipe.transformer(
                grabbed[-1], torch.tensor([1]), torch.zeros(1, 4, 32)
            ),
            "pipeline": lambda: skyreels.pipe(prompt="a", output_type="latent"),
        }
        for name, attempt in attempts.items():
            try:
                attempt()
            except UnmarkedOutputError:
                refusals.append(name)
        return {"latents": torch.zeros(1)}  # ignored: a callback cannot inject tensors either

    result = skyreels.generate("a red ball", tmp_path / "cb.mp4", callback_on_step_end=callback,
                               **args)  # fmt: skip
    assert big_tensors(seen) == []  # nothing decodable was handed to the callback
    assert grabbed, "the closure reached the scheduler's predictions (the case to close)"
    assert refusals == ["decode", "transformer", "pipeline"] * 2  # both steps
    for latents in grabbed:  # after the generation, this pipeline decodes none of it
        with pytest.raises(UnmarkedOutputError):
            skyreels.pipe.vae.decode(latents)
    from reelproof.core.io import read_clip

    reading = watermarker.detect(read_clip(result.path).frames)
    assert reading.payload == result.watermark_id


def test_a_callback_can_stop_early_and_the_clip_is_still_marked(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any], watermarker: Any
) -> None:
    steps: list[int] = []

    def stop(view: StepView, step: int, timestep: Any, tensors: dict[str, object]) -> None:
        steps.append(step)
        assert view.num_timesteps == 2
        view.interrupt()

    result = wan_generator.generate("a red ball", tmp_path / "stop.mp4", callback_on_step_end=stop,
                                    **args)  # fmt: skip
    assert steps == [0]
    from reelproof.core.io import read_clip

    assert watermarker.detect(read_clip(result.path).frames).payload == result.watermark_id


def test_another_thread_cannot_use_the_pipeline_during_a_generation(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any], size: int
) -> None:
    errors: list[BaseException] = []

    def intruder() -> None:
        try:
            wan_generator.pipe.vae.decode(latents_like(wan_generator, size))
        except BaseException as err:
            errors.append(err)

    def callback(view: StepView, step: int, timestep: Any, tensors: dict[str, object]) -> None:
        thread = threading.Thread(target=intruder)
        thread.start()
        thread.join()

    wan_generator.generate("a red ball", tmp_path / "t.mp4", callback_on_step_end=callback, **args)
    assert len(errors) == 2 and all(isinstance(e, UnmarkedOutputError) for e in errors)


# 4. state left in the pipeline ----------------------------------------------------------------


def test_no_scheduler_state_survives_a_generation(
    skyreels: ResponsibleGenerator, tmp_path: Path, args: dict[str, Any]
) -> None:
    skyreels.generate("a red ball", tmp_path / "s.mp4", **args)
    state = list(vars(skyreels.pipe.scheduler).values())
    assert big_tensors(state) == []
    assert all(o is None for o in skyreels.pipe.scheduler.model_outputs)


def test_an_error_after_decoding_leaves_no_latents_in_its_traceback(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any], watermarker: Any
) -> None:
    class Failing(type(watermarker)):  # type: ignore[misc]
        def embed(self, frames: Any, payload: Any) -> Any:
            raise RuntimeError("embedding failed")

    failing = Failing(key=watermarker.key)
    gen = ResponsibleGenerator(wan_generator.pipe, failing, wan_generator.signer,
                               wan_generator.store)  # fmt: skip
    with pytest.raises(RuntimeError, match="embedding failed") as info:
        gen.generate("a red ball", tmp_path / "e.mp4", **args)
    frames: list[object] = []
    tb = info.value.__traceback__
    while tb is not None:
        frames.extend(tb.tb_frame.f_locals.values())
        tb = tb.tb_next
    assert big_tensors(frames) == [] and files_in(tmp_path) == []


# 5. output that did not come out of the hook --------------------------------------------------


def test_frames_changed_after_the_hook_are_refused(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any]
) -> None:
    from diffusers import WanPipeline

    class Retouching(WanPipeline):  # type: ignore[misc]
        def __call__(self, *a: Any, **kw: Any) -> Any:
            out = super().__call__(*a, **kw)
            out.frames = np.clip(out.frames + 3 / 255, 0, 1)  # a post-filter after the mark
            return out

    class Bypassing(WanPipeline):  # type: ignore[misc]
        def __call__(self, *a: Any, **kw: Any) -> Any:
            out = super().__call__(*a, **{**kw, "output_type": "latent"})
            out.frames = np.zeros((1, 9, 8, 8, 3), np.float32)
            return out

    for cls, match in ((Retouching, "differ"), (Bypassing, "never went through")):
        pipe = cls(**wan_generator.pipe.components)
        gen = ResponsibleGenerator(pipe, wan_generator.watermarker, wan_generator.signer,
                                   wan_generator.store)  # fmt: skip
        with pytest.raises(UnmarkedOutputError, match=match):
            gen.generate("a red ball", tmp_path / "r.mp4", **args)
        assert files_in(tmp_path) == []


# 6. arguments that would carry unmarked or unrecorded material --------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"latents": torch.zeros(1)},
        {"prompt_embeds": torch.zeros(1)},
        {"num_videos_per_prompt": 2},
        {"return_dict": False},
        {"generator": torch.Generator()},
        {"mask": [np.zeros((8, 8, 3), np.uint8)]},
        {"inputs": {"video": [np.zeros((8, 8, 3), np.uint8)]}},
    ],
    ids=lambda e: str(next(iter(e))),
)
def test_pass_through_arguments_are_refused(
    wan_generator: Any, tmp_path: Path, args: dict[str, Any], extra: dict[str, Any]
) -> None:
    with counting(wan_generator) as calls, pytest.raises(InputError):
        wan_generator.generate("a red ball", tmp_path / "x.mp4", **args, **extra)
    assert calls == [] and files_in(tmp_path) == []


def test_the_unarmed_hook_refuses_to_decode(wan_generator: Any) -> None:
    with pytest.raises(UnmarkedOutputError, match="ResponsibleGenerator"):
        wan_generator.proxy.postprocess_video(torch.zeros(1, 3, 1, 8, 8), output_type="np")
    with pytest.raises(UnmarkedOutputError, match="latent"):
        wan_generator.proxy.postprocess_video(torch.zeros(1, 3, 1, 8, 8), output_type="latent")
