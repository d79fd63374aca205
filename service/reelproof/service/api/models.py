"""The API's response models: what every route returns, and so what its OpenAPI document says.

The verdict's models are not written here: they are generated from the verdict's dataclasses by
``reelproof.service.schema`` (one definition for the CLI's JSON, the API's body and this
document). The models below describe the API's own envelopes around it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, create_model

from reelproof.core.results import JsonValue
from reelproof.provenance.verify import ProvenanceState
from reelproof.service.api.problems import JobError
from reelproof.service.resources import SignalInfo
from reelproof.service.schema import verdict_model

if TYPE_CHECKING:
    # For the type checker the verdict is some pydantic model; at run time it is the generated
    # one, so the OpenAPI document and the validation see every field.
    from pydantic import BaseModel as VerdictModel

    from reelproof.service.api.db import JobRecord
else:
    VerdictModel = verdict_model()

JobStatus = Literal["queued", "running", "succeeded", "failed"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)

ProvenanceSignal: type[BaseModel] = VerdictModel.model_fields["provenance"].annotation  # type: ignore[assignment]
"""The verdict's provenance object (generated), which ``POST /v1/c2pa/verify`` answers too."""


class Links(BaseModel):
    self: str
    report: str


class AnalysisModel(BaseModel):
    """An analysis job and, once it succeeded, its verdict."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    id: str
    status: JobStatus
    stage: str | None = Field(None, description="stages running now (comma-separated)")
    stages_done: list[str] = Field(default_factory=list)
    filename: str
    sha256: str = Field(description="SHA-256 of the uploaded bytes (chain of custody)")
    size_bytes: int
    attempts: int
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    verdict: str | None = Field(None, description="the fused verdict label once succeeded")
    result: VerdictModel | None = Field(None, description="the full verdict JSON once succeeded")
    error: JobError | None = Field(None, description="problem details when failed")
    links: Links

    @classmethod
    def of(cls, job: JobRecord) -> AnalysisModel:
        body = json.loads(job.result) if job.result else None
        return cls(
            id=job.id,
            status=job.status,
            stage=job.stage,
            stages_done=list(job.stages_done),
            filename=job.filename,
            sha256=job.sha256,
            size_bytes=job.size_bytes,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            verdict=str(body["verdict"]) if body is not None else None,
            result=VerdictModel.model_validate(body) if body is not None else None,
            error=JobError.model_validate(json.loads(job.error)) if job.error else None,
            links=Links(self=f"/v1/analyses/{job.id}", report=f"/v1/analyses/{job.id}/report"),
        )


ProvenanceModel: type[BaseModel] = create_model(
    "ProvenanceModel",
    __base__=ProvenanceSignal,
    __doc__=(
        "The credentials-only answer of ``POST /v1/c2pa/verify``: the verdict's provenance body. "
        "The route answers 422 or 503 when the check could not run, so ``state`` is always set."
    ),
    state=(ProvenanceState, Field(description="trusted, valid_untrusted, invalid or absent")),
    sha256=(str, Field(description="SHA-256 of the uploaded bytes")),
    filename=(str, Field(description="the uploaded file's name")),
)


class Match(BaseModel):
    manifestId: str  # noqa: N815 (C2PA SBR field names)
    similarityScore: int = 100  # noqa: N815


class MatchList(BaseModel):
    matches: list[Match]


class Algorithm(BaseModel):
    alg: str


class AlgorithmList(BaseModel):
    watermarks: list[Algorithm]
    fingerprints: list[Algorithm] = Field(default_factory=list)


class HealthModel(BaseModel):
    status: str
    detail: dict[str, JsonValue] = Field(default_factory=dict)


class ModelsModel(BaseModel):
    """Loaded models, keys and versions of the analysis workers."""

    signals: dict[str, SignalInfo]
    versions: dict[str, str]
    load_errors: dict[str, str]
    workers: int


__all__ = [
    "JOB_STATUSES",
    "AlgorithmList",
    "AnalysisModel",
    "HealthModel",
    "JobStatus",
    "Links",
    "MatchList",
    "ModelsModel",
    "ProvenanceModel",
    "ProvenanceSignal",
    "ProvenanceState",
    "VerdictModel",
]
