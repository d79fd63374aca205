"""``reelproof detector train / eval / score`` end to end on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reelproof.service.cli import run


def test_train_eval_score_json(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.joblib"
    assert (
        run(["detector", "train", "--data", str(tiny_dataset), "--out", str(model), "--json"]) == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert body["card"]["training"]["videos"] == 16 and model.is_file()

    assert (
        run(["detector", "eval", "--data", str(tiny_dataset), "--model", str(model), "--json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["rows"][0]["name"] == "video" and report["rows"][0]["metrics"]["auc"] > 0.9

    clip = tiny_dataset / "fake" / "nearest2x" / "src1__c0.mp4"
    assert run(["detector", "score", str(clip), "--model", str(model), "--json"]) == 0
    score = json.loads(capsys.readouterr().out)
    assert score["label"] in {"synthetic", "real", "inconclusive"}, score
    assert 0.0 <= score["p_synthetic"] <= 1.0
    assert isinstance(score["segments"], list) and score["segments"]


def test_score_default_weights_text_output(
    carphone_mp4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["detector", "score", str(carphone_mp4), "--max-frames", "4"]) == 0
    assert "p_synthetic" in capsys.readouterr().out


def test_bad_inputs_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 64)
    assert run(["detector", "score", str(junk), "--json"]) == 3
    assert "error" in json.loads(capsys.readouterr().out)
    assert run(["detector", "train", "--data", str(tmp_path / "none")]) == 3
