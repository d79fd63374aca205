"""C2PA provenance for ReelProof: sign, verify, trust policy, dev PKI, durable credentials.

Wraps c2pa-python (never hand-rolled C2PA); never imports torch.

Typical use::

    from reelproof.provenance import ManifestSpec, GeneratorInfo, load_signer, sign, verify

    signer = load_signer("chain.pem", "signing.key.pem")
    result = sign("clip.mp4", "clip.signed.mp4", ManifestSpec(title="clip.mp4"), signer)
    report = verify("clip.signed.mp4", TrustConfig.from_files("root.pem"))
"""

from reelproof.provenance.codes import (
    FAILURE_KIND,
    FAILURE_KIND_SENTENCES,
    FAILURE_KINDS,
    FailureKind,
    failure_kind,
    is_tolerated_failure,
)
from reelproof.provenance.fingerprint import (
    FINGERPRINT_MAX_FRAMES,
    FINGERPRINT_SAMPLES,
    FINGERPRINT_THRESHOLD,
    Fingerprint,
    fingerprint_distance,
    fingerprint_file,
    fingerprint_frames,
)
from reelproof.provenance.manifest import (
    GENERATOR_ASSERTION,
    TRAINED_ALGORITHMIC_MEDIA,
    GeneratorInfo,
    ManifestSpec,
)
from reelproof.provenance.pki import (
    DEV_MARKER,
    DevPki,
    ensure_dev_pki,
    init_dev_pki,
    is_dev_certificate,
    issue_dev_leaf,
)
from reelproof.provenance.recover import RecoveredCredentials, record_signing, recover_from_store
from reelproof.provenance.signing import (
    ProvenanceSigner,
    SignResult,
    ecdsa_callback,
    load_signer,
    sign,
    sign_edit,
    signer_from_callback,
)
from reelproof.provenance.store import (
    ManifestStore,
    SqliteManifestStore,
    StoredManifest,
    open_manifest_store,
    redact_location,
)
from reelproof.provenance.trust import (
    C2PA_CLAIM_SIGNING_EKU,
    DEFAULT_ALLOWED_EKUS,
    REELPROOF_SOFT_BINDING_ALG,
    TrustConfig,
)
from reelproof.provenance.verify import (
    STATES,
    ActionRecord,
    IngredientReport,
    ProvenanceFinding,
    ProvenanceReport,
    SignerIdentity,
    SoftBinding,
    ValidationCode,
    verify,
    verify_manifest_bytes,
)

__all__ = [
    "C2PA_CLAIM_SIGNING_EKU",
    "DEFAULT_ALLOWED_EKUS",
    "DEV_MARKER",
    "FAILURE_KIND",
    "FAILURE_KINDS",
    "FAILURE_KIND_SENTENCES",
    "FINGERPRINT_MAX_FRAMES",
    "FINGERPRINT_SAMPLES",
    "FINGERPRINT_THRESHOLD",
    "GENERATOR_ASSERTION",
    "REELPROOF_SOFT_BINDING_ALG",
    "STATES",
    "TRAINED_ALGORITHMIC_MEDIA",
    "ActionRecord",
    "DevPki",
    "FailureKind",
    "Fingerprint",
    "GeneratorInfo",
    "IngredientReport",
    "ManifestSpec",
    "ManifestStore",
    "ProvenanceFinding",
    "ProvenanceReport",
    "ProvenanceSigner",
    "RecoveredCredentials",
    "SignResult",
    "SignerIdentity",
    "SoftBinding",
    "SqliteManifestStore",
    "StoredManifest",
    "TrustConfig",
    "ValidationCode",
    "ecdsa_callback",
    "ensure_dev_pki",
    "failure_kind",
    "fingerprint_distance",
    "fingerprint_file",
    "fingerprint_frames",
    "init_dev_pki",
    "is_dev_certificate",
    "is_tolerated_failure",
    "issue_dev_leaf",
    "load_signer",
    "open_manifest_store",
    "record_signing",
    "recover_from_store",
    "redact_location",
    "sign",
    "sign_edit",
    "signer_from_callback",
    "verify",
    "verify_manifest_bytes",
]
