"""Dev PKI, certificate checks and signer loading (errors c2pa would only describe vaguely)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reelproof.core.errors import ConfigError, KeyMaterialError
from reelproof.provenance import (
    C2PA_CLAIM_SIGNING_EKU,
    DevPki,
    TrustConfig,
    ensure_dev_pki,
    init_dev_pki,
    is_dev_certificate,
    load_signer,
    signer_from_callback,
    verify,
)


def test_dev_pki_has_the_extensions_c2pa_needs(pki: DevPki) -> None:
    leaf, inter = x509.load_pem_x509_certificates(pki.chain_pem.read_bytes())
    root = x509.load_pem_x509_certificate(pki.root_pem.read_bytes())
    assert leaf.issuer == inter.subject and inter.issuer == root.subject
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    ekus = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # The C2PA trust-list profile: the C2PA EKU with documentSigning and emailProtection (what a
    # stock c2pa.Reader and c2pa-ts require), never timeStamping/OCSPSigning beside them.
    assert [e.dotted_string for e in ekus] == [
        C2PA_CLAIM_SIGNING_EKU,
        "1.3.6.1.5.5.7.3.36",
        "1.3.6.1.5.5.7.3.4",
    ]
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    inter_ski = inter.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == inter_ski.digest
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    org = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert "DEV ONLY" in str(org)
    assert os.stat(pki.key_pem).st_mode & 0o777 == 0o600
    assert not (pki.directory / "root.key.pem").exists()  # the root key is never written


def test_init_dev_refuses_to_overwrite(pki: DevPki) -> None:
    with pytest.raises(KeyMaterialError, match="already holds"):
        init_dev_pki(pki.directory)


def test_ensure_dev_pki_lives_in_reelproof_home(reelproof_home: Path) -> None:
    first = ensure_dev_pki()
    assert first.directory.is_relative_to(reelproof_home)
    assert ensure_dev_pki().chain_pem.read_bytes() == first.chain_pem.read_bytes()  # reused
    assert TrustConfig.dev().anchors_pem == first.root_pem.read_text()


def _self_issued_chain(
    tmp_path: Path, org: str, *, aki: bool = True, eku: str = C2PA_CLAIM_SIGNING_EKU
) -> tuple[Path, Path]:
    """A CA + leaf outside the dev PKI, to test checks on foreign certificates."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "News CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "Newsroom signer"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(eku)]), critical=False)
    )
    if aki:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    leaf = builder.sign(ca_key, hashes.SHA256())
    chain, key_path = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, key_path


def test_is_dev_certificate(pki: DevPki, tmp_path: Path) -> None:
    assert is_dev_certificate(pki.chain_pem)
    assert is_dev_certificate(pki.chain_pem.read_text())
    chain, _ = _self_issued_chain(tmp_path, "Acme News")
    assert not is_dev_certificate(chain)


def test_is_dev_certificate_on_a_report(signed_clip, trust: TrustConfig) -> None:  # type: ignore[no-untyped-def]
    assert is_dev_certificate(verify(signed_clip.dst, trust))


def test_missing_aki_is_named(tmp_path: Path) -> None:
    chain, key = _self_issued_chain(tmp_path, "Acme News", aki=False)
    with pytest.raises(KeyMaterialError, match="AuthorityKeyIdentifier"):
        load_signer(chain, key)


def test_unacceptable_eku_is_named(tmp_path: Path) -> None:
    chain, key = _self_issued_chain(
        tmp_path, "Acme News", eku=ExtendedKeyUsageOID.CODE_SIGNING.dotted_string
    )
    with pytest.raises(KeyMaterialError, match="EKU"):
        load_signer(chain, key)


def test_mismatched_or_missing_key(pki: DevPki, tmp_path: Path) -> None:
    _, other_key = _self_issued_chain(tmp_path, "Acme News")
    with pytest.raises(KeyMaterialError, match="does not belong"):
        load_signer(pki.chain_pem, other_key)
    with pytest.raises(KeyMaterialError, match="does not exist"):
        load_signer(pki.chain_pem, tmp_path / "nope.pem")
    with pytest.raises(KeyMaterialError, match="not an unencrypted PEM"):
        load_signer(pki.chain_pem, pki.chain_pem)


def test_callback_signer_checks_alg_and_tsa(pki: DevPki) -> None:
    with pytest.raises(ConfigError, match="algorithm"):
        signer_from_callback(lambda b: b, pki.chain_pem.read_text(), alg="md5")
    with pytest.raises(ConfigError, match="http"):
        signer_from_callback(lambda b: b, pki.chain_pem.read_text(), tsa_url="ftp://tsa")


def test_trust_config_from_files(pki: DevPki, tmp_path: Path) -> None:
    ekus = tmp_path / "ekus.txt"
    ekus.write_text("# ours\n1.3.6.1.4.1.62558.2.1\n\n// comment\n")
    config = TrustConfig.from_files([pki.root_pem], ekus)
    assert config.allowed_ekus == ("1.3.6.1.4.1.62558.2.1",)
    assert config.to_settings()["verify"]["remote_manifest_fetch"] is False
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(KeyMaterialError, match="PEM"):
        TrustConfig.from_files(bad)
    with pytest.raises(KeyMaterialError, match="dotted"):
        TrustConfig(allowed_ekus=("emailProtection",))
