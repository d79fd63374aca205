"""Signing from threads and process-pool workers (the service signs and verifies in a pool).

c2pa-python crashes when a *Python* signing callback runs on a worker thread. File-based signers
sign natively (no callback) and are proven safe here on threads and in worker processes; callback
signers refuse to run off the main thread, and work in a process-pool worker's main thread.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from reelproof.core.errors import ConfigError
from reelproof.provenance import (
    DevPki,
    ProvenanceSigner,
    TrustConfig,
    ecdsa_callback,
    sign,
    signer_from_callback,
    verify,
)

from .conftest import make_spec


def _callback_signer(pki: DevPki) -> ProvenanceSigner:
    key = serialization.load_pem_private_key(pki.key_pem.read_bytes(), None)
    return signer_from_callback(ecdsa_callback(key), pki.chain_pem.read_text())  # type: ignore[arg-type]


def _sign_and_verify(src: Path, dst: Path, signer: ProvenanceSigner, trust: TrustConfig) -> str:
    sign(src, dst, make_spec(dst.name), signer)
    return verify(dst, trust).state


def test_callback_signer_works_on_main_thread(
    carphone_mp4: Path, pki: DevPki, trust: TrustConfig, tmp_path: Path
) -> None:
    assert (
        _sign_and_verify(carphone_mp4, tmp_path / "cb.mp4", _callback_signer(pki), trust)
        == "trusted"
    )


def test_callback_signer_refuses_worker_threads(
    carphone_mp4: Path, pki: DevPki, tmp_path: Path
) -> None:
    signer = _callback_signer(pki)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(sign, carphone_mp4, tmp_path / "t.mp4", make_spec(), signer)
        with pytest.raises(ConfigError, match="main thread"):
            future.result()
    assert not (tmp_path / "t.mp4").exists()


def test_file_signer_is_safe_on_threads(
    carphone_mp4: Path, signer: ProvenanceSigner, trust: TrustConfig, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(4) as pool:
        states = list(
            pool.map(
                lambda i: _sign_and_verify(carphone_mp4, tmp_path / f"t{i}.mp4", signer, trust),
                range(8),
            )
        )
    assert states == ["trusted"] * 8


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_signers_work_in_process_pool_workers(
    start_method: str,
    carphone_mp4: Path,
    pki: DevPki,
    signer: ProvenanceSigner,
    trust: TrustConfig,
    tmp_path: Path,
) -> None:
    context = multiprocessing.get_context(start_method)
    jobs = [(tmp_path / "file.mp4", signer), (tmp_path / "callback.mp4", _callback_signer(pki))]
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        futures = [pool.submit(_sign_and_verify, carphone_mp4, dst, s, trust) for dst, s in jobs]
        assert [f.result(timeout=120) for f in futures] == ["trusted", "trusted"]
