"""``reelproof sign``, ``reelproof provenance verify/recover`` and ``reelproof keys init-dev``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reelproof.service.cli import EXIT_BAD_INPUT, EXIT_OK, run

from .conftest import WATERMARK_ID


def _json(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    out = capsys.readouterr().out
    body = json.loads(out)
    assert isinstance(body, dict)
    return body


def test_init_dev_sign_verify_recover(
    carphone_mp4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], reelproof_home: Path
) -> None:
    pki_dir = tmp_path / "pki"
    assert run(["keys", "init-dev", str(pki_dir), "--json"]) == EXIT_OK
    paths = _json(capsys)
    assert Path(paths["chain_pem"]).is_file() and Path(paths["key_pem"]).is_file()
    assert run(["keys", "init-dev", str(pki_dir)]) == EXIT_BAD_INPUT  # no silent overwrite
    capsys.readouterr()

    signed = tmp_path / "signed.mp4"
    args = [
        "sign",
        str(carphone_mp4),
        str(signed),
        "--cert",
        paths["chain_pem"],
        "--key",
        paths["key_pem"],
    ]
    assert run([*args, "--watermark-id", WATERMARK_ID, "--json"]) == EXIT_OK
    result = _json(capsys)
    assert result["dst"] == str(signed) and result["stored"] is True

    assert (
        run(["provenance", "verify", str(signed), "--trust", paths["root_pem"], "--json"])
        == EXIT_OK
    )
    report = _json(capsys)
    assert report["state"] == "trusted"
    for key in ("codes", "signer", "digital_source_type", "soft_bindings", "ingredients"):
        assert key in report
    assert report["soft_bindings"][0]["value"] == WATERMARK_ID

    assert run(["provenance", "verify", str(signed), "--json"]) == EXIT_OK
    assert _json(capsys)["state"] == "valid_untrusted"

    assert run(["provenance", "verify", str(signed), "--trust", paths["root_pem"]]) == EXIT_OK
    assert "trusted" in capsys.readouterr().out

    assert (
        run(["provenance", "recover", str(carphone_mp4), "--watermark-id", WATERMARK_ID, "--json"])
        == EXIT_OK
    )
    recovered = _json(capsys)
    assert recovered["status"] == "credentials recovered from the store"
    assert recovered["hard_binding_matches"] is False


def test_bad_inputs_exit_3_with_one_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], carphone_mp4: Path
) -> None:
    assert run(["provenance", "verify", str(tmp_path / "missing.mp4"), "--json"]) == EXIT_BAD_INPUT
    assert "error" in _json(capsys)
    missing = tmp_path / "none.pem"
    code = run(
        [
            "sign",
            str(carphone_mp4),
            str(tmp_path / "o.mp4"),
            "--cert",
            str(missing),
            "--key",
            str(missing),
        ]
    )
    assert code == EXIT_BAD_INPUT
    assert "does not exist" in capsys.readouterr().err
