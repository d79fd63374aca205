"""The embedded default model, the ``reelproof generate`` CLI and ``reelproof generator train``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reelproof.service.cli import EXIT_BAD_INPUT, EXIT_OK, run

from .conftest import files_in

PROMPT = "a red ball moving left on a black background"


def _json(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    body = json.loads(capsys.readouterr().out)
    assert isinstance(body, dict)
    return body


def test_weights_are_package_data_and_small() -> None:
    from reelproof.generator.loading import default_model_dir

    folder = default_model_dir()
    weights = list(folder.rglob("*.safetensors"))
    assert len(weights) == 2
    assert sum(p.stat().st_size for p in folder.rglob("*")) <= 20 * 1024 * 1024
    assert (folder / "MODEL_CARD.md").is_file()


def test_generate_cli_writes_a_marked_signed_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reelproof.provenance import SqliteManifestStore, TrustConfig, verify
    from reelproof.watermark import detect_file

    out = tmp_path / "out.mp4"
    assert run(["generate", PROMPT, "-o", str(out), "--steps", "4", "--seed", "7", "--json"]) == 0
    body = _json(capsys)
    assert body["path"] == str(out) and len(body["watermark_id"]) == 16
    assert (body["num_frames"], body["height"], body["width"]) == (16, 128, 128)
    report = verify(out, TrustConfig.dev())
    assert report.state == "trusted", report.summary
    assert [b.value for b in report.soft_bindings] == [body["watermark_id"]]
    assert detect_file(out).payload == body["watermark_id"]
    stored = SqliteManifestStore(Path(body["store"])).lookup(body["watermark_id"])
    assert stored is not None
    assert files_in(tmp_path) == ["out.mp4"]


def test_generate_cli_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "h.mp4"
    assert run(["generate", PROMPT, "-o", str(out), "--steps", "2"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "watermark id:" in text and "manifest:" in text and "manifest stored in:" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "-o", "{out}"], "empty"),
        (["a red dragon", "-o", "{out}"], "dragon"),
        ([" ".join(["a"] * 40), "-o", "{out}"], "words"),
        ([PROMPT, "-o", "{out}", "--size", "100"], "100"),
        ([PROMPT, "-o", "{out}", "--size", "32"], "too small for the watermark"),
        ([PROMPT, "-o", "{out}", "--frames", "7"], "frames"),
        ([PROMPT, "-o", "{out}", "--steps", "0"], "steps"),
        ([PROMPT, "-o", "{out}", "--model", "{tmp}/missing"], "does not exist"),
        ([PROMPT, "-o", "{out}", "--model", "{tmp}/empty"], "model_index.json"),
        ([PROMPT, "-o", "{out}", "--model", "{tmp}/flux"], "FluxPipeline cannot be marked"),
        ([PROMPT, "-o", "{out}", "--image", "{tmp}/none.png"], "image input"),
        ([PROMPT, "-o", "{out}", "--video", "{tmp}/none.mp4"], "video input"),
        ([PROMPT, "-o", "{out}", "--input", "mask"], "NAME=FILE"),
        ([PROMPT, "-o", "{out}", "--input", "nonsense={tmp}/none.png"], "not a media input"),
        ([PROMPT, "-o", "{out}", "--dtype", "float8"], "--dtype"),
        ([PROMPT, "-o", "{out}", "--cpu-offload"], "accelerator"),
        ([PROMPT, "-o", "{tmp}/out.gif"], "mp4"),
    ],
)
def test_generate_cli_rejects_bad_input_before_compute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux" / "model_index.json").write_text('{"_class_name": "FluxPipeline"}')
    before = files_in(tmp_path)
    filled = [a.format(out=tmp_path / "out.mp4", tmp=tmp_path) for a in args]
    assert run(["generate", *filled]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert files_in(tmp_path) == before  # nothing half-written


def test_default_model_follows_the_prompt_on_a_training_scene() -> None:
    """One seeded sample of a training combination passes the checker (a smoke test of quality;
    the benchmark measures held-out quality over many samples)."""
    import torch

    from reelproof.generator import scenes, tinyvid
    from reelproof.generator.loading import default_model_dir
    from reelproof.generator.quality import read_scene

    pipe = tinyvid.load_pipeline(default_model_dir())
    pipe.set_progress_bar_config(disable=True)
    spec = scenes.train_scenes()[0]
    out = pipe(spec.prompt, generator=torch.Generator().manual_seed(0), output_type="np").frames
    clip = (np.asarray(out[0]) * 255).round().astype(np.uint8)
    reading = read_scene(clip, spec)
    assert reading.background_ok and reading.colour_ok, reading


def test_loading_the_default_model_prints_no_bar_and_restores_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The embedded text encoder loads without transformers' "Loading weights" bar (it cluttered
    the demo), and the library's bar setting is left as it was for user models."""
    from transformers.utils import logging as hf_logging

    from reelproof.generator import tinyvid
    from reelproof.generator.loading import default_model_dir

    assert hf_logging.is_progress_bar_enabled()
    tinyvid.load_pipeline(default_model_dir())
    captured = capsys.readouterr()
    assert "Loading weights" not in captured.err + captured.out
    assert hf_logging.is_progress_bar_enabled()


