"""What one responsible generation returns: timings, the manifest summary and the result."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from reelproof.core import Result


@dataclass(frozen=True)
class StageTimings(Result):
    """Wall-clock seconds per stage of one generation.

    Attributes:
        generate_s: Pipeline call (text encoding, denoising, decoding, postprocessing) without
            the watermark embedding inside it.
        watermark_s: Watermark embedding inside the hook.
        encode_s: MP4 encoding.
        sign_s: C2PA signing.
        store_s: Writing the manifest to the store.
    """

    schema: ClassVar[str] = "generation_timings"

    generate_s: float
    watermark_s: float
    encode_s: float
    sign_s: float
    store_s: float

    @property
    def overhead_s(self) -> float:
        """Seconds the responsible steps add to plain generation."""
        return self.watermark_s + self.encode_s + self.sign_s + self.store_s

    @property
    def total_s(self) -> float:
        """Seconds of the whole generation."""
        return self.generate_s + self.overhead_s


@dataclass(frozen=True)
class ManifestSummary(Result):
    """What the signed manifest of a generated clip says.

    Attributes:
        title: Asset title.
        claim_generator: Software that signed (name/version).
        digital_source_type: IPTC source type of the generation action.
        model: Generating model name and version.
        weights_digest: Digest of the weights that ran.
        signer: Subject of the signing certificate.
        dev_signer: Whether the signer is a development (untrusted in production) certificate.
        ingredients: File names of the ``inputTo`` ingredients (input images and clips).
        watermark_id: Soft-binding value recorded in the manifest.
        sha256: Digest of the final signed file.
        signed_at: UTC signing time (not a trusted timestamp).
        manifest_bytes: Size of the embedded C2PA manifest store.
        parent: File name of the ``parentOf`` ingredient (a signed input clip), if any.
    """

    schema: ClassVar[str] = "manifest_summary"

    title: str
    claim_generator: str
    digital_source_type: str
    model: str
    weights_digest: str
    signer: str
    dev_signer: bool
    ingredients: tuple[str, ...]
    watermark_id: str
    sha256: str
    signed_at: str
    manifest_bytes: int
    parent: str | None = None

    def one_line(self) -> str:
        """Short human description."""
        ing = f"; input {', '.join(self.ingredients)}" if self.ingredients else ""
        parent = f"; made from signed {self.parent}" if self.parent else ""
        source = self.digital_source_type.rsplit("/", 1)[-1]
        dev = " (dev certificate)" if self.dev_signer else ""
        return (
            f"{self.title}: {source} by {self.model}, signed by {self.signer}{dev} "
            f"via {self.claim_generator}, soft binding {self.watermark_id}{ing}{parent}"
        )


@dataclass(frozen=True)
class GenerationResult(Result):
    """One responsible generation.

    Attributes:
        path: The signed MP4.
        watermark_id: 16 hex digits carried by every frame's watermark.
        manifest: Summary of the signed manifest.
        store: Where the manifest was stored (manifest store location).
        timings: Seconds per stage.
        prompt: The prompt (``None`` for pipelines conditioned on inputs only).
        seed: Seed of the initial noise.
        num_frames, height, width: Clip geometry.
        fps: Frame rate of the MP4.
        output_type: Type of ``frames``.
        frames: The pipeline output made from marked pixels (np (B, F, H, W, 3) float in [0, 1],
            pt (B, F, 3, H, W) float in [0, 1], or pil nested lists); a diffusers output, so
            untyped. Not serialised.
    """

    schema: ClassVar[str] = "generation"

    path: Path
    watermark_id: str
    manifest: ManifestSummary
    store: str
    timings: StageTimings
    prompt: str | None
    seed: int
    num_frames: int
    height: int
    width: int
    fps: float
    output_type: str
    frames: object = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready body: frames dropped (large, not JSON), path as text, timing totals."""
        body = Result.to_dict(replace(self, frames=None))
        body.pop("frames", None)
        body["path"] = str(self.path)
        body["timings"]["overhead_s"] = self.timings.overhead_s
        body["timings"]["total_s"] = self.timings.total_s
        return body
