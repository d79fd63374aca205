"""Plain-language sentences for C2PA validation codes (and ReelProof's own codes), and the one
table that sorts failure codes into what they show: content altered, credentials unreliable, or an
ingredient's problem.
"""

from __future__ import annotations

from typing import Literal

FailureKind = Literal["content_altered", "credentials_unreliable", "ingredient_problem"]
"""What a failure shows.

``content_altered``: bytes covered by the signature changed after signing (a hard-binding hash,
an assertion's hashed URI, or the claim signature does not match): the media or the signed
manifest was altered, or the credentials were forged.
``credentials_unreliable``: the credentials cannot be relied on (expired, revoked or unaccepted
certificate, untrusted or broken timestamp, unreadable or malformed manifest, unsupported
algorithm...), but nothing shows that the content changed.
``ingredient_problem``: an ingredient (a source the file was made from) failed; the file's own
manifest may be fine.
"""

FAILURE_KINDS: tuple[FailureKind, ...] = (
    "content_altered",
    "credentials_unreliable",
    "ingredient_problem",
)
"""Every kind, most serious first (the order a report's leading ``failure`` is chosen in)."""

TOLERATED_FAILURE_CODES = frozenset({"signingCredential.untrusted"})
TOLERATED_FAILURE_PREFIXES = ("cawg.x509.", "cawg.identity.", "cawg.ica.")
"""Failures that never invalidate a manifest, as c2pa-rs's ``is_tolerated_manifest_failure_code``
rules: an untrusted signer (the state is then ``valid_untrusted``) and CAWG identity-assertion
failures, whose scope is that identity assertion (who the manifest names as creator), never the
C2PA signature or the content."""

FAILURE_KIND: dict[str, FailureKind] = {
    # Bytes covered by the signature changed.
    "assertion.dataHash.mismatch": "content_altered",
    "assertion.bmffHash.mismatch": "content_altered",
    "assertion.boxesHash.mismatch": "content_altered",
    "assertion.collectionHash.mismatch": "content_altered",
    "assertion.hashedURI.mismatch": "content_altered",
    "claimSignature.mismatch": "content_altered",
    # The credentials cannot be relied on; nothing shows the content changed.
    "signingCredential.invalid": "credentials_unreliable",
    "signingCredential.expired": "credentials_unreliable",
    "signingCredential.revoked": "credentials_unreliable",
    "signingCredential.ocsp.revoked": "credentials_unreliable",
    "claimSignature.outsideValidity": "credentials_unreliable",
    "claimSignature.missing": "credentials_unreliable",
    "timeStamp.mismatch": "credentials_unreliable",
    "timeStamp.outsideValidity": "credentials_unreliable",
    "timeStamp.malformed": "credentials_unreliable",
    "algorithm.unsupported": "credentials_unreliable",
    "claim.missing": "credentials_unreliable",
    "claim.multiple": "credentials_unreliable",
    "claim.malformed": "credentials_unreliable",
    "claim.cbor.invalid": "credentials_unreliable",
    "claim.hardBindings.missing": "credentials_unreliable",
    "manifest.inaccessible": "credentials_unreliable",
    "manifest.multipleParents": "credentials_unreliable",
    "manifest.update.invalid": "credentials_unreliable",
    "manifest.update.wrongParents": "credentials_unreliable",
    "manifest.compressed.invalid": "credentials_unreliable",
    "manifest.timestamp.invalid": "credentials_unreliable",
    "assertion.missing": "credentials_unreliable",
    "assertion.multipleHardBindings": "credentials_unreliable",
    "assertion.undeclared": "credentials_unreliable",
    "assertion.inaccessible": "credentials_unreliable",
    "assertion.notRedacted": "credentials_unreliable",
    "assertion.selfRedacted": "credentials_unreliable",
    "assertion.action.ingredientMismatch": "credentials_unreliable",
    "assertion.action.malformed": "credentials_unreliable",
    "assertion.bmffHash.malformed": "credentials_unreliable",
    "assertion.dataHash.malformed": "credentials_unreliable",
    "assertion.cbor.invalid": "credentials_unreliable",
    "assertion.json.invalid": "credentials_unreliable",
    "general.error": "credentials_unreliable",
    "reelproof.manifest.unreadable": "credentials_unreliable",
    "reelproof.bmff.fragmentsMissing": "credentials_unreliable",
    "reelproof.validator.invalid": "credentials_unreliable",
    # An ingredient's problem.
    "ingredient.manifest.missing": "ingredient_problem",
    "ingredient.manifest.mismatch": "ingredient_problem",
    "ingredient.claimSignature.mismatch": "ingredient_problem",
    "ingredient.claimSignature.missing": "ingredient_problem",
    "ingredient.hashedURI.mismatch": "ingredient_problem",
    "reelproof.ingredient.failed": "ingredient_problem",
}
"""The kind of every known failure code. Unlisted ``ingredient.*`` codes are ingredient problems;
any other unlisted code is ``credentials_unreliable``: "content altered" (which a verdict may call
tampering) is never guessed for a code this table does not name."""

