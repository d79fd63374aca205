"""Provenance fixtures: one throwaway PKI per test session, real MP4s signed for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelproof.provenance import (
    DevPki,
    GeneratorInfo,
    ManifestSpec,
    ProvenanceSigner,
    SignResult,
    TrustConfig,
    init_dev_pki,
    load_signer,
    sign,
)

WATERMARK_ID = "0123456789abcdef"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A throwaway root, intermediate and signing certificate for this test session."""
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def signer(pki: DevPki) -> ProvenanceSigner:
    return load_signer(pki.chain_pem, pki.key_pem)


@pytest.fixture(scope="session")
def trust(pki: DevPki) -> TrustConfig:
    return TrustConfig(anchors_pem=pki.root_pem.read_text())


def make_spec(title: str = "clip.mp4", **kw: object) -> ManifestSpec:
    generator_info = GeneratorInfo("tiny-t2v", "0.1", "sha256:" + "ab" * 32, prompt="a red car")
    options: dict[str, object] = {"watermark_id": WATERMARK_ID, **kw}
    return ManifestSpec(title=title, generator=generator_info, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def signed_clip(
    carphone_mp4: Path, signer: ProvenanceSigner, tmp_path_factory: pytest.TempPathFactory
) -> SignResult:
    """Real footage (carphone, 176x144) signed once for the session; treat it as read-only."""
    out = tmp_path_factory.mktemp("signed") / "carphone.signed.mp4"
    return sign(carphone_mp4, out, make_spec("carphone.mp4"), signer)