def test_train_command_writes_a_loadable_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reelproof.generator import tinyvid

    out = tmp_path / "model"
    args = [
        "generator",
        "train",
        "--out",
        str(out),
        "--steps",
        "2",
        "--object-weight",
        "2",
        "--edge-weight",
        "3",
        "--json",
    ]
    assert run(args) == EXIT_OK
    body = _json(capsys)
    assert body["steps"] == 2.0
    train_marker = json.loads((out / tinyvid.MARKER_FILE).read_text())["train"]
    assert (train_marker["object_weight"], train_marker["edge_weight"]) == (2.0, 3.0)
    pipe = tinyvid.load_pipeline(out)
    assert pipe.tinyvid_config == tinyvid.TinyVidConfig()
    # The first model's settings stay reachable, so its card's command still reproduces it.
    first = tmp_path / "first"
    args += ["--out", str(first), "--denoiser", "wan", "--no-coords", "--prediction", "v"]
    assert run(args) == EXIT_OK
    _json(capsys)
    first_pipe = tinyvid.load_pipeline(first)
    got = first_pipe.tinyvid_config
    assert (got.denoiser, got.coords, got.prediction) == ("wan", False, "v")
    assert tuple(first_pipe.transformer.config.patch_size) == got.patch
    # A continued run keeps its starting point's stages in its marker, oldest first.
    second = tmp_path / "second"
    assert run([*args, "--out", str(second), "--init", str(first), "--steps", "1"]) == EXIT_OK
    _json(capsys)
    marker = json.loads((second / tinyvid.MARKER_FILE).read_text())
    assert [stage["steps_done"] for stage in marker["previous_stages"]] == [2]
    assert marker["previous_stages"][0]["train"]["denoiser"] == "wan"
    assert marker["train"]["init_from"] == str(first) and marker["steps_done"] == 1
    from reelproof.generator.loading import load_local

    assert load_local(second).version == "steps-2+1"


def test_object_weighting_marks_the_shape_and_reweights_the_loss() -> None:
    import torch

    from reelproof.generator import scenes
    from reelproof.generator.training import object_masks, weighted_mse

    spec = scenes.SceneSpec("red", "square", "left", "gray")
    clip = scenes.render_scene(spec, np.random.default_rng(0), 4, 32)
    masks = object_masks(clip[None], [spec], 1)
    assert masks.shape == (1, 4, 32, 32)
    # The square's side is about 2 * 0.9 * 0.17 of the frame: ~9-10% of the pixels.
    assert 0.06 < masks.mean() < 0.14
    assert np.all(masks[0, :, 0, 0] == 0)  # a corner is background
    pred = torch.zeros((1, 3, 4, 32, 32))
    target = torch.zeros_like(pred)
    target[:, :, :, :8, :8] = 1.0  # all error in one corner block (background there)
    plain = weighted_mse(pred, target, None)
    assert float(plain) == pytest.approx(float(torch.nn.functional.mse_loss(pred, target)))
    on_shape = torch.from_numpy(masks).float()[:, None]
    weighted = weighted_mse(pred, target, 1.0 + 6.0 * on_shape)
    assert float(weighted) < float(plain)  # the error is off the shape: it counts less


