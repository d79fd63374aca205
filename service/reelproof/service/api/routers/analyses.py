"""``/v1/analyses``: submit a clip for full verification, follow its job, read its report."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from reelproof.service.api.db import IdempotencyMismatchError, JobRecord
from reelproof.service.api.deps import (
    IdempotencyKey,
    Owner,
    PreferWait,
    ServiceState,
    State,
    probe_upload,
    reused_key_problem,
)
from reelproof.service.api.models import AnalysisModel
from reelproof.service.api.problems import ProblemError, problem_openapi
from reelproof.service.api.uploads import UPLOAD_OPENAPI, receive_upload

router = APIRouter(prefix="/v1/analyses", tags=["analyses"])
COMMON = problem_openapi(400, 401, 422, 429)
FINISHED = ("succeeded", "failed")


@router.post(
    "",
    status_code=202,
    response_model=AnalysisModel,
    summary="Submit a clip for full verification",
    openapi_extra=UPLOAD_OPENAPI,
    responses={
        200: {"model": AnalysisModel, "description": "Finished within Prefer: wait"},
        **COMMON,
        **problem_openapi(413, 415),
    },
)
async def create_analysis(
    request: Request,
    response: Response,
    state: State,
    owner: Owner,
    wait: PreferWait,
    idem: IdempotencyKey,
) -> AnalysisModel:
    settings = state.settings
    upload = await receive_upload(
        request, settings.upload_dir, settings.max_upload_bytes, settings.upload_idle_timeout_s
    )
    upload = await probe_upload(state, upload)
    state.metrics.upload_bytes.inc(upload.size_bytes)
    try:
        job_id, created = state.db.insert_job(
            owner,
            upload.filename,
            upload.path,
            upload.sha256,
            upload.size_bytes,
            (idem, "POST /v1/analyses", upload.sha256) if idem else None,
        )
    except IdempotencyMismatchError:
        upload.path.unlink(missing_ok=True)
        raise reused_key_problem() from None
    if not created:
        upload.path.unlink(missing_ok=True)
        response.headers["Idempotent-Replayed"] = "true"
    if created:
        state.runner.submitted(job_id)
    job = await wait_for(state, job_id, owner, wait)
    if wait is not None:
        response.headers["Preference-Applied"] = f"wait={int(wait)}"
    response.headers["Location"] = f"/v1/analyses/{job_id}"
    if job.status in FINISHED:
        response.status_code = 200
    return AnalysisModel.of(job)


@router.get(
    "/{analysis_id}",
    response_model=AnalysisModel,
    summary="Status and verdict of an analysis",
    responses={**COMMON, **problem_openapi(404)},
)
async def get_analysis(
    analysis_id: str, state: State, owner: Owner, wait: PreferWait
) -> AnalysisModel:
    return AnalysisModel.of(await wait_for(state, analysis_id, owner, wait))


@router.get(
    "/{analysis_id}/report",
    summary="The verdict as JSON, or as a self-contained HTML report (Accept: text/html)",
    responses={
        200: {
            "description": "The report",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/VerdictModel"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        **COMMON,
        **problem_openapi(404, 409),
    },
)
async def get_report(analysis_id: str, request: Request, state: State, owner: Owner) -> Response:
    job = state.db.get_job(analysis_id, owner)
    if job is None:
        raise ProblemError(404, f"no analysis {analysis_id}", "not-found")
    if job.status != "succeeded" or job.result is None:
        detail = f"the analysis is {job.status}; the report exists once it succeeded"
        raise ProblemError(409, detail, "not-ready")
    result = json.loads(job.result)
    if "text/html" in request.headers.get("accept", ""):
        from reelproof.service.report import render_html
        from reelproof.service.thumbnails import Thumbnail

        thumbs = [Thumbnail.from_json(t) for t in json.loads(job.thumbnails or "[]")]
        return HTMLResponse(render_html(result, thumbs))
    return JSONResponse(result)


@router.delete(
    "/{analysis_id}",
    status_code=204,
    summary="Delete an analysis, its upload and its report",
    responses={**COMMON, **problem_openapi(404)},
)
async def delete_analysis(analysis_id: str, state: State, owner: Owner) -> Response:
    job = state.db.delete_job(analysis_id, owner)
    if job is None:
        raise ProblemError(404, f"no analysis {analysis_id}", "not-found")
    if job.upload_path and job.status != "running":
        Path(job.upload_path).unlink(missing_ok=True)
    # A running job's upload is removed by the worker callback after it finishes.
    return Response(status_code=204)


async def wait_for(state: ServiceState, job_id: str, owner: str, wait: float | None) -> JobRecord:
    """The job, after waiting up to ``wait`` seconds for it to finish (404 when not the owner's)."""
    job = state.db.get_job(job_id, owner)
    if job is None:
        raise ProblemError(404, f"no analysis {job_id}", "not-found")
    if not wait:
        return job
    deadline = time.monotonic() + wait
    while job.status not in FINISHED and time.monotonic() < deadline:
        await asyncio.sleep(0.1 if job_id not in state.finished else 0)
        refreshed = state.db.get_job(job_id, owner)
        if refreshed is None:
            raise ProblemError(404, f"analysis {job_id} was deleted", "not-found")
        job = refreshed
    return job
