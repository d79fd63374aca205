"""The CLI's documented exit codes and error contract, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "reelproof.service.cli"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False)


def test_help_lists_every_command_group() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for group in (
        "info",
        "generate",
        "verify",
        "watermark",
        "provenance",
        "keys",
        "detector",
        "eval",
        "serve",
        "demo",
    ):
        assert group in done.stdout


@pytest.mark.parametrize("args", [["info", "--bogus"], ["no-such-command"], ["info"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    done = run_cli(*args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_bad_input_exits_3_with_one_line(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.mp4"
    text_file.write_text("this is not a video\n")
    done = run_cli("info", str(text_file))
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr


def test_bad_input_with_json_prints_an_error_object(tmp_path: Path) -> None:
    done = run_cli("info", str(tmp_path / "missing.mp4"), "--json")
    assert done.returncode == 3
    body = json.loads(done.stdout)
    assert body["error"]["type"] and "missing.mp4" in body["error"]["message"]


def test_info_json_on_real_footage(bikes_mp4: Path) -> None:
    done = run_cli("info", str(bikes_mp4), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert (body["width"], body["height"], body["frames"], body["codec"]) == (640, 272, 250, "h264")
    assert body["fps"] == pytest.approx(25.0)
    assert body["duration"] == pytest.approx(10.0, abs=0.05)
