"""Keys, keyrings and payload coding."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import numpy as np
import pytest

from reelproof.core.errors import KeyMaterialError
from reelproof.watermark import DEMO_KEY_ID, Keyring, WatermarkKey
from reelproof.watermark.coding import CODED_BITS, decode_payload, encode_payload


def test_key_save_load_round_trip_with_owner_only_permissions(tmp_path: Path) -> None:
    key = WatermarkKey.generate()
    path = key.save(tmp_path / "k.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = WatermarkKey.load(path)
    assert loaded == key
    assert loaded.key_id.startswith("wm-") and not loaded.is_demo
    assert key.secret.hex() not in repr(key)
    with pytest.raises(KeyMaterialError):
        key.save(path)  # no silent overwrite


def test_generated_keys_differ_and_demo_key_is_public_and_stable() -> None:
    assert WatermarkKey.generate().secret != WatermarkKey.generate().secret
    demo = WatermarkKey.demo()
    assert demo == WatermarkKey.demo()
    assert demo.is_demo and demo.key_id == DEMO_KEY_ID
    assert "NOT secret" in (WatermarkKey.demo.__doc__ or "")


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"type": "other"}), json.dumps({"type": "reelproof-watermark-key"})],
)
def test_malformed_key_files_raise_key_material_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(KeyMaterialError):
        WatermarkKey.load(path)
    with pytest.raises(KeyMaterialError):
        WatermarkKey.load(tmp_path / "missing.json")


def test_default_keyring_holds_local_keys_env_key_and_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelproof.core.paths import watermark_keys_dir

    local = WatermarkKey.generate()
    local.save(watermark_keys_dir() / f"{local.key_id}.json")
    env_key = WatermarkKey.generate()
    monkeypatch.setenv("REELPROOF_WATERMARK_KEY", str(env_key.save(tmp_path / "env.json")))
    ids = [k.key_id for k in Keyring.default()]
    assert ids[-1] == DEMO_KEY_ID
    assert set(ids) == {local.key_id, env_key.key_id, DEMO_KEY_ID}
    assert DEMO_KEY_ID not in [k.key_id for k in Keyring.default(include_demo=False)]


def test_payload_code_corrects_noise_and_rejects_garbage() -> None:
    rng = np.random.default_rng(3)
    mac_key = b"m" * 32
    scramble = rng.integers(0, 2, CODED_BITS).astype(np.uint8)
    id_bits = rng.integers(0, 2, 64).astype(np.uint8)
    coded = encode_payload(id_bits, mac_key, scramble)
    soft = (1.0 - 2.0 * coded) + rng.normal(0.0, 0.8, CODED_BITS)
    assert np.mean(np.sign(soft) != 1.0 - 2.0 * coded) > 0.05  # there are raw bit errors
    decoded = decode_payload(soft, mac_key, scramble)
    assert decoded is not None and np.array_equal(decoded, id_bits)
    # The keyed check: another key never accepts it; pure noise decodes to None.
    assert decode_payload(soft, b"x" * 32, scramble) is None
    assert all(
        decode_payload(rng.normal(size=CODED_BITS), mac_key, scramble) is None for _ in range(100)
    )
