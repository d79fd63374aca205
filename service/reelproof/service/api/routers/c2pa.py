"""``POST /v1/c2pa/verify``: Content Credentials only, answered synchronously."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from reelproof.service.api.db import IdempotentResponse
from reelproof.service.api.deps import (
    IdempotencyKey,
    Owner,
    State,
    client_text,
    probe_upload,
    reused_key_problem,
)
from reelproof.service.api.models import ProvenanceModel
from reelproof.service.api.problems import ProblemError, problem_openapi
from reelproof.service.api.uploads import UPLOAD_OPENAPI, receive_upload
from reelproof.service.schema import signal_json
from reelproof.service.signals import CredentialsReading, SignalStatus

router = APIRouter(prefix="/v1/c2pa", tags=["provenance"])
ROUTE = "POST /v1/c2pa/verify"


@router.post(
    "/verify",
    response_model=ProvenanceModel,
    summary="Verify C2PA Content Credentials only (fast, synchronous)",
    openapi_extra=UPLOAD_OPENAPI,
    responses={**problem_openapi(400, 401, 422, 429), **problem_openapi(413, 415, 503)},
)
async def verify_c2pa(
    request: Request, state: State, owner: Owner, idem: IdempotencyKey
) -> BaseModel | Response:
    settings = state.settings
    upload = await receive_upload(
        request, settings.upload_dir, settings.max_upload_bytes, settings.upload_idle_timeout_s
    )
    try:
        if idem:
            stored = state.db.get_idempotent(owner, idem, ROUTE)
            if stored is not None:
                if stored.fingerprint != upload.sha256:
                    raise reused_key_problem()
                replayed = {"Idempotent-Replayed": "true"}
                return JSONResponse(stored.body, stored.status, headers=replayed)
        upload = await probe_upload(state, upload, count_packets=False)
        start = time.perf_counter()
        signal = await run_in_threadpool(state.light.provenance_only, upload.path)
        if signal.status is SignalStatus.ERROR:  # the reader refused the file itself
            reason = client_text(signal.reason or "unreadable", upload)
            raise ProblemError(422, reason, "undecodable-media")
        if signal.status is SignalStatus.UNAVAILABLE:
            detail = f"credentials check unavailable: {signal.reason}"
            raise ProblemError(503, detail, "not-configured")
        body = signal_json(signal, CredentialsReading)
        body.update(
            sha256=upload.sha256,
            filename=upload.filename,
            seconds=round(time.perf_counter() - start, 4),
        )
        answer = ProvenanceModel.model_validate(body)
        if idem:
            stored_body = answer.model_dump(mode="json", by_alias=True)
            state.db.put_idempotent(
                owner, idem, ROUTE, IdempotentResponse(upload.sha256, 200, stored_body, {})
            )
        return answer
    finally:
        upload.path.unlink(missing_ok=True)
