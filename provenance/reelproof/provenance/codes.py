"""Plain-language sentences for C2PA validation codes (and ReelProof's own codes)."""

from __future__ import annotations

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
    "ingredient.hashedURI.mismatch": "An ingredient reference does not match its data.",
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
    "reelproof.ingredient.failed": (
        "An ingredient (for example the clip this one was edited from) failed validation when "
        "it was embedded; see the ingredient tree."
    ),
}


def sentence_for(code: str, explanation: str | None = None) -> str:
    """A plain-language sentence for ``code``; falls back to the validator's explanation."""
    if code in SENTENCES:
        return SENTENCES[code]
    if explanation:
        return f"{explanation[0].upper()}{explanation[1:]}."
    return f"C2PA validation code {code}."
