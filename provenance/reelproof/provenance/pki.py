"""Throwaway development PKI (root, intermediate, signing certificate) and certificate checks.

c2pa-rs refuses a signing certificate without digitalSignature, without an accepted EKU, or
without an AuthorityKeyIdentifier, and says only "the certificate is invalid". The checks in
:func:`check_signing_certificate` name the missing piece instead.

Every certificate made here carries ``O=ReelProof DEV ONLY - not for production`` so that
:func:`is_dev_certificate` (and the service, unless ``REELPROOF_ENV=dev``) can refuse it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reelproof.core.errors import KeyMaterialError
from reelproof.provenance.trust import (
    C2PA_CLAIM_SIGNING_EKU,
    DEV_SIGNER_EKUS,
    SIGNABLE_EKUS,
    parse_pem_bundle,
)

if TYPE_CHECKING:
    from reelproof.provenance.verify import ProvenanceReport, SignerIdentity

DEV_MARKER = "ReelProof DEV ONLY - not for production"
"""Organisation name of every development certificate."""

ROOT_FILE = "root.pem"
CHAIN_FILE = "chain.pem"
KEY_FILE = "signing.key.pem"
INTERMEDIATE_CERT_FILE = "intermediate.pem"
INTERMEDIATE_KEY_FILE = "intermediate.key.pem"


@dataclass(frozen=True)
class DevPki:
    """Paths of a development PKI folder.

    Attributes:
        root_pem: the self-signed root (the trust anchor for ``TrustConfig``).
        chain_pem: signing certificate then intermediate (what a signer sends; no root).
        key_pem: PKCS#8 private key of the signing certificate (mode 0600).
        directory: the folder holding them (plus the intermediate's key, to issue more leaves).
    """

    root_pem: Path
    chain_pem: Path
    key_pem: Path
    directory: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_MARKER),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "ReelProof development PKI"),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    path_length: int | None = None,
    ekus: Sequence[str] = (),
    eku_critical: bool = False,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        # c2pa-rs rejects a chain without AuthorityKeyIdentifier ("the certificate is invalid").
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ekus:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in ekus]),
            critical=eku_critical,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def init_dev_pki(
    directory: Path | str,
    *,
    overwrite: bool = False,
    lifetime: dt.timedelta = dt.timedelta(days=365),
) -> DevPki:
    """Create a throwaway root, intermediate and signing certificate in ``directory``.

    The certificates follow the C2PA trust-list certificate profile: the signing certificate
    carries a critical keyUsage of digitalSignature only, the EKUs of ``DEV_SIGNER_EKUS`` (C2PA
    claim signing, documentSigning, emailProtection), SKI and AKI; the CAs carry keyCertSign and
    cRLSign. A stock ``c2pa.Reader`` then reports at most ``signingCredential.untrusted``.
    The root's private key is never written (nothing else may be issued under it except through
    the intermediate, whose key is kept for :func:`issue_dev_leaf`).

    Args:
        directory: folder to create (mode 0700).
        overwrite: replace an existing PKI; otherwise an existing one raises.
        lifetime: validity of every certificate from now.

    Returns:
        The paths of the new PKI.

    Raises:
        KeyMaterialError: ``directory`` already holds a PKI and ``overwrite`` is false.
    """
    folder = Path(directory).expanduser()
    if (folder / CHAIN_FILE).exists() and not overwrite:
        raise KeyMaterialError(
            f"{folder} already holds a development PKI",
            hint="pass overwrite=True (CLI: --force) to replace it, or choose another folder",
        )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    inter_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("ReelProof Dev Root CA")
    inter_name = _name("ReelProof Dev Intermediate CA")
    root = _issue(
        root_name, root_key.public_key(), root_name, root_key,
        ca=True, path_length=1, not_before=start, not_after=now + lifetime,
    )  # fmt: skip
    inter = _issue(
        inter_name, inter_key.public_key(), root_name, root_key,
        ca=True, path_length=0, not_before=start, not_after=now + lifetime,
    )  # fmt: skip
    _write_public(folder / ROOT_FILE, _pem(root))
    _write_public(folder / INTERMEDIATE_CERT_FILE, _pem(inter))
    _write_private(folder / INTERMEDIATE_KEY_FILE, inter_key)
    (folder / "README.txt").write_text(
        f"{DEV_MARKER}.\nThrowaway certificates made by `reelproof keys init-dev`. Never use them "
        "to sign content you publish; never commit the *.key.pem files.\n"
    )
    chain, key = issue_dev_leaf(folder, "signing", lifetime=lifetime)
    os.replace(chain, folder / CHAIN_FILE)
    os.replace(key, folder / KEY_FILE)
    return DevPki(folder / ROOT_FILE, folder / CHAIN_FILE, folder / KEY_FILE, folder)


def issue_dev_leaf(
    directory: Path | str,
    name: str,
    *,
    ekus: Sequence[str] = DEV_SIGNER_EKUS,
    lifetime: dt.timedelta = dt.timedelta(days=365),
    not_before: dt.datetime | None = None,
    eku_critical: bool = False,
) -> tuple[Path, Path]:
    """Issue another signing certificate under a dev PKI's intermediate (tests, tamper suite).

    Args:
        directory: a folder made by :func:`init_dev_pki`.
        name: file stem and common name of the new leaf.
        ekus: dotted EKU OIDs to put in the certificate.
        lifetime: validity from ``not_before`` (a few seconds makes an expiring certificate).
        not_before: start of validity (default: one minute ago).
        eku_critical: mark the EKU extension critical (RFC 3161 asks it of a TSA certificate).

    Returns:
        ``(chain_path, key_path)`` written as ``<name>.chain.pem`` and ``<name>.key.pem``.
    """
    folder = Path(directory)
    try:
        inter = x509.load_pem_x509_certificate((folder / INTERMEDIATE_CERT_FILE).read_bytes())
        inter_key = serialization.load_pem_private_key(
            (folder / INTERMEDIATE_KEY_FILE).read_bytes(), None
        )
    except (OSError, ValueError) as err:
        raise KeyMaterialError(
            f"{folder} is not a development PKI folder ({err})",
            hint="make one with `reelproof keys init-dev DIR`",
        ) from err
    assert isinstance(inter_key, ec.EllipticCurvePrivateKey)
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue(
        _name(f"ReelProof Dev Signer ({name})"), key.public_key(), inter.subject, inter_key,
        ca=False, ekus=ekus, eku_critical=eku_critical, not_before=start,
        not_after=start + lifetime,
    )  # fmt: skip
    chain_path = folder / f"{name}.chain.pem"
    key_path = folder / f"{name}.key.pem"
    _write_public(chain_path, _pem(leaf) + _pem(inter))
    _write_private(key_path, key)
    return chain_path, key_path


def make_untrusted_pki(directory: Path | str) -> DevPki:
    """A second, unrelated dev PKI: its signatures are intact but chain to an unknown root."""
    return init_dev_pki(directory, overwrite=True)


def ensure_dev_pki() -> DevPki:
    """The default dev PKI under ``reelproof.core.paths.dev_pki_dir()``, made on first use."""
    from reelproof.core.paths import dev_pki_dir

    folder = dev_pki_dir()
    if (folder / CHAIN_FILE).exists() and (folder / KEY_FILE).exists():
        return DevPki(folder / ROOT_FILE, folder / CHAIN_FILE, folder / KEY_FILE, folder)
    return init_dev_pki(folder, overwrite=True)


def load_chain(chain: str | bytes | Path) -> list[x509.Certificate]:
    """Parse a PEM chain given as text, bytes or a file path."""
    if isinstance(chain, Path):
        try:
            chain = chain.read_bytes()
        except OSError as err:
            raise KeyMaterialError(f"cannot read certificate chain: {err}") from err
    return parse_pem_bundle(chain, "certificate chain")


def _names_of(cert: x509.Certificate) -> list[str]:
    values: list[str] = []
    for name in (cert.subject, cert.issuer):
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME):
            values.extend(str(attr.value) for attr in name.get_attributes_for_oid(oid))
    return values


def is_dev_certificate(
    chain: str | bytes | Path | ProvenanceReport | SignerIdentity | Any,
) -> bool:
    """Whether a chain (PEM text/bytes/path) or a report's signer is a ReelProof dev certificate.

    The service refuses such signers unless ``REELPROOF_ENV=dev``.
    """
    signer = getattr(chain, "signer", chain)
    if hasattr(signer, "is_dev"):
        return bool(signer.is_dev)
    if not isinstance(signer, str | bytes | Path):
        return False
    certs = load_chain(signer)
    return any("DEV ONLY" in value for cert in certs for value in _names_of(cert))


def check_signing_certificate(cert: x509.Certificate, now: dt.datetime | None = None) -> None:
    """Raise a precise :class:`KeyMaterialError` when c2pa-rs would refuse this signing cert."""
    moment = now or dt.datetime.now(dt.UTC)
    subject = cert.subject.rfc4514_string()
    if cert.not_valid_after_utc < moment or cert.not_valid_before_utc > moment:
        raise KeyMaterialError(
            f"signing certificate {subject} is not valid now "
            f"({cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})",
            hint="renew the certificate (dev: `reelproof keys init-dev DIR --force`)",
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise KeyMaterialError(
            f"signing certificate {subject} lacks the digitalSignature key usage",
            hint="C2PA signers need keyUsage=digitalSignature",
        )
    try:
        ekus = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        oids = {eku.dotted_string for eku in ekus}
    except x509.ExtensionNotFound:
        oids = set()
    if not oids & set(SIGNABLE_EKUS):
        raise KeyMaterialError(
            f"signing certificate {subject} has no EKU accepted for C2PA signing "
            f"(has {sorted(oids) or 'none'})",
            hint=f"issue it with the C2PA claim-signing EKU {C2PA_CLAIM_SIGNING_EKU} and "
            "id-kp-documentSigning or id-kp-emailProtection (see docs/provenance.md)",
        )
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE.dotted_string in oids:
        raise KeyMaterialError(f"signing certificate {subject} uses anyExtendedKeyUsage")
    try:
        cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound as err:
        raise KeyMaterialError(
            f"signing certificate {subject} has no AuthorityKeyIdentifier extension",
            hint="re-issue it with authorityKeyIdentifier (openssl adds it with -extfile)",
        ) from err
