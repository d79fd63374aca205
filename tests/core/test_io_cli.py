"""``reelproof info``: the JSON contract on real footage, the table, and --decode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reelproof.service.cli import main


def test_info_json_on_real_footage(bikes_mp4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(bikes_mp4), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert body["width"] == 640 and body["height"] == 272
    assert body["fps"] == 25.0 and body["frames"] == 250
    assert body["duration"] == pytest.approx(10.0) and body["codec"] == "h264"


def test_info_decode_counts_frames(carphone_mp4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(carphone_mp4), "--json", "--decode"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["decoded_frames"] == body["frames"] == 120


def test_info_table(cgi_mp4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(cgi_mp4)]) == 0
    out = capsys.readouterr().out
    assert "1280 x 720" in out and "aac, 48000 Hz" in out


def test_info_bad_input_json_error_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    assert main(["info", str(bad), "--json"]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["type"] == "UnsupportedMediaError"
    assert captured.err.count("\n") == 1


def test_cli_in_a_subprocess(bikes_mp4: Path, tmp_path: Path) -> None:
    """The real entry point: exit codes and streams as a shell user sees them."""
    ok = subprocess.run(
        [sys.executable, "-m", "reelproof.service.cli", "info", str(bikes_mp4), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["frames"] == 250
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(100))
    failed = subprocess.run(
        [sys.executable, "-m", "reelproof.service.cli", "info", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 3
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: ")