def test_edge_band_covers_where_a_square_and_a_ball_differ() -> None:
    """The outline band must hold the pixels that tell a square from a ball of the same size and
    place (the square's corners), whichever of the two was drawn."""
    from reelproof.generator import scenes
    from reelproof.generator.training import TrainConfig, edge_bands, loss_weights, object_masks

    drawn = {}
    for shape in ("square", "ball"):
        spec = scenes.SceneSpec("red", shape, "left", "gray")
        # The same seed gives the same size, start and path for both shapes.
        clip = scenes.render_scene(spec, np.random.default_rng(3), 4, 32)
        drawn[shape] = (spec, clip, object_masks(clip[None], [spec], 1))
    differ = drawn["square"][2] ^ drawn["ball"][2]
    assert differ.sum() > 0
    for spec, clip, mask in drawn.values():
        band = edge_bands(mask)
        assert (band & differ).sum() / differ.sum() > 0.95
        assert band.mean() < 0.25  # a band, not the frame
        assert not band[0, :, 0, 0].any()  # far corners of the frame stay out
        assert loss_weights(clip[None], [spec], TrainConfig()) is None  # plain MSE
        weight = loss_weights(clip[None], [spec], TrainConfig(object_weight=2.0, edge_weight=4.0))
        assert weight is not None and weight.shape == (1, 1, 4, 32, 32)
        expected = 1.0 + 2.0 * mask.astype(np.float32) + 4.0 * band.astype(np.float32)
        np.testing.assert_allclose(weight[:, 0].numpy(), expected)


def test_x_prediction_gives_the_flow_velocity() -> None:
    """An exact clean-clip prediction turns into the exact velocity ``noise - x0``; a velocity
    model's output passes through unchanged."""
    import dataclasses

    import torch

    from reelproof.generator import tinyvid

    x_cfg = tinyvid.TinyVidConfig()
    assert x_cfg.prediction == "x"
    gen = torch.Generator().manual_seed(0)
    x0 = torch.rand((2, 3, 2, 8, 8), generator=gen) * 2 - 1
    noise = torch.randn(x0.shape, generator=gen)
    sigma = torch.tensor([0.3, 0.9])
    noisy = (1 - sigma.view(-1, 1, 1, 1, 1)) * x0 + sigma.view(-1, 1, 1, 1, 1) * noise
    got = tinyvid.velocity(x0, noisy, sigma, x_cfg)
    torch.testing.assert_close(got, noise - x0, rtol=1e-5, atol=1e-5)
    v_cfg = dataclasses.replace(x_cfg, prediction="v")
    torch.testing.assert_close(tinyvid.velocity(noise - x0, noisy, sigma, v_cfg), noise - x0)
    # Near sigma 0 the division is clamped instead of blowing up a prediction's error.
    tiny = tinyvid.velocity(x0 + 0.01, noisy, torch.tensor([1e-6, 1e-6]), x_cfg)
    assert float(tiny.abs().max()) < 1e3


def test_checkpoint_without_newer_fields_loads_as_the_first_model(tmp_path: Path) -> None:
    """Markers written before ``prediction``, ``denoiser`` and ``coords`` existed describe the
    first shipped weights: a velocity-predicting Wan transformer without coordinate channels."""
    from diffusers import WanTransformer3DModel

    from reelproof.generator import tinyvid

    first = tinyvid.TinyVidConfig(prediction="v", denoiser="wan", coords=False)
    tinyvid.save_pipeline(tinyvid.build_pipeline(first), tmp_path, {})
    marker = json.loads((tmp_path / tinyvid.MARKER_FILE).read_text())
    for field in ("prediction", "denoiser", "coords"):
        del marker["config"][field]  # as written before the field existed
    (tmp_path / tinyvid.MARKER_FILE).write_text(json.dumps(marker))
    pipe = tinyvid.load_pipeline(tmp_path)
    assert pipe.tinyvid_config == first
    assert isinstance(pipe.transformer, WanTransformer3DModel)


def test_tokenizer_follows_the_loaded_config(tmp_path: Path) -> None:
    """A model saved with another prompt length reads prompts with that length after loading."""
    from reelproof.core import InputError
    from reelproof.generator import tinyvid

    short = tinyvid.TinyVidConfig(max_tokens=6)
    tinyvid.save_pipeline(tinyvid.build_pipeline(short), tmp_path, {})
    pipe = tinyvid.load_pipeline(tmp_path)
    assert pipe.tokenizer.max_tokens == 6
    ids, _ = pipe.tokenizer(["a red ball"])
    assert ids.shape == (1, 6)
    with pytest.raises(InputError, match="at most 6"):
        pipe.tokenizer(["a red ball moving left on a black background"])


