"""Typed OpenAPI shapes of the verdict JSON and of ``GET /v1/models``.

The verdict is built by ``reelproof.service.pipeline.Verdict.to_dict``; these models describe it
for API clients (generated SDKs, schema validators), and the server validates the verdict in every
``/v1/analyses`` answer against them. Each model names the keys that are always present; the
signals' reports carry many more (``extra="allow"``), and those pass through unchanged so the CLI
and the API answer alike.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelproof.service.verdict import SignalStatus, VerdictLabel

ProvenanceState = Literal["trusted", "valid_untrusted", "invalid", "absent"]
"""Mirrors ``reelproof.provenance.STATES`` (a test keeps the two equal)."""


class _Open(BaseModel):
    """A JSON object whose listed keys are guaranteed and whose other keys pass through."""

    model_config = ConfigDict(extra="allow")


class EvidenceModel(BaseModel):
    """One finding of the fusion, with the signal it comes from."""

    code: str = Field(
        description="machine-readable finding: credentials_trusted, ai_generated_marked, "
        "likely_synthetic, tampered, credentials_absent, watermark_absent, classifier_real, "
        "classifier_uncertain, signal_unavailable, ..."
    )
    signal: Literal["provenance", "watermark", "detector", "pipeline"]
    message: str = Field(description="one plain sentence for a reader")
    details: dict[str, Any] = Field(default_factory=dict)


class _SignalBody(_Open):
    status: SignalStatus
    reason: str | None = Field(description="why the signal did not run or failed")
    seconds: float


class ProvenanceSignal(_SignalBody):
    """The C2PA verification (a ``reelproof.provenance_report`` when ``status`` is ok)."""

    state: ProvenanceState | None
    codes: list[dict[str, Any]] | None = Field(
        description="C2PA validation codes, each with code, kind and a sentence"
    )
    signer: dict[str, Any] | None = Field(description="the signing certificate's identity")


class WatermarkSignal(_SignalBody):
    """The watermark reading (a ``reelproof.watermark_reading``), plus the recovered manifest."""

    detected: bool | None
    p_value: float | None = Field(description="calibrated p-value under 'no watermark'")
    payload: str | None = Field(description="the 64-bit watermark id, decimal")
    key_id: str | None


class DetectorSignal(_SignalBody):
    """The AI-video classifier's score (a ``reelproof.detector_score``)."""

    p_synthetic: float | None = Field(description="probability the clip is synthetic")
    label: Literal["synthetic", "real", "inconclusive"] | None


class VerdictModel(BaseModel):
    """The fused verdict with its evidence and every raw signal (``reelproof.verdict/1``)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(alias="schema", description="schema tag, e.g. reelproof.verdict/1")
    verdict: VerdictLabel
    summary: str = Field(description="the verdict in one or two sentences")
    ai_generated: bool | None = Field(description="null when no signal decides it")
    synthetic_likelihood: Literal["low", "uncertain", "high", "unknown"] = Field(
        description="the classifier's reading alone"
    )
    evidence: list[EvidenceModel]
    filename: str
    sha256: str = Field(description="SHA-256 of the analysed bytes")
    size_bytes: int
    media: dict[str, Any] = Field(description="container, codec, size, frame rate, duration...")
    provenance: ProvenanceSignal
    watermark: WatermarkSignal
    detector: DetectorSignal
    timings: dict[str, float] = Field(description="seconds per stage")
    stage_status: dict[str, str]
    versions: dict[str, str]
    analyzed_at: str = Field(description="ISO 8601, UTC")
    total_seconds: float
    cpu_seconds: float


class SignalModelInfo(_Open):
    """Whether one signal is switched on and its resource (keys, model, store) loaded."""

    enabled: bool
    status: Literal["loaded", "unavailable", "not loaded", "disabled"]
