"""``reelproof watermark embed/detect`` and ``reelproof keys init-watermark`` in process."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from reelproof.service.cli import run


def test_init_watermark_then_embed_and_detect_json(
    tmp_path: Path, make_video, capsys: pytest.CaptureFixture[str], bikes_frames: np.ndarray
) -> None:
    key_path = tmp_path / "wm.json"
    assert run(["keys", "init-watermark", str(key_path), "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600 and created["path"] == str(key_path)

    src = make_video("src.mp4", frames=bikes_frames[:10], audio_codec="aac")
    out = tmp_path / "marked.mp4"
    code = run(
        [
            "watermark",
            "embed",
            str(src),
            str(out),
            "--payload",
            "00112233aabbccdd",
            "--key",
            str(key_path),
            "--json",
        ]
    )
    assert code == 0
    capsys.readouterr()
    from reelproof.core.io import probe

    assert probe(out).has_audio and probe(out).frames == 10

    assert run(["watermark", "detect", str(out), "--key", str(key_path), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    for field in ("detected", "p_value", "payload", "payload_verified", "frames_used", "method"):
        assert field in body
    assert body["detected"] and body["payload"] == "00112233aabbccdd" and body["payload_verified"]
    assert body["key_id"] == created["key_id"]

    # The default keyring (local keys + demo) does not hold this key: nothing is detected.
    assert run(["watermark", "detect", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["detected"] is False


def test_detect_rejects_a_non_video_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"\x00" * 100)
    assert run(["watermark", "detect", str(bogus), "--json"]) == 3
    assert "error" in json.loads(capsys.readouterr().out)


def test_bad_payload_is_a_usage_error(tmp_path: Path, make_video) -> None:
    src = make_video("s.mp4")
    assert run(["watermark", "embed", str(src), str(tmp_path / "o.mp4"), "--payload", "xyz"]) == 3