def test_new_models_default_to_hunyuan_with_coordinates() -> None:
    from diffusers import HunyuanVideoTransformer3DModel

    from reelproof.generator import tinyvid

    cfg = tinyvid.TinyVidConfig()
    assert (cfg.denoiser, cfg.coords, cfg.prediction) == ("hunyuan", True, "x")
    transformer = tinyvid.build_transformer(cfg)
    assert isinstance(transformer, HunyuanVideoTransformer3DModel)
    assert transformer.config.in_channels == 3 + tinyvid.COORD_CHANNELS
    assert sum(p.numel() for p in transformer.parameters()) < 5_000_000  # 20 MB as float32


def test_coordinate_grid_spans_the_trained_clip() -> None:
    import torch

    from reelproof.generator import tinyvid

    cfg = tinyvid.TinyVidConfig()
    grid = tinyvid.coordinate_grid(torch.Size((2, 3, 16, 32, 32)), cfg)
    assert grid.shape == (2, 3, 16, 32, 32)
    t, y, x = grid[0]
    assert float(t[0].max()) == -1.0 and float(t[-1].min()) == pytest.approx(1.0)
    assert float(y[:, 0].max()) == -1.0 and float(y[:, -1].min()) == 1.0
    assert float(x[:, :, 0].max()) == -1.0 and float(x[:, :, -1].min()) == 1.0
    # A longer clip keeps the trained frame spacing and runs past 1 instead of squeezing time.
    longer = tinyvid.coordinate_grid(torch.Size((1, 3, 32, 32, 32)), cfg)
    torch.testing.assert_close(longer[0, 0, :16], t)
    assert float(longer[0, 0, -1].max()) > 1.0
    inputs = tinyvid.transformer_input(torch.zeros((2, 3, 16, 32, 32)), cfg)
    assert inputs.shape == (2, 6, 16, 32, 32)


@pytest.mark.parametrize("denoiser", ["hunyuan", "wan"])
def test_denoiser_reads_the_prompt(denoiser: str) -> None:
    import torch

    from reelproof.generator import tinyvid, tinyvid_text

    torch.manual_seed(0)
    cfg = tinyvid.TinyVidConfig(denoiser=denoiser)
    pipe = tinyvid.build_pipeline(cfg)
    noisy = torch.randn((1, 3, 4, 32, 32)).expand(2, -1, -1, -1, -1)
    prompts = [
        "a red ball moving left on a black background",
        "a red ball moving right on a black background",
    ]
    text = tinyvid_text.encode_text(pipe.text_encoder, pipe.tokenizer, prompts)
    assert text.pooled.shape == (2, cfg.text_dim)
    with torch.no_grad():
        out = tinyvid.denoise(pipe.transformer, noisy, torch.tensor([0.9, 0.9]), text, cfg)
    assert out.shape == (2, 3, 4, 32, 32)
    assert float((out[0] - out[1]).abs().max()) > 1e-4  # same input, other prompt, other output


@pytest.mark.parametrize("head_dim", [10, 12, 34])
def test_hunyuan_builds_and_runs_at_other_head_widths(head_dim: int) -> None:
    """Each head's rotary split (frames, rows, columns) must come out even for any even width."""
    import torch

    from reelproof.generator import tinyvid, tinyvid_text

    cfg = tinyvid.TinyVidConfig(heads=2, head_dim=head_dim, ffn_dim=4 * head_dim)
    pipe = tinyvid.build_pipeline(cfg)
    text = tinyvid_text.encode_text(pipe.text_encoder, pipe.tokenizer, ["a red ball moving up"])
    with torch.no_grad():
        out = tinyvid.denoise(
            pipe.transformer, torch.randn((1, 3, 4, 32, 32)), torch.tensor([0.5]), text, cfg
        )
    assert out.shape == (1, 3, 4, 32, 32) and bool(torch.isfinite(out).all())


@pytest.mark.parametrize("head_dim", [6, 33])
def test_hunyuan_rejects_head_widths_rope_cannot_split(head_dim: int) -> None:
    from reelproof.core import ConfigError
    from reelproof.generator import tinyvid

    with pytest.raises(ConfigError, match="rotary"):
        tinyvid.build_transformer(tinyvid.TinyVidConfig(heads=2, head_dim=head_dim))
