"""Trust policy for verification: anchors, allowed EKUs, allowed soft-binding algorithms.

c2pa-python only honours trust settings passed through a ``Context`` (``load_settings`` is
ignored by ``Reader`` and ``Builder`` in 0.38), so :meth:`TrustConfig.to_settings` builds the
settings dict that every read and sign goes through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from reelproof.core.errors import KeyMaterialError

C2PA_CLAIM_SIGNING_EKU = "1.3.6.1.4.1.62558.2.1"
"""``c2pa-kp-claimSigning``: the EKU the C2PA certificate policy asks a claim signer to carry."""
DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"
EMAIL_PROTECTION_EKU = "1.3.6.1.5.5.7.3.4"
TIME_STAMPING_EKU = "1.3.6.1.5.5.7.3.8"
MICROSOFT_C2PA_EKU = "1.3.6.1.4.1.311.76.59.1.9"

DEV_SIGNER_EKUS: tuple[str, ...] = (
    C2PA_CLAIM_SIGNING_EKU,
    DOCUMENT_SIGNING_EKU,
    EMAIL_PROTECTION_EKU,
)
"""EKUs of a ReelProof signing certificate (the C2PA trust-list certificate profile): the C2PA
claim-signing EKU that the C2PA trust list asks for, with id-kp-documentSigning and
id-kp-emailProtection that c2pa-rs's default EKU list (a stock ``c2pa.Reader``) and other
validators (c2pa-ts) require. Never timeStamping or OCSPSigning, which must stand alone."""

DEFAULT_ALLOWED_EKUS: tuple[str, ...] = (
    C2PA_CLAIM_SIGNING_EKU,
    DOCUMENT_SIGNING_EKU,
    EMAIL_PROTECTION_EKU,
    TIME_STAMPING_EKU,
)
"""EKUs a verifier accepts by default. c2pa-rs 0.91 accepts emailProtection and timeStamping
whatever this list says; listing them keeps the policy honest about what passes."""

SIGNABLE_EKUS: tuple[str, ...] = (*DEFAULT_ALLOWED_EKUS, MICROSOFT_C2PA_EKU)
"""EKUs c2pa-rs lets a signer use at all (others fail with "the certificate is invalid")."""

REELPROOF_SOFT_BINDING_ALG = "io.reelproof.rp-ss.1"
"""Soft-binding algorithm id of the ReelProof spread-spectrum video watermark."""


@dataclass(frozen=True)
class TrustConfig:
    """What a verifier trusts.

    Attributes:
        anchors_pem: PEM bundle of root (or intermediate) certificates to trust; ``None`` means no
            anchor, so the best state a file can reach is ``valid_untrusted``.
        allowed_ekus: dotted OIDs a signing certificate may carry.
        allowed_soft_binding_algs: soft-binding algorithm ids reported as recognised; others are
            listed with an informational code.
        remote_manifests: fetch manifests referenced by URL (off: verification stays offline).
    """

    anchors_pem: str | None = None
    allowed_ekus: tuple[str, ...] = DEFAULT_ALLOWED_EKUS
    allowed_soft_binding_algs: tuple[str, ...] = (REELPROOF_SOFT_BINDING_ALG,)
    remote_manifests: bool = False

    def __post_init__(self) -> None:
        if self.anchors_pem is not None:
            parse_pem_bundle(self.anchors_pem, "trust anchors")
        object.__setattr__(self, "allowed_ekus", tuple(self.allowed_ekus))
        object.__setattr__(self, "allowed_soft_binding_algs", tuple(self.allowed_soft_binding_algs))
        for oid in self.allowed_ekus:
            if not all(part.isdigit() for part in oid.split(".")):
                raise KeyMaterialError(
                    f"allowed EKU {oid!r} is not a dotted OID",
                    hint="write EKUs as dotted numbers, e.g. 1.3.6.1.4.1.62558.2.1",
                )

    @classmethod
    def from_files(
        cls,
        anchors: Path | str | Sequence[Path | str] | None = None,
        ekus_file: Path | str | None = None,
        allowed_soft_binding_algs: Sequence[str] = (REELPROOF_SOFT_BINDING_ALG,),
        remote_manifests: bool = False,
    ) -> TrustConfig:
        """Build a policy from PEM files (one or many) and an optional EKU list file.

        The EKU file holds one dotted OID per line; lines starting with ``#`` or ``//`` are
        comments.
        """
        paths: list[Path] = []
        if isinstance(anchors, str | Path):
            paths = [Path(anchors)]
        elif anchors is not None:
            paths = [Path(p) for p in anchors]
        pem = "".join(_read_text(p, "trust anchor file") for p in paths) if paths else None
        ekus = DEFAULT_ALLOWED_EKUS
        if ekus_file is not None:
            lines = _read_text(Path(ekus_file), "EKU list").splitlines()
            ekus = tuple(
                line.strip()
                for line in lines
                if line.strip() and not line.strip().startswith(("#", "//"))
            )
        return cls(
            anchors_pem=pem,
            allowed_ekus=ekus,
            allowed_soft_binding_algs=tuple(allowed_soft_binding_algs),
            remote_manifests=remote_manifests,
        )

    @classmethod
    def dev(cls) -> TrustConfig:
        """Trust the local throwaway development root (made on first use)."""
        from reelproof.provenance.pki import ensure_dev_pki

        pki = ensure_dev_pki()
        return cls(anchors_pem=pki.root_pem.read_text())

    def to_settings(self) -> dict[str, Any]:
        """The c2pa ``Context`` settings dict for reading under this policy."""
        trust: dict[str, Any] = {"trust_config": "\n".join(self.allowed_ekus) + "\n"}
        if self.anchors_pem:
            trust["user_anchors"] = self.anchors_pem
        return {
            "version": 1,
            "trust": trust,
            "verify": {
                "verify_after_reading": True,
                "verify_trust": True,
                "verify_timestamp_trust": True,
                "remote_manifest_fetch": self.remote_manifests,
                "ocsp_fetch": False,
            },
            # Large files: spill to a temporary file instead of RAM above this size.
            "core": {"backing_store_memory_threshold_in_mb": 16},
        }


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise KeyMaterialError(f"{what} {path} does not exist", hint="check the path") from err
    except (OSError, UnicodeDecodeError) as err:
        raise KeyMaterialError(f"cannot read {what} {path}: {err}") from err


def parse_pem_bundle(pem: str | bytes, what: str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle.

    Raises:
        KeyMaterialError: the text is not PEM, or holds no certificate (``what`` names it).
    """
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as err:
        raise KeyMaterialError(
            f"{what}: not a PEM certificate bundle ({err})",
            hint="give PEM files with -----BEGIN CERTIFICATE----- blocks",
        ) from err
    if not certs:
        raise KeyMaterialError(f"{what}: no certificate found")
    return certs
