"""Fixtures of the generator tests: a throwaway PKI, a manifest store and tiny pipelines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> Iterator[None]:
    # The machine is shared: keep each test process to one core.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from reelproof.provenance.pki import init_dev_pki

    return init_dev_pki(tmp_path_factory.mktemp("gen-pki") / "pki")


@pytest.fixture(scope="session")
def signer(dev_pki: Any) -> Any:
    from reelproof.provenance import load_signer

    return load_signer(dev_pki.chain_pem, dev_pki.key_pem)


@pytest.fixture(scope="session")
def trust(dev_pki: Any) -> Any:
    from reelproof.provenance import TrustConfig

    return TrustConfig.from_files(dev_pki.root_pem)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from reelproof.provenance import SqliteManifestStore

    return SqliteManifestStore(tmp_path_factory.mktemp("gen-store") / "manifests.sqlite")


@pytest.fixture(scope="session")
def watermarker() -> Any:
    from reelproof.generator.signing import generator_watermarker
    from reelproof.watermark import WatermarkKey

    return generator_watermarker(WatermarkKey.demo())


@pytest.fixture(scope="session")
def size(watermarker: Any) -> int:
    """Frame side of the tiny-pipeline tests. 96 px: 64-px frames are marked, but the id of a
    5- to 9-frame 64-px clip of busy content is read about half the time (the CogVideoX tiny
    builds; see docs/watermark.md), which would make these contract tests a lottery; the 64-px
    reads are covered by test_small_clips and test_leaks."""
    return max(96, int(watermarker.min_side))


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory, size: int, signer: Any) -> Any:
    from reelproof.eval.tiny_pipelines.media import make_media

    return make_media(tmp_path_factory.mktemp("gen-media"), size, signer)


@pytest.fixture(scope="session")
def wan_generator(watermarker: Any, signer: Any, store: Any) -> Any:
    from reelproof.eval.tiny_pipelines.wan import wan
    from reelproof.generator import ResponsibleGenerator

    return ResponsibleGenerator.from_pipeline(wan(), watermarker, signer, store)


def as_uint8_frames(frames: Any, output_type: str) -> np.ndarray:
    """The first clip of a pipeline output as (F, H, W, 3) uint8, whatever its type."""
    if output_type == "np":
        return np.asarray(frames[0] * 255).round().astype(np.uint8)
    if output_type == "pt":
        clip = frames[0].permute(0, 2, 3, 1).numpy()  # (F, C, H, W) -> (F, H, W, C)
        return (clip * 255).round().astype(np.uint8)
    if output_type == "pil":
        return np.stack([np.asarray(img) for img in frames[0]])
    raise AssertionError(output_type)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def check_credentials(result: Any, trust: Any, store: Any, watermarker: Any) -> Any:
    """The saved file verifies as trusted (under ``trust``) with the generation's soft binding
    and source type, carries the exact id, and the store holds its manifest; returns the
    provenance report."""
    from reelproof.core.io import read_clip
    from reelproof.provenance import verify

    report = verify(result.path, trust)
    assert report.state == "trusted", report.summary
    assert [b.value for b in report.soft_bindings] == [result.watermark_id]
    assert report.digital_source_type is not None
    assert report.digital_source_type.endswith("trainedAlgorithmicMedia")
    stored = store.lookup(result.watermark_id)
    assert stored is not None and stored.content_sha256 == result.manifest.sha256
    reading = watermarker.detect(read_clip(result.path).frames)
    assert reading.detected and reading.payload == result.watermark_id, reading
    return report
