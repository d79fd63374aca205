"""``reelproof generate --model DIR`` on saved tiny diffusers folders (text-, image- and
video-to-video), with the memory options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reelproof.service.cli import EXIT_BAD_INPUT, EXIT_OK, run

from .conftest import files_in


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    body = json.loads(capsys.readouterr().out)
    assert isinstance(body, dict)
    return body


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Saved tiny Wan folders: text-, image- and video-to-video."""
    from reelproof.eval.tiny_pipelines import calm_decoder
    from reelproof.eval.tiny_pipelines.wan import wan, wan_i2v, wan_v2v

    root = tmp_path_factory.mktemp("gen-folders")
    saved: dict[str, Path] = {}
    for name, build in (("t2v", wan), ("i2v", wan_i2v), ("v2v", wan_v2v)):
        saved[name] = root / f"tiny-wan-{name}"
        calm_decoder(build()).save_pretrained(saved[name])
    return saved


def _check(body: dict[str, Any], trust_home: Path) -> None:
    from reelproof.core.io import read_clip
    from reelproof.provenance import TrustConfig, verify
    from reelproof.watermark import Keyring

    path = Path(body["path"])
    assert verify(path, TrustConfig.dev()).state == "trusted"
    key = Keyring.default(include_demo=True).keys[0]
    from reelproof.generator.signing import generator_watermarker

    reading = generator_watermarker(key).detect(read_clip(path).frames)
    assert reading.payload == body["watermark_id"]


def test_generate_from_a_diffusers_folder(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    reelproof_home: Path,
) -> None:  # fmt: skip
    out = tmp_path / "t2v.mp4"
    argv = ["generate", "a red ball", "-o", str(out), "--model", str(folders["t2v"]),
            "--frames", "9", "--size", "128", "--steps", "2", "--seed", "4", "--vae-tiling",
            "--dtype", "float32", "--json"]  # fmt: skip
    assert run(argv) == EXIT_OK
    body = _json(capsys)
    assert (body["num_frames"], body["width"], body["fps"]) == (9, 128, 16.0)
    assert body["manifest"]["model"] == "tiny-wan-t2v local"
    _check(body, reelproof_home)
    assert files_in(tmp_path) == ["t2v.mp4"]


def test_generate_with_input_image_and_signed_clip(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    reelproof_home: Path,
) -> None:  # fmt: skip
    from reelproof.eval.tiny_pipelines.media import make_media
    from reelproof.generator.signing import default_signer

    # Signed by this home's dev PKI: c2pa counts a parent's untrusted signer against the whole
    # clip (it would verify as valid_untrusted).
    media = make_media(tmp_path / "in", 128, default_signer())
    out = tmp_path / "out"
    out.mkdir()
    i2v = ["generate", "a red ball", "-o", str(out / "i2v.mp4"), "--model",
           str(folders["i2v"]), "--image", str(media.image), "--frames", "9", "--size", "128",
           "--steps", "2", "--json"]  # fmt: skip
    assert run(i2v) == EXIT_OK
    body = _json(capsys)
    assert body["manifest"]["ingredients"] == [media.image.name]
    _check(body, reelproof_home)
    v2v = ["generate", "a red ball", "-o", str(out / "v2v.mp4"), "--model",
           str(folders["v2v"]), "--video", str(media.signed_clip), "--size", "128", "--steps",
           "2", "--json"]  # fmt: skip
    assert run(v2v) == EXIT_OK
    body = _json(capsys)
    assert body["manifest"]["parent"] == media.signed_clip.name
    assert body["manifest"]["ingredients"] == []
    _check(body, reelproof_home)


@pytest.mark.parametrize(
    ("model", "extra", "message"),
    [
        ("t2v", ["--frames", "8"], "4k+1"),
        ("t2v", ["--size", "136"], "multiple of 16"),
        ("t2v", ["--image", "{image}"], "takes no image"),
        ("i2v", [], "needs its image input"),
        ("v2v", ["--frames", "9"], "takes no frame count"),
        ("v2v", ["--video", "{image}"], "video"),
    ],
)
def test_folder_specific_requests_fail_before_any_step(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], media: Any,
    model: str, extra: list[str], message: str,
) -> None:  # fmt: skip
    filled = [a.format(image=media.image) for a in extra]
    argv = ["generate", "a red ball", "-o", str(tmp_path / "x.mp4"), "--model",
            str(folders[model]), "--steps", "2", *filled]  # fmt: skip
    if "--size" not in filled:
        argv += ["--size", "128"]
    assert run(argv) == EXIT_BAD_INPUT
    # Loading shows diffusers' progress bars; the error is one line, the last.
    lines = capsys.readouterr().err.strip().splitlines()
    assert message in lines[-1] and sum(line.startswith("error") for line in lines) == 1
    assert files_in(tmp_path) == []
