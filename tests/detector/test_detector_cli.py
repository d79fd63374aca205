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


def test_train_eval_score_with_the_fusion_head(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "fusion.joblib"
    args = ["detector", "train", "--data", str(tiny_dataset), "--head", "fusion"]
    assert run([*args, "--out", str(model), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["card"]["config"]["temporal"] is True
    # eval builds the same rows as scoring (frame features + the clip's temporal vector)
    assert (
        run(["detector", "eval", "--data", str(tiny_dataset), "--model", str(model), "--json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["rows"][0]["metrics"]["auc"] > 0.9
    clip = tiny_dataset / "real" / "src0__c0.mp4"
    assert run(["detector", "score", str(clip), "--model", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in {"real", "inconclusive", "synthetic"}


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


def test_score_faces_with_the_shipped_weights(
    carphone_mp4: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["detector", "score", str(carphone_mp4), "--faces", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["label"] in {"synthetic", "real", "inconclusive"}
    face = body["faces"][0]
    assert face["end_s"] > face["start_s"] >= 0.0 and len(face["box"]) == 4
    assert bytes.fromhex(face["thumbnail_jpeg"])[:2] == b"\xff\xd8"  # a JPEG
    assert run(["detector", "score", str(carphone_mp4), "--faces"]) == 0
    assert "face 0:" in capsys.readouterr().out


def test_score_a_still_says_why_it_abstains(
    bikes_mp4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fractions import Fraction

    import numpy as np

    from reelproof.core.io import VideoWriter, read_clip

    still = np.asarray(read_clip(bikes_mp4, max_frames=1).frames)[0]
    path = tmp_path / "still.mp4"
    with VideoWriter(path, fps=Fraction(25), width=640, height=272) as writer:
        writer.write(np.stack([still] * 100))
    assert run(["detector", "score", str(path)]) == 0
    out = capsys.readouterr().out
    assert "abstain (p_synthetic n/a" in out and "reason (static): static picture" in out


def test_train_refuses_the_traces_backbone_it_cannot_train(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t.joblib"
    code = run(["detector", "train", "--data", str(tiny_dataset), "--backbone", "traces"])
    assert code == 3 and not out.exists()
    assert "train_default_detector.py" in capsys.readouterr().err