FAILURE_KIND_SENTENCES: dict[FailureKind, str] = {
    "content_altered": (
        "Bytes covered by the signature changed after signing: the content or the signed "
        "manifest was altered, or the credentials were forged."
    ),
    "credentials_unreliable": (
        "The content credentials cannot be relied on, but nothing in them shows that the "
        "content was altered."
    ),
    "ingredient_problem": (
        "An ingredient (a source this file was made from) failed validation; the file's own "
        "credentials are judged separately."
    ),
}
"""One plain-words sentence per kind (the codes behind a finding say the specifics)."""


def is_tolerated_failure(code: str) -> bool:
    """Whether a failure code leaves its manifest valid (see ``TOLERATED_FAILURE_PREFIXES``)."""
    return code in TOLERATED_FAILURE_CODES or code.startswith(TOLERATED_FAILURE_PREFIXES)


def failure_kind(code: str) -> FailureKind | None:
    """What a failure code shows; ``None`` for a tolerated code (see ``FAILURE_KIND``)."""
    if is_tolerated_failure(code):
        return None
    if code in FAILURE_KIND:
        return FAILURE_KIND[code]
    if code.startswith("ingredient."):
        return "ingredient_problem"
    return "credentials_unreliable"


SENTENCES: dict[str, str] = {
    # signature and certificate
    "claimSignature.validated": "The manifest's signature is cryptographically valid.",
    "claimSignature.insideValidity": "The signing certificate was within its validity period.",
    "claimSignature.outsideValidity": (
        "The signing certificate was outside its validity period when the file was signed."
    ),
    "claimSignature.mismatch": (
        "The signature does not match the manifest: the manifest or its signature was altered "
        "after signing."
    ),
    "claimSignature.missing": "The manifest's signature is missing.",
    "signingCredential.trusted": "The signer's certificate chains to a trust anchor you configured.",
    "signingCredential.untrusted": (
        "The signer's certificate does not chain to any trust anchor you configured: the "
        "credentials are intact but the signer is unknown to you."
    ),
    "signingCredential.invalid": (
        "The signer's certificate is not acceptable under the trust policy (for example its "
        "extended key usage is not allowed, or the chain is malformed)."
    ),
    "signingCredential.expired": (
        "The signer's certificate has expired and no trusted timestamp proves the file was signed "
        "while it was valid."
    ),
    "signingCredential.revoked": "The signer's certificate has been revoked.",
    "signingCredential.ocsp.skipped": (
        "Certificate revocation (OCSP) was not checked: verification runs offline."
    ),
    "signingCredential.ocsp.notRevoked": "An OCSP response says the certificate is not revoked.",
    "signingCredential.ocsp.revoked": "An OCSP response says the certificate is revoked.",
    "signingCredential.ocsp.unknown": "The certificate's revocation status is unknown.",
    # timestamps
    "timeStamp.trusted": "A trusted timestamp authority vouches for the signing time.",
    "timeStamp.validated": "The signing timestamp is valid.",
    "timeStamp.untrusted": "The timestamp comes from an authority you do not trust.",
    "timeStamp.mismatch": "The timestamp does not match the signature.",
    "timeStamp.outsideValidity": "The timestamp lies outside the certificate's validity.",
    "timeStamp.malformed": "The timestamp is malformed.",
    # assertions and bindings
    "assertion.hashedURI.match": "An assertion is unchanged since signing.",
    "assertion.hashedURI.mismatch": (
        "An assertion (a statement in the manifest, such as the actions or the generator) was "
        "changed after signing."
    ),
    "assertion.missing": "An assertion the manifest refers to is missing.",
    "assertion.multipleHardBindings": "The manifest has more than one hard binding.",
    "assertion.undeclared": "The manifest holds an assertion its claim does not list.",
    "assertion.inaccessible": "An assertion could not be read.",
    "assertion.notRedacted": "An assertion marked as redacted is still present.",
    "assertion.selfRedacted": "The manifest redacts one of its own assertions.",
    "assertion.action.ingredientMismatch": "An action refers to an ingredient that does not match.",
    "assertion.action.malformed": "An action in the manifest is malformed.",
    "assertion.bmffHash.match": "The video file's bytes match the hash recorded at signing.",
    "assertion.bmffHash.mismatch": (
        "The video file's bytes (media data or container structure) changed after signing."
    ),
    "assertion.bmffHash.malformed": "The recorded video hash is malformed.",
    "assertion.bmffHash.additionalExclusionsPresent": (
        "The hash leaves out extra top-level boxes (free, skip, mfra, ftyp): they may change "
        "without breaking the signature because they carry no media."
    ),
    "assertion.dataHash.match": "The file's bytes match the hash recorded at signing.",
    "assertion.dataHash.mismatch": "The file's bytes changed after signing.",
    "assertion.dataHash.malformed": "The recorded file hash is malformed.",
    "assertion.boxesHash.mismatch": "The file's boxes changed after signing.",
    "assertion.collectionHash.mismatch": "A file in the collection changed after signing.",
    "assertion.cbor.invalid": "An assertion is not valid CBOR.",
    "assertion.json.invalid": "An assertion is not valid JSON.",
    "algorithm.unsupported": "The manifest uses an unsupported algorithm.",
    # claim and manifest structure
    "claim.missing": "The manifest has no claim.",
    "claim.multiple": "The manifest has more than one claim.",
    "claim.hardBindings.missing": "The manifest does not bind to the file's bytes.",
    "claim.malformed": "The manifest's claim is malformed.",
    "claim.cbor.invalid": "The manifest's claim is not valid CBOR.",
    "manifest.inaccessible": "The manifest could not be read.",
    "manifest.multipleParents": "The manifest names more than one parent.",
    "manifest.update.invalid": "An update manifest is invalid.",
    "manifest.update.wrongParents": "An update manifest has the wrong parents.",
    "manifest.compressed.invalid": "A compressed manifest is invalid.",
    "manifest.unreferenced": "The file holds a manifest nothing refers to.",
    "manifest.timestamp.invalid": "The manifest's timestamp is invalid.",
    # ingredients
    "ingredient.manifest.validated": "An ingredient's manifest is unchanged since it was embedded.",
    "ingredient.manifest.mismatch": (
        "An ingredient's manifest changed after it was embedded in this file."
    ),
    "ingredient.manifest.missing": "An ingredient's manifest is missing.",
    "ingredient.claimSignature.validated": "An ingredient's signature is valid.",
    "ingredient.claimSignature.mismatch": "An ingredient's signature does not match.",
    "ingredient.claimSignature.missing": "An ingredient's manifest has no signature.",
    "ingredient.hashedURI.mismatch": "An ingredient reference does not match its data.",
    "ingredient.unknownProvenance": "An ingredient carries no content credentials of its own.",
    # CAWG identity assertions (who the manifest names as creator; never the C2PA signer)
    "cawg.x509.credential.untrusted": (
        "The identity assertion's X.509 credential (who the manifest names as creator) does "
        "not chain to a trust anchor you configured; the C2PA signature is unaffected."
    ),
    "cawg.identity.well-formed": "The CAWG identity assertion is well formed.",
    "cawg.x509.signature.validated": "The identity assertion's signature is valid.",
    "general.error": "The validator hit an unexpected error reading the manifest.",
    # ReelProof's own codes
    "reelproof.manifest.absent": (
        "No C2PA manifest is embedded in this file. Absence is not evidence of manipulation: "
        "most tools and platforms strip credentials when they re-encode or remux."
    ),
    "reelproof.container.unsupported": (
        "This container (for example WebM) cannot carry embedded C2PA credentials, so none "
        "were looked for. Absence is not evidence of manipulation."
    ),
    "reelproof.manifest.unreadable": (
        "The file holds C2PA data that could not be parsed: the manifest or the container "
        "structure is corrupt."
    ),
    "reelproof.timestamp.absent": (
        "The signature carries no trusted timestamp: the signing time is not established, and "
        "the signature stops validating once the certificate expires."
    ),
    "reelproof.softBinding.algNotAllowed": (
        "A soft binding (watermark or fingerprint pointer) uses an algorithm your policy does "
        "not recognise."
    ),
    "reelproof.bmff.fragmentsMissing": (
        "This is the initialisation segment of a fragmented MP4 (DASH/HLS): its signature also "
        "covers media fragments that are not in this file, so the content cannot be checked "
        "on its own. Verify it together with its fragments."
    ),
    "reelproof.validator.invalid": (
        "The C2PA validator judged the credentials invalid without naming a failure."
    ),
    "reelproof.ingredient.failed": (
        "An ingredient (for example the clip this one was edited from) fails validation; see "
        "the ingredient tree."
    ),
}


def sentence_for(code: str, explanation: str | None = None) -> str:
    """A plain-language sentence for ``code``; falls back to the validator's explanation."""
    if code in SENTENCES:
        return SENTENCES[code]
    if explanation:
        return f"{explanation[0].upper()}{explanation[1:]}."
    return f"C2PA validation code {code}."
