"""The responsible steps after decoding: encode, sign, store; and the default parts.

Kept apart from :mod:`reelproof.generator.responsible` so that the wrapper reads as the order of
operations and this module holds the calls into ``reelproof.core.io``, ``reelproof.watermark``
and ``reelproof.provenance``. It imports the result types, never the wrapper (no import loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from reelproof.core import ReelProofError
from reelproof.core.io import VideoWriter
from reelproof.generator.inputs import Ingredients
from reelproof.generator.results import ManifestSummary

if TYPE_CHECKING:
    from reelproof.generator.seams import ManifestStore, Seams, Signer, Watermarker
    from reelproof.provenance import SignResult
    from reelproof.watermark import WatermarkKey

ENCODE_CRF = (
    10  # a near-lossless master: the mark decodes reliably from the fresh file (tiny clips)
)
# At CRF 10 the preset changes the file size, not the pixels' fidelity: "veryfast" encodes a
# 16-frame 128x128 clip in about half the time of "medium" (0.075 s vs 0.133 s here) for a
# file about 25% larger (135 kB vs 107 kB).
ENCODE_PRESET = "veryfast"
# Generated clips are short (16 frames, 128x128), upsampled from 32x32 and mostly flat, often on a
# saturated white or black background where the half of the mark that would go past 255 or 0 is
# clipped away; rp-ss's defaults (texture mask floor 0.25, 42 dB floor) suit camera footage, not
# these toy scenes, where readability matters more than visibility. So the default model's
# watermarker gives every block the same (full) amplitude and accepts a 33 dB per-frame floor.
# Only the embedding changes: detection (threshold, hypotheses, p-value correction) is rp-ss's.
# Measured on 36 default-model clips (24 at 4 steps, 12 at 20 steps, random ids), CRF 10:
#   before (strength 1.5, floor 0.25, 42 dB): exact id 30/36 (signed and remuxed), 16-frame z min
#     4.26 (detection needs about 7.1 with 1.7M hypotheses), min bit reliability 0.94, PSNR 41.9-52;
#   after: exact id 36/36 signed and 36/36 remuxed, 35/36 from the first 8 frames alone,
#     16-frame z min 8.12 (median 13.6), bit reliability min 5.1 (median 30), per-frame PSNR
#     min 33.0 dB (median 35.0).
# The weakest are 20-step scenes with a textured moving object on white: over 3 such contents x 4
# random ids, 11/12 read the exact id (the miss read no id, never a wrong one).
WATERMARK_STRENGTH = 3.0
WATERMARK_MASK_FLOOR = 1.8  # = rp-ss's mask cap: no texture masking, flat areas get full amplitude
WATERMARK_MIN_PSNR = 33.0  # dB per frame


def _headroom_lut(knee: int = 16, floor: int = 8) -> npt.NDArray[np.uint8]:
    """Levels map that leaves room for the mark at both ends and keeps mid-tones exact.

    Generated clips often have pure white or black areas (255 or 0), where half of any additive
    mark is clipped away and the id becomes hard to read. Levels below ``knee`` are squeezed
    linearly into [floor, knee] and those above ``255 - knee`` into [255 - knee, 255 - floor];
    everything in between is unchanged.
    """
    levels = np.arange(256, dtype=np.float64)
    low = floor + levels * (knee - floor) / knee
    high = 255 - floor - (255 - levels) * (knee - floor) / knee
    mapped = np.where(levels < knee, low, np.where(levels > 255 - knee, high, levels))
    lut: npt.NDArray[np.uint8] = np.rint(mapped).astype(np.uint8)
    return lut


HEADROOM_LUT = _headroom_lut()


@dataclass(frozen=True)
class SpecArgs:
    """What the manifest of one generation records.

    Attributes:
        title: Asset title (the file name).
        model_name, model_version, weights_digest: The generating model.
        prompt: The prompt (only recorded when the signer's policy opts in; off by default).
        watermark_id: 16 hex digits of the watermark, recorded as a soft binding.
        ingredients: The input files: a signed input clip as ``parentOf``, the rest ``inputTo``.
    """

    title: str
    model_name: str
    model_version: str
    weights_digest: str
    prompt: str | None
    watermark_id: str
    ingredients: Ingredients = field(default_factory=lambda: Ingredients(None, ()))


def encode_mp4(clip: npt.NDArray[np.uint8], path: Path, fps: Fraction) -> Path:
    """Encode marked frames (F, H, W, 3) uint8 RGB as H.264 MP4 with faststart."""
    with VideoWriter(
        path, fps=fps, width=int(clip.shape[2]), height=int(clip.shape[1]),
        codec="h264", crf=ENCODE_CRF, preset=ENCODE_PRESET,
    ) as writer:  # fmt: skip
        writer.write(clip)
    return path


def sign_file(src: Path, dst: Path, args: SpecArgs, signer: Signer) -> SignResult:
    """Sign ``src`` into ``dst`` (atomic, the last write); returns provenance's ``SignResult``."""
    from reelproof.provenance import GeneratorInfo, ManifestSpec, sign

    spec = ManifestSpec(
        title=args.title,
        generator=GeneratorInfo(
            name=args.model_name,
            version=args.model_version,
            weights_digest=args.weights_digest,
            prompt=args.prompt,
        ),
        watermark_id=args.watermark_id,
        input_ingredients=list(args.ingredients.inputs),
        parent_ingredient=args.ingredients.parent,
    )
    return sign(src, dst, spec, signer)


def store_manifest(
    store: ManifestStore,
    watermark_id: str,
    clip: npt.NDArray[np.uint8],
    fps: Fraction,
    signed: SignResult,
) -> str:
    """Store the signed manifest and a perceptual fingerprint under the watermark id.

    The fingerprint is taken from the marked frames (F, H, W, 3) uint8 that were just encoded at
    near-lossless quality, so the file need not be decoded again.

    Returns:
        The store's location (the database path of a SQLite store, else the store's ``repr``).
    """
    from reelproof.provenance import SqliteManifestStore, record_signing
    from reelproof.provenance.fingerprint import fingerprint_frames

    if signed.watermark_id != watermark_id:
        raise ReelProofError("signed manifest carries another watermark id than the clip")
    stamps = np.arange(clip.shape[0], dtype=np.float64) / float(fps)  # (F,) seconds
    record_signing(store, signed, fingerprint_frames(clip, stamps))
    return str(store.path) if isinstance(store, SqliteManifestStore) else repr(store)


def summarise(signed: SignResult, args: SpecArgs, signer: Signer) -> ManifestSummary:
    """A :class:`~reelproof.generator.results.ManifestSummary` of what was signed."""
    from reelproof.core import __version__
    from reelproof.provenance.manifest import TRAINED_ALGORITHMIC_MEDIA

    parent = args.ingredients.parent
    return ManifestSummary(
        title=args.title,
        claim_generator=f"ReelProof/{__version__}",
        digital_source_type=TRAINED_ALGORITHMIC_MEDIA,
        model=f"{args.model_name} {args.model_version}",
        weights_digest=args.weights_digest,
        signer=signed.signer_subject,
        dev_signer=signer.is_dev,
        ingredients=tuple(p.name for p in args.ingredients.inputs),
        watermark_id=str(signed.watermark_id),
        sha256=signed.content_sha256,
        signed_at=signed.signed_at,
        manifest_bytes=len(signed.manifest_bytes),
        parent=parent.name if parent is not None else None,
    )


def generator_watermarker(key: WatermarkKey) -> Watermarker:
    """rp-ss with ``key`` and the embedding settings for generated clips (see the constants above)."""
    from reelproof.watermark import create_watermarker

    return create_watermarker(
        "rp-ss",
        key=key,
        strength=WATERMARK_STRENGTH,
        mask_floor=WATERMARK_MASK_FLOOR,
        min_psnr=WATERMARK_MIN_PSNR,
    )


def default_watermarker() -> Watermarker:
    """rp-ss with the first key of the default keyring (the demo key when the user made none)."""
    from reelproof.watermark import Keyring

    return generator_watermarker(Keyring.default(include_demo=True).keys[0])


def default_signer() -> Signer:
    """A signer from the development PKI (made on first use under the ReelProof home)."""
    from reelproof.provenance import ensure_dev_pki, load_signer

    pki = ensure_dev_pki()
    return load_signer(pki.chain_pem, pki.key_pem)


def default_store() -> ManifestStore:
    """The default manifest store: ``REELPROOF_MANIFEST_STORE`` (a SQLite file, or a database
    URL that many generation nodes share), else the SQLite file under the ReelProof home."""
    from reelproof.provenance import open_manifest_store

    return open_manifest_store()


def default_seams(
    watermarker: Watermarker | None, signer: Signer | None, store: ManifestStore | None
) -> Seams:
    """Fill in the default watermarker, dev signer and default manifest store."""
    return (
        watermarker if watermarker is not None else default_watermarker(),
        signer if signer is not None else default_signer(),
        store if store is not None else default_store(),
    )
