"""Durable credentials: the SQLite manifest store, fingerprints and recovery after stripping."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from reelproof.core.errors import InputError, ReelProofError
from reelproof.provenance import (
    FINGERPRINT_THRESHOLD,
    ManifestStore,
    ProvenanceSigner,
    SignResult,
    SqliteManifestStore,
    TrustConfig,
    fingerprint_distance,
    fingerprint_file,
    record_signing,
    recover_from_store,
    sign,
    verify,
)
from reelproof.provenance.fingerprint import Fingerprint, fingerprint_frames, hash_frames
from reelproof.provenance.tamper import reencode, remux

from .conftest import WATERMARK_ID, make_spec


@pytest.fixture()
def store(tmp_path: Path) -> SqliteManifestStore:
    return SqliteManifestStore(tmp_path / "manifests.sqlite")


def test_store_round_trip_latest_wins(store: SqliteManifestStore) -> None:
    assert isinstance(store, ManifestStore)
    fp = Fingerprint((0.0, 0.5), (1, 2**64 - 1))
    store.put(WATERMARK_ID, b"first", content_sha256="a" * 64, fingerprint=None, signer="CN=a")
    store.put(
        "0x0123456789ABCDEF", b"second", content_sha256="b" * 64, fingerprint=fp, signer="CN=b"
    )
    found = store.lookup(WATERMARK_ID.upper())
    assert found is not None
    assert (found.manifest_bytes, found.signer, found.fingerprint) == (b"second", "CN=b", fp)
    assert store.lookup("ffffffffffffffff") is None
    assert store.count() == 2
    with pytest.raises(InputError):
        store.lookup("not-hex")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_store_default_path_and_concurrent_writers(reelproof_home: Path) -> None:
    store = SqliteManifestStore()
    assert store.path.is_relative_to(reelproof_home)

    def put(i: int) -> None:
        SqliteManifestStore(store.path).put(
            f"{i:016x}", bytes([i]), content_sha256="c" * 64, fingerprint=None, signer="CN=x"
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(40)))
    assert store.count() == 40
    assert store.lookup(f"{7:016x}").manifest_bytes == b"\x07"  # type: ignore[union-attr]


def test_fingerprint_survives_reencode_and_separates_clips(
    bikes_mp4: Path, carphone_mp4: Path, tmp_path: Path
) -> None:
    original = fingerprint_file(bikes_mp4)
    assert len(original.hashes) >= 30
    again = fingerprint_file(reencode(bikes_mp4, tmp_path / "re.mp4", crf=32))
    other = fingerprint_file(carphone_mp4)
    same_distance = fingerprint_distance(original, again)
    other_distance = fingerprint_distance(original, other)
    assert same_distance < FINGERPRINT_THRESHOLD / 2
    assert other_distance > FINGERPRINT_THRESHOLD
    assert fingerprint_distance(original, original) == 0.0
    assert Fingerprint.from_json(original.to_json()) == original


def test_fingerprint_frames_shape_contract() -> None:
    frames = np.zeros((5, 40, 50, 3), np.uint8)  # (n, H, W, 3) uint8
    frames[:, :20] = 200
    fp = fingerprint_frames(frames, np.arange(5, dtype=np.float64) / 25)
    assert len(fp.hashes) == 5 and all(0 <= h < 2**64 for h in fp.hashes)


@pytest.fixture(scope="module")
def stored(
    signed_clip: SignResult, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SqliteManifestStore, SignResult]:
    store = SqliteManifestStore(tmp_path_factory.mktemp("store") / "m.sqlite")
    record_signing(store, signed_clip)
    return store, signed_clip


def test_recover_after_remux_strip(
    stored: tuple[SqliteManifestStore, SignResult], trust: TrustConfig, tmp_path: Path
) -> None:
    store, signed = stored
    stripped = remux(signed.dst, tmp_path / "stripped.mp4")
    assert verify(stripped, trust).state == "absent"
    found = recover_from_store(stripped, WATERMARK_ID, store, trust)
    assert found is not None
    assert found.status == "credentials recovered from the store"
    assert found.state == "trusted"
    assert not found.hard_binding_matches and not found.content_sha256_matches
    assert found.fingerprint_matches is True and found.fingerprint_distance is not None
    assert found.fingerprint_distance < 0.05  # remux keeps every frame
    assert found.digital_source_type is not None and found.digital_source_type.endswith(
        "trainedAlgorithmicMedia"
    )
    assert found.signer is not None and found.signer.is_dev
    assert found.generator is not None and found.generator.name == "tiny-t2v"
    assert any("no longer matches" in s for s in found.statements)
    assert "assertion.bmffHash.mismatch" in found.report.failure_codes
    body = found.to_dict()
    assert body["found"] is True and body["state"] == "trusted"


def test_recover_after_reencode_and_on_intact_file(
    stored: tuple[SqliteManifestStore, SignResult], trust: TrustConfig, tmp_path: Path
) -> None:
    store, signed = stored
    found = recover_from_store(
        reencode(signed.dst, tmp_path / "re.mp4", crf=30), WATERMARK_ID, store, trust
    )
    assert found is not None and found.fingerprint_matches and not found.hard_binding_matches
    intact = recover_from_store(signed.dst, WATERMARK_ID, store, trust)
    assert intact is not None
    assert (
        intact.hard_binding_matches and intact.content_sha256_matches and intact.state == "trusted"
    )


def test_copied_watermark_id_on_other_content_is_flagged(
    stored: tuple[SqliteManifestStore, SignResult], bikes_mp4: Path, trust: TrustConfig
) -> None:
    store, _ = stored
    found = recover_from_store(bikes_mp4, WATERMARK_ID, store, trust)
    assert found is not None
    assert found.fingerprint_matches is False
    assert any("do NOT match" in s for s in found.statements)


def test_untrusted_policy_and_unknown_id(stored: tuple[SqliteManifestStore, SignResult]) -> None:
    store, signed = stored
    found = recover_from_store(signed.dst, WATERMARK_ID, store, TrustConfig())
    assert found is not None and found.state == "valid_untrusted"
    assert recover_from_store(signed.dst, "ffffffffffffffff", store) is None


def test_record_signing_needs_a_watermark_id(
    carphone_mp4: Path, signer: ProvenanceSigner, store: SqliteManifestStore, tmp_path: Path
) -> None:
    result = sign(carphone_mp4, tmp_path / "nowm.mp4", make_spec(watermark_id=None), signer)
    with pytest.raises(ReelProofError, match="watermark id"):
        record_signing(store, result)


def test_recover_with_given_fingerprint(
    stored: tuple[SqliteManifestStore, SignResult],
    trust: TrustConfig,
    tmp_path: Path,
    bikes_mp4: Path,
) -> None:
    store, signed = stored
    stripped = remux(signed.dst, tmp_path / "stripped.mp4")
    computed = recover_from_store(stripped, WATERMARK_ID, store, trust)
    given = recover_from_store(
        stripped, WATERMARK_ID, store, trust, fingerprint=lambda: fingerprint_file(stripped)
    )
    assert computed is not None and given is not None
    assert given.fingerprint_distance == computed.fingerprint_distance
    # A fingerprint of other content is what gets compared: the match fails.
    other = recover_from_store(
        stripped, WATERMARK_ID, store, trust, fingerprint=fingerprint_file(bikes_mp4)
    )
    assert other is not None and other.fingerprint_matches is False


def test_old_stride_fingerprint_still_matches(bikes_mp4: Path, tmp_path: Path) -> None:
    """Stores written before the sampler kept every 7th frame's hash: still comparable."""
    from reelproof.core.io import iter_chunks

    stamps: list[float] = []
    hashes: list[int] = []
    for chunk in iter_chunks(bikes_mp4, stride=250 // 32):
        hashes.extend(hash_frames(chunk.frames))
        stamps.extend(float(t) for t in chunk.timestamps)
    old = Fingerprint.from_json(Fingerprint(tuple(stamps), tuple(hashes)).to_json())
    again = fingerprint_file(reencode(bikes_mp4, tmp_path / "re.mp4", crf=28))
    assert fingerprint_distance(old, again) < FINGERPRINT_THRESHOLD


@pytest.mark.parametrize("shape", [(3, 720, 1280), (2, 272, 640), (2, 20, 50), (2, 33, 31)])
def test_block_luma_equals_integral_image(shape: tuple[int, int, int]) -> None:
    """The fast block sums give the same 32x32 luma as the integral-image reference."""
    from reelproof.provenance.fingerprint import _HASH_SIDE, _luma_32, _luma_32_small

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)  # (n, H, W, 3) uint8
    rows = np.linspace(0, shape[1], _HASH_SIDE + 1).astype(int)
    cols = np.linspace(0, shape[2], _HASH_SIDE + 1).astype(int)
    np.testing.assert_allclose(_luma_32(frames), _luma_32_small(frames, rows, cols), atol=1e-6)


def test_a_signed_still_is_stored_and_recovered_by_its_watermark_id(
    signer: ProvenanceSigner, trust: TrustConfig, tmp_path: Path
) -> None:
    from PIL import Image
    from reelproof_test_media import synthetic_frames

    src = tmp_path / "still.png"
    Image.fromarray(synthetic_frames(n=1, height=128, width=160)[0]).save(src)
    result = sign(src, tmp_path / "signed.png", make_spec("still.png"), signer)
    store = SqliteManifestStore(tmp_path / "store.db")
    stored = record_signing(store, result)
    assert stored.fingerprint is not None and len(stored.fingerprint.hashes) == 1
    stripped = tmp_path / "stripped.jpg"  # credentials gone, same picture
    Image.open(result.dst).convert("RGB").save(stripped, quality=90)
    found = recover_from_store(stripped, WATERMARK_ID, store, trust)
    assert found is not None and found.fingerprint_matches is True
    assert found.state == "trusted" and not found.hard_binding_matches
