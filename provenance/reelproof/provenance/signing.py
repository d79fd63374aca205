"""Sign clips with C2PA manifests (c2pa-python), atomically.

Threads: a signer loaded from PEM files signs inside the native library (``Signer.from_info``),
so no Python callback runs during signing and it is safe on any thread or process-pool worker
(``tests/provenance/test_signing.py`` signs from both). A callback signer (KMS/HSM hook) calls
back into Python from native code, which crashes c2pa-python when done off the main thread; such
a signer refuses to sign anywhere but the main thread of its process (a process-pool worker's
main thread is fine).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from reelproof.core.errors import (
    ConfigError,
    InputError,
    KeyMaterialError,
    MediaDecodeError,
    ReelProofError,
    UnsupportedMediaError,
)
from reelproof.core.hashing import sha256_file
from reelproof.core.results import Result
from reelproof.provenance.manifest import (
    ManifestSpec,
    creation_definition,
    edit_definition,
    software_agent,
)
from reelproof.provenance.media import mp4_duration_ms, sniff_mime
from reelproof.provenance.pki import DEV_MARKER, check_signing_certificate, load_chain
from reelproof.provenance.thumbnail import THUMBNAIL_MIME, thumbnail_jpeg
from reelproof.provenance.trust import SIGNABLE_EKUS

_THUMB = "thumbnail.jpg"  # resource id of the claim thumbnail inside the builder

SignCallback = Callable[[bytes], bytes]
"""Signs the bytes given and returns the raw COSE signature (r||s for ECDSA, not DER)."""

_ALGS = {
    "es256": c2pa.C2paSigningAlg.ES256,
    "es384": c2pa.C2paSigningAlg.ES384,
    "es512": c2pa.C2paSigningAlg.ES512,
    "ps256": c2pa.C2paSigningAlg.PS256,
    "ps384": c2pa.C2paSigningAlg.PS384,
    "ps512": c2pa.C2paSigningAlg.PS512,
    "ed25519": c2pa.C2paSigningAlg.ED25519,
}


@dataclass(frozen=True)
class ProvenanceSigner:
    """A C2PA signing identity: certificate chain plus a key held locally or behind a callback.

    Build with :func:`load_signer` or :func:`signer_from_callback`. Pickles (for process pools)
    when it holds a PEM key; a callback signer pickles only if its callback does.

    Attributes:
        chain_pem: signing certificate then intermediates (no root), PEM.
        alg: COSE algorithm name (``es256``, ``ps256``, ``ed25519``...).
        tsa_url: RFC 3161 timestamp server, or ``None`` (no trusted signing time).
        subject: RFC 4514 subject of the signing certificate.
        is_dev: the chain is a ReelProof development certificate.
    """

    chain_pem: str
    alg: str
    tsa_url: str | None
    subject: str
    is_dev: bool
    key_pem: bytes | None = field(default=None, repr=False)
    callback: SignCallback | None = field(default=None, repr=False, compare=False)

    def native(self) -> Any:
        """A fresh ``c2pa.Signer`` (native resource: close it after use)."""
        if self.key_pem is not None:
            info = c2pa.C2paSignerInfo(
                self.alg.encode(), self.chain_pem.encode(), self.key_pem, self.tsa_url
            )
            return c2pa.Signer.from_info(info)
        if self.callback is None:
            raise ConfigError("signer has neither a private key nor a signing callback")
        if threading.current_thread() is not threading.main_thread():
            raise ConfigError(
                "callback signers must sign on the main thread of a process "
                "(c2pa-python crashes when its callback runs on a worker thread)",
                hint="sign from a process pool, or use load_signer() with a PEM key",
            )
        return c2pa.Signer.from_callback(
            self.callback, _ALGS[self.alg], self.chain_pem, self.tsa_url
        )


@dataclass(frozen=True)
class SignResult(Result):
    """What signing wrote.

    Attributes:
        manifest_bytes: the C2PA manifest store (JUMBF) embedded in ``dst``; keep it in the
            manifest store to recover credentials after they are stripped.
        dst: the signed file.
        content_sha256: SHA-256 of the whole signed file.
        mime: MIME type the file was signed as.
        watermark_id: soft-binding value recorded (``None`` when none).
        signer_subject: RFC 4514 subject of the signing certificate.
        signed_at: UTC time of signing (ISO 8601; not a trusted timestamp).
        seconds: wall time spent signing and hashing.
        thumbnail: a ``c2pa.thumbnail.claim`` JPEG was embedded (``False`` when the file
            could not be decoded: it is signed all the same).
    """

    schema = "sign_result"

    manifest_bytes: bytes
    dst: Path
    content_sha256: str
    mime: str
    watermark_id: str | None
    signer_subject: str
    signed_at: str
    seconds: float
    thumbnail: bool = False

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["dst"] = str(self.dst)
        body["manifest_bytes"] = len(self.manifest_bytes)  # size; the bytes live in the store
        return body


def _alg_for_key(key: Any) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in by_curve:
            raise KeyMaterialError(f"unsupported EC curve {key.curve.name} for C2PA signing")
        return by_curve[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise KeyMaterialError(f"unsupported private key type {type(key).__name__}")


def _check_chain(chain_pem: str) -> x509.Certificate:
    certs = load_chain(chain_pem)
    check_signing_certificate(certs[0])
    return certs[0]


def _read(path: Path | str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except FileNotFoundError as err:
        raise KeyMaterialError(f"{what} {path} does not exist", hint="check the path") from err
    except OSError as err:
        raise KeyMaterialError(f"cannot read {what} {path}: {err}") from err


def _is_dev(chain_pem: str) -> bool:
    return DEV_MARKER in chain_pem or any(
        "DEV ONLY" in str(a.value) for c in load_chain(chain_pem) for a in c.subject
    )


def load_signer(
    chain_pem_path: Path | str, key_pem_path: Path | str, tsa_url: str | None = None
) -> ProvenanceSigner:
    """A signer from a PEM certificate chain and a PEM (PKCS#8 or traditional) private key.

    Checks up front what c2pa-rs would refuse with a vague message: the key must match the
    certificate, which must be valid now, carry digitalSignature, an accepted EKU and an AKI.

    Raises:
        KeyMaterialError: missing, unreadable, mismatched or unacceptable key material.
    """
    chain_pem = _read(chain_pem_path, "certificate chain").decode("utf-8", "replace")
    key_bytes = _read(key_pem_path, "private key")
    try:
        key = serialization.load_pem_private_key(key_bytes, password=None)
    except (ValueError, TypeError) as err:
        raise KeyMaterialError(
            f"{key_pem_path} is not an unencrypted PEM private key ({err})",
            hint="export the key as unencrypted PKCS#8 PEM, or use a callback signer (KMS/HSM)",
        ) from err
    leaf = _check_chain(chain_pem)
    pub = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_pub = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if pub != key_pub:
        raise KeyMaterialError(
            f"private key {key_pem_path} does not belong to the signing certificate in "
            f"{chain_pem_path}",
            hint="the first certificate of the chain must be the one the key signs for",
        )
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ProvenanceSigner(
        chain_pem=chain_pem,
        alg=_alg_for_key(key),
        tsa_url=_check_tsa(tsa_url),
        subject=leaf.subject.rfc4514_string(),
        is_dev=_is_dev(chain_pem),
        key_pem=pkcs8,
    )


def signer_from_callback(
    callback: SignCallback,
    chain_pem: str | Path,
    alg: str = "es256",
    tsa_url: str | None = None,
) -> ProvenanceSigner:
    """A signer whose private key stays elsewhere (KMS, HSM): ``callback(data) -> signature``.

    The callback receives the bytes to sign and returns the raw COSE signature (for ECDSA the
    fixed-size ``r||s`` form, see :func:`ecdsa_callback`). It runs on the main thread only.

    Args:
        callback: signing function.
        chain_pem: PEM chain (text or a path): signing certificate first, no root.
        alg: COSE algorithm of the key.
        tsa_url: optional RFC 3161 timestamp server.
    """
    text = (
        _read(chain_pem, "certificate chain").decode() if isinstance(chain_pem, Path) else chain_pem
    )
    if alg not in _ALGS:
        raise ConfigError(f"unknown signing algorithm {alg!r}", hint=f"one of {sorted(_ALGS)}")
    leaf = _check_chain(text)
    return ProvenanceSigner(
        chain_pem=text,
        alg=alg,
        tsa_url=_check_tsa(tsa_url),
        subject=leaf.subject.rfc4514_string(),
        is_dev=_is_dev(text),
        callback=callback,
    )


class _EcdsaCallback:
    """Picklable ECDSA signing callback holding a PEM key (so process pools can ship it)."""

    def __init__(self, key_pem: bytes) -> None:
        self.key_pem = key_pem

    def __call__(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        key = serialization.load_pem_private_key(self.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        size = (key.curve.key_size + 7) // 8
        digest = {32: hashes.SHA256(), 48: hashes.SHA384()}.get(size, hashes.SHA512())
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def ecdsa_callback(private_key: ec.EllipticCurvePrivateKey) -> SignCallback:
    """A callback signing with a local ``cryptography`` EC key (stands in for a KMS in tests).

    The COSE form of an ECDSA signature is the fixed-size ``r||s``, not DER.
    """
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _EcdsaCallback(pem)


def _check_tsa(url: str | None) -> str | None:
    if url is None or url == "":
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"timestamp server URL {url!r} must start with http:// or https://")
    return url


def _builder_settings() -> dict[str, Any]:
    return {
        "version": 1,
        # Let every EKU c2pa-rs can sign with pass the verify-after-sign step; the reader's
        # policy decides what it accepts.
        "trust": {"trust_config": "\n".join(SIGNABLE_EKUS) + "\n"},
        "verify": {
            "verify_after_sign": True,
            "verify_trust": False,  # the signer's root is not ours to judge here
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
        # c2pa-rs makes thumbnails of some stills only; ReelProof adds its own for every format.
        "builder": {"thumbnail": {"enabled": False}},
        # Spill the output to a temporary file above 16 MB instead of holding it in RAM.
        "core": {"backing_store_memory_threshold_in_mb": 16},
    }


def _duration_ms(path: Path, mime: str) -> int | None:
    """Clip duration for the soft-binding timespan: from ``mvhd`` (cheap), else a probe (AVI)."""
    if mime.startswith("image/"):
        return None  # a still has no timespan: the binding covers the whole picture
    if mime != "video/x-msvideo":
        return mp4_duration_ms(path)
    try:
        from reelproof.core.io import probe

        return round(float(probe(path).duration) * 1000) or None
    except ReelProofError:
        return None


def _translate(err: Exception, signer: ProvenanceSigner, src: Path) -> ReelProofError:
    text = str(err)
    if isinstance(err, c2pa.C2paError.NotSupported):
        return UnsupportedMediaError(f"{src.name}: c2pa cannot sign this format ({text})")
    if signer.tsa_url and ("time" in text.lower() or "http" in text.lower()):
        return ConfigError(
            f"signing failed at the timestamp server {signer.tsa_url}: {text}",
            hint="check the server is reachable, or sign without --tsa",
        )
    if isinstance(err, c2pa.C2paError.Signature):
        return KeyMaterialError(
            f"c2pa refused the signing key or certificate: {text}",
            hint="the certificate needs digitalSignature, a C2PA EKU and an AKI, valid now",
        )
    if isinstance(err, c2pa.C2paError.Io | c2pa.C2paError.Other | c2pa.C2paError.Decoding):
        return MediaDecodeError(f"{src.name}: c2pa could not parse the file ({text})")
    return ReelProofError(f"signing {src.name} failed: {text}")


def _sign_with_builder(
    definition: dict[str, Any],
    ingredients: Sequence[tuple[dict[str, Any], Path]],
    src: Path,
    dst: Path,
    mime: str,
    signer: ProvenanceSigner,
    thumbnail: bytes | None = None,
) -> bytes:
    """Run one c2pa Builder sign from ``src`` into ``dst`` through a temp file + rename.

    ``thumbnail`` (JPEG bytes) becomes the manifest's ``c2pa.thumbnail.claim``.
    """
    dst = Path(dst)
    if thumbnail is not None:
        definition = {**definition, "thumbnail": {"format": THUMBNAIL_MIME, "identifier": _THUMB}}
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with ExitStack() as stack:
            context = stack.enter_context(c2pa.Context.from_dict(_builder_settings()))
            builder = stack.enter_context(c2pa.Builder(definition, context=context))
            if thumbnail is not None:
                builder.add_resource(_THUMB, io.BytesIO(thumbnail))
            for ingredient, path in ingredients:
                handle: BinaryIO = stack.enter_context(path.open("rb"))
                builder.add_ingredient(ingredient, sniff_ingredient_mime(path), handle)
            native = stack.enter_context(signer.native())
            source = stack.enter_context(src.open("rb"))
            out = stack.enter_context(tmp.open("w+b"))
            manifest = bytes(builder.sign(native, mime, source, out))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dst)
    except c2pa.C2paError as err:
        raise _translate(err, signer, src) from err
    finally:
        tmp.unlink(missing_ok=True)
    return manifest


def sniff_ingredient_mime(path: Path) -> str:
    """MIME type of an ingredient (a video, or a still image input), from its bytes.

    Raises:
        InputError: the ingredient does not exist; UnsupportedMediaError: an unknown format.
    """
    if not path.exists():
        raise InputError(f"ingredient {path} does not exist", hint="check the path")
    return sniff_mime(path)


def sign(
    src: Path | str, dst: Path | str, spec: ManifestSpec, signer: ProvenanceSigner
) -> SignResult:
    """Embed a signed C2PA manifest describing a generated clip; the last write to the file.

    Records ``c2pa.created`` with the digital source type and ReelProof as software agent, the
    generator assertion, the watermark id as a ``c2pa.soft-binding`` assertion with a
    ``c2pa.watermarked.bound`` action, image-to-video inputs as ``inputTo`` ingredients, a
    signed source clip (``spec.parent_ingredient``) as the ``parentOf`` ingredient, and a JPEG
    thumbnail. ``dst`` appears atomically (temp file + rename); ``src`` may equal ``dst``.
    Video (MP4, MOV, M4V, AVI) and stills (JPEG, PNG, WebP, HEIC, AVIF) are signed.

    Raises:
        InputError: ``src`` missing or empty; UnsupportedMediaError: an unsupported format;
        KeyMaterialError / ConfigError: the signer or timestamp server was refused.
    """
    start = time.perf_counter()
    src, dst = Path(src), Path(dst)
    mime = sniff_mime(src)
    ingredients: list[tuple[dict[str, Any], Path]] = []
    labels: list[str] = []
    for index, path in enumerate(spec.input_ingredients):
        label = f"input-{index}"
        labels.append(label)
        ingredients.append(
            ({"title": path.name, "relationship": "inputTo", "label": label}, Path(path))
        )
    parent_label = None
    if spec.parent_ingredient is not None:
        parent_label = "parent"
        parent = {"title": spec.parent_ingredient.name, "relationship": "parentOf"}
        ingredients.insert(0, ({**parent, "label": parent_label}, spec.parent_ingredient))
    definition = creation_definition(spec, labels, _duration_ms(src, mime), parent_label)
    thumb = thumbnail_jpeg(src, mime)
    manifest = _sign_with_builder(definition, ingredients, src, dst, mime, signer, thumb)
    return SignResult(
        manifest_bytes=manifest,
        dst=dst,
        content_sha256=sha256_file(dst),
        mime=mime,
        watermark_id=spec.watermark_id,
        signer_subject=signer.subject,
        signed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        seconds=time.perf_counter() - start,
        thumbnail=thumb is not None,
    )


EditAction = str | Mapping[str, Any]
"""An action name such as ``"c2pa.edited"`` or a full C2PA action dict."""


def sign_edit(
    parent: Path | str,
    edited_clip_path: Path | str,
    dst: Path | str,
    actions: Sequence[EditAction],
    signer: ProvenanceSigner,
) -> SignResult:
    """Sign an edited clip, recording ``parent`` (signed or not) as its ``parentOf`` ingredient.

    The manifest lists ``c2pa.opened`` (the parent) then ``actions`` (``c2pa.edited`` when
    empty), so the chain of custody survives post-production; the parent's own manifest and its
    validation results at edit time are embedded in the ingredient.
    """
    start = time.perf_counter()
    parent, src, dst = Path(parent), Path(edited_clip_path), Path(dst)
    mime = sniff_mime(src)
    sniff_mime(parent)
    agent = software_agent()
    records: list[dict[str, Any]] = []
    for action in actions or ("c2pa.edited",):
        record: dict[str, Any] = {"action": action} if isinstance(action, str) else dict(action)
        record.setdefault("softwareAgent", agent)
        records.append(record)
    definition = edit_definition(dst.name, "parent", records)
    ingredient = {"title": parent.name, "relationship": "parentOf", "label": "parent"}
    thumb = thumbnail_jpeg(src, mime)
    manifest = _sign_with_builder(definition, [(ingredient, parent)], src, dst, mime, signer, thumb)
    return SignResult(
        manifest_bytes=manifest,
        dst=dst,
        content_sha256=sha256_file(dst),
        mime=mime,
        watermark_id=None,
        signer_subject=signer.subject,
        signed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        seconds=time.perf_counter() - start,
        thumbnail=thumb is not None,
    )
