"""The FastAPI application behind ``reelproof serve``.

Routes (all errors are RFC 9457 ``application/problem+json``):

- ``POST /v1/analyses``: upload a clip (multipart ``file``), get a job; ``Prefer: wait=N`` waits
  up to N seconds for the verdict; ``Idempotency-Key`` makes retries safe.
- ``GET /v1/analyses/{id}``, ``GET /v1/analyses/{id}/report`` (JSON or HTML by ``Accept``),
  ``DELETE /v1/analyses/{id}``.
- ``POST /v1/c2pa/verify``: credentials only, answered synchronously.
- ``GET /v1/services/supportedAlgorithms``, ``GET /v1/matches/byBinding``,
  ``GET /v1/manifests/{manifestId}``: C2PA Soft Binding Resolution-style lookup of stored
  manifests by watermark id.
- ``GET /v1/models``, ``/healthz``, ``/readyz``, ``/metrics`` and the web page at ``/``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import importlib.resources
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from reelproof.core.errors import ReelProofError
from reelproof.provenance.trust import REELPROOF_SOFT_BINDING_ALG
from reelproof.service.api.db import IdempotencyMismatchError, IdempotentResponse, ServiceDB
from reelproof.service.api.metrics import ServiceMetrics
from reelproof.service.api.problems import (
    Problem,
    ProblemError,
    install_problem_handlers,
    problem_openapi,
    status_for,
)
from reelproof.service.api.ratelimit import RateLimiter
from reelproof.service.api.schemas import (
    ProvenanceSignal,
    ProvenanceState,
    SignalModelInfo,
    VerdictModel,
)
from reelproof.service.api.settings import ServiceSettings
from reelproof.service.api.uploads import UPLOAD_OPENAPI, Upload, receive_upload
from reelproof.service.api.workers import JobRunner
from reelproof.service.pipeline import Verifier, VerifyOptions
from reelproof.service.verdict import SignalStatus

log = logging.getLogger("reelproof.service")

ANONYMOUS = "anonymous"
WATERMARK_ALG = REELPROOF_SOFT_BINDING_ALG  # the alg the signed manifests record
_IDEM_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d{1,6})(?:\s*(?:[,;]|$))", re.IGNORECASE)
_EXT_FOR_CONTAINER = {
    "mp4": ".mp4",
    "mov": ".mov",
    "m4v": ".m4v",
    "mkv": ".mkv",
    "webm": ".webm",
    "avi": ".avi",
}


# -- response models (the OpenAPI document) --------------------------------------------------
class Links(BaseModel):
    self: str
    report: str


class AnalysisModel(BaseModel):
    """An analysis job and, once it succeeded, its verdict."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    id: str
    status: str = Field(description="queued | running | succeeded | failed")
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
    error: dict[str, Any] | None = Field(None, description="problem details when failed")
    links: Links


class ProvenanceModel(ProvenanceSignal):
    """The credentials-only answer of ``POST /v1/c2pa/verify``: the verdict's provenance body.

    The route answers 422 or 503 when the check could not run, so here ``state`` is always set.
    """

    state: ProvenanceState
    sha256: str
    filename: str


class Match(BaseModel):
    manifestId: str  # noqa: N815 (C2PA SBR field names)
    similarityScore: int = 100  # noqa: N815


class MatchList(BaseModel):
    matches: list[Match]


class AlgorithmList(BaseModel):
    watermarks: list[dict[str, str]]
    fingerprints: list[dict[str, str]] = Field(default_factory=list)


class HealthModel(BaseModel):
    status: str
    detail: dict[str, Any] = Field(default_factory=dict)


class ModelsModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    signals: dict[str, SignalModelInfo]
    versions: dict[str, str]
    load_errors: dict[str, str]


# -- the app ----------------------------------------------------------------------------------
class ServiceState:
    """Everything a request handler needs, built once per app."""

    def __init__(self, settings: ServiceSettings) -> None:
        settings.ensure_dirs()
        self.settings = settings
        self.db = ServiceDB(settings.db_path)
        self.metrics = ServiceMetrics()
        self.limiter = RateLimiter()
        self.options = VerifyOptions(
            detector=settings.detector,
            manifest_store=settings.manifest_store,
            trust_anchors=settings.trust_anchors,
            detector_model=settings.detector_model,
            max_pixels=settings.max_pixels,
            max_frames=settings.max_frames,
            max_duration_s=settings.max_duration_s,
        )
        # Provenance-only checks run in the server process (they are fast and need no model).
        self.light = Verifier(
            VerifyOptions(
                watermark=False,
                detector=False,
                store_lookup=True,
                manifest_store=settings.manifest_store,
                trust_anchors=settings.trust_anchors,
                max_pixels=settings.max_pixels,
                max_frames=settings.max_frames,
                max_duration_s=settings.max_duration_s,
            )
        )
        self.finished: dict[str, float] = {}
        self.runner = JobRunner(
            self.db,
            self.options,
            settings.workers,
            settings.max_attempts,
            settings.thumbnails,
            self._on_finished,
            settings.retain_uploads,
        )

    def _on_finished(self, job_id: str, outcome: dict[str, Any]) -> None:
        error = outcome.get("error")
        result = outcome.get("result")
        kept = self.db.finish_job(job_id, result, outcome.get("thumbnails"), error)
        self.metrics.jobs_finished.labels("failed" if error else "succeeded").inc()
        if isinstance(result, dict):
            self.metrics.verdicts.labels(str(result.get("verdict"))).inc()
            for stage, seconds in (result.get("timings") or {}).items():
                self.metrics.stage_seconds.labels(stage).observe(float(seconds))
        upload = outcome.get("upload_path")
        # Delete the upload even when the job was deleted while it ran (``kept`` is then False).
        if not self.settings.retain_uploads and upload:
            Path(upload).unlink(missing_ok=True)
            if kept:
                self.db.clear_upload(job_id)
        self.finished[job_id] = time.time()


_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def _state(request: Request) -> ServiceState:
    state = request.app.state.reelproof
    assert isinstance(state, ServiceState)
    return state


def require_key(
    request: Request,
    response: Response,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_header_key)],
) -> str:
    """Authenticate the caller and charge its rate limit; returns the owner id."""
    state = _state(request)
    if not state.settings.auth_required:
        owner, rate = ANONYMOUS, state.settings.default_rate_per_minute
    else:
        secret = api_key or (bearer.credentials if bearer else None)
        if not secret:
            raise ProblemError(
                401,
                "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>' "
                "(create one with: reelproof keys create-api-key)",
                "missing-api-key",
                headers={"WWW-Authenticate": 'Bearer realm="reelproof"'},
            )
        key = state.db.check_api_key(secret)
        if key is None:
            raise ProblemError(
                401,
                "unknown or revoked API key",
                "bad-api-key",
                headers={"WWW-Authenticate": 'Bearer realm="reelproof", error="invalid_token"'},
            )
        owner, rate = key.key_id, key.rate_per_minute
    allowed, remaining, retry = state.limiter.acquire(owner, rate)
    if not allowed:
        state.metrics.rate_limited.inc()
        raise ProblemError(
            429,
            f"rate limit of {rate} requests per minute exceeded; retry in {retry} s",
            "rate-limited",
            headers={"Retry-After": str(retry), "RateLimit-Limit": str(rate)},
        )
    response.headers["RateLimit-Limit"] = str(rate)
    response.headers["RateLimit-Remaining"] = str(remaining)
    return owner


Owner = Annotated[str, Depends(require_key)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retry-safe key: the same key and body return the first answer again.",
        max_length=255,
    ),
]


def _check_idem_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _IDEM_KEY.match(value):
        raise ProblemError(
            400, "Idempotency-Key must be 1-255 visible ASCII characters", "bad-idempotency-key"
        )
    return value


def _parse_prefer_wait(prefer: str | None, cap: float) -> float | None:
    if not prefer:
        return None
    match = _PREFER_WAIT.search(prefer)
    if match is None:
        return None
    return min(float(match.group(1)), cap)


def _analysis_body(job: dict[str, Any]) -> dict[str, Any]:
    result = json.loads(job["result"]) if job.get("result") else None
    links = {"self": f"/v1/analyses/{job['id']}", "report": f"/v1/analyses/{job['id']}/report"}
    return {
        "id": job["id"],
        "status": job["status"],
        "stage": job.get("stage"),
        "stages_done": json.loads(job.get("stages_done") or "[]"),
        "filename": job["filename"],
        "sha256": job["sha256"],
        "size_bytes": job["size_bytes"],
        "attempts": job["attempts"],
        "created_at": job["created_at"],
        "started_at": job.get("started_at"),
        "finished_at": job.get("finished_at"),
        "verdict": result.get("verdict") if result else None,
        "result": result,
        "error": json.loads(job["error"]) if job.get("error") else None,
        "links": links,
    }


def _probe_and_check(path: Path, limits: Any, count_packets: bool) -> str:
    """Container label of a safe upload (raises a ReelProofError otherwise).

    Full analyses probe with PyAV (limits, codecs) and count packets. The credentials-only route
    (``count_packets`` off) skips the demuxer for ISO BMFF files: the structure check is enough
    for the c2pa reader (memory-safe Rust), and it is most of the cost of that route.
    """
    from reelproof.core.io import probe
    from reelproof.service.integrity import check_upload, light_container_check

    if not count_packets:
        label = light_container_check(path)
        if label is not None:
            return label
    media = probe(path, limits)
    check_upload(path, media, count_packets)
    return str(media.container)


async def _probe_upload(state: ServiceState, upload: Upload, count_packets: bool = True) -> Upload:
    """Probe the upload under the media limits, refuse truncated files and polyglots (4xx), and
    give it the suffix of its real container."""
    try:
        container = await run_in_threadpool(
            _probe_and_check, upload.path, state.light.limits(), count_packets
        )
    except ReelProofError as err:
        upload.path.unlink(missing_ok=True)
        status, slug = status_for(err)
        # Name the client's file, never the server's temporary path.
        detail = str(err).replace(str(upload.path), upload.filename)
        detail = detail.replace(upload.path.name, upload.filename)
        raise ProblemError(status, detail, slug) from err
    except Exception as err:  # a decoder bug on hostile input is still the input's fault
        upload.path.unlink(missing_ok=True)
        raise ProblemError(
            422, f"the file could not be read as video ({type(err).__name__})", "undecodable-media"
        ) from err
    suffix = _EXT_FOR_CONTAINER.get(container, ".mp4")
    target = upload.path.with_suffix(suffix)
    upload.path.rename(target)
    return Upload(target, upload.filename, upload.sha256, upload.size_bytes)


def create_app(settings: ServiceSettings | None = None, start_workers: bool = True) -> FastAPI:
    """Build the app.

    Args:
        settings: service settings (default: from ``REELPROOF_*`` environment variables).
        start_workers: start the worker pool on startup (off in schema-only tests).
    """
    settings = settings or ServiceSettings()
    state = ServiceState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            state.runner.start()
        try:
            yield
        finally:
            if start_workers:
                state.runner.stop()

    app = FastAPI(
        title="ReelProof moderation API",
        version="1.0.0",
        description=(
            "Verify video clips: C2PA Content Credentials, the ReelProof watermark and a "
            "synthetic-video classifier, fused into one explained verdict. Errors are RFC 9457 "
            "problem details."
        ),
        lifespan=lifespan,
        responses=problem_openapi(500),
    )
    app.state.reelproof = state
    install_problem_handlers(app)
    _install_metrics_middleware(app, state)
    _add_routes(app, state)
    return app


def _install_metrics_middleware(app: FastAPI, state: ServiceState) -> None:
    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Any:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        state.metrics.requests.labels(request.method, template, str(response.status_code)).inc()
        state.metrics.latency.labels(template).observe(time.perf_counter() - start)
        return response


def _add_routes(app: FastAPI, state: ServiceState) -> None:
    settings = state.settings
    common = problem_openapi(400, 401, 422, 429)

    @app.post(
        "/v1/analyses",
        status_code=202,
        response_model=AnalysisModel,
        summary="Submit a clip for full verification",
        openapi_extra=UPLOAD_OPENAPI,
        responses={
            200: {"model": AnalysisModel, "description": "Finished within Prefer: wait"},
            **common,
            **problem_openapi(413, 415),
        },
        tags=["analyses"],
    )
    async def create_analysis(
        request: Request,
        response: Response,
        owner: Owner,
        idempotency_key: IdempotencyKey = None,
        prefer: Annotated[
            str | None, Header(description="'wait=N' waits up to N s for the verdict")
        ] = None,
    ) -> Any:
        idem = _check_idem_key(idempotency_key)
        upload = await receive_upload(request, settings.upload_dir, settings.max_upload_bytes)
        upload = await _probe_upload(state, upload)
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
            raise ProblemError(
                422,
                "this Idempotency-Key was already used with a different file",
                "idempotency-key-reused",
            ) from None
        if not created:
            upload.path.unlink(missing_ok=True)
            response.headers["Idempotent-Replayed"] = "true"
        state.runner.wake()
        wait = _parse_prefer_wait(prefer, settings.max_wait_s)
        job = await _wait_for(state, job_id, owner, wait)
        if wait is not None:
            response.headers["Preference-Applied"] = f"wait={int(wait)}"
        response.headers["Location"] = f"/v1/analyses/{job_id}"
        if job["status"] in ("succeeded", "failed"):
            response.status_code = 200
        return _analysis_body(job)

    @app.get(
        "/v1/analyses/{analysis_id}",
        response_model=AnalysisModel,
        summary="Status and verdict of an analysis",
        responses={**common, **problem_openapi(404)},
        tags=["analyses"],
    )
    async def get_analysis(
        analysis_id: str,
        owner: Owner,
        prefer: Annotated[str | None, Header(description="'wait=N' long-polls")] = None,
    ) -> Any:
        wait = _parse_prefer_wait(prefer, settings.max_wait_s)
        return _analysis_body(await _wait_for(state, analysis_id, owner, wait))

    @app.get(
        "/v1/analyses/{analysis_id}/report",
        summary="The verdict as JSON, or as a self-contained HTML report (Accept: text/html)",
        responses={
            200: {
                "description": "The report",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/VerdictModel"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            },
            **common,
            **problem_openapi(404, 409),
        },
        tags=["analyses"],
    )
    async def get_report(analysis_id: str, request: Request, owner: Owner) -> Response:
        job = state.db.get_job(analysis_id, owner)
        if job is None:
            raise ProblemError(404, f"no analysis {analysis_id}", "not-found")
        if job["status"] != "succeeded":
            detail = f"the analysis is {job['status']}; the report exists once it succeeded"
            raise ProblemError(409, detail, "not-ready")
        result = json.loads(job["result"])
        accept = request.headers.get("accept", "")
        if "text/html" in accept:
            from reelproof.service.report import render_html

            thumbs = json.loads(job["thumbnails"]) if job.get("thumbnails") else []
            return HTMLResponse(render_html(result, thumbs))
        return JSONResponse(result)

    @app.delete(
        "/v1/analyses/{analysis_id}",
        status_code=204,
        summary="Delete an analysis, its upload and its report",
        responses={**common, **problem_openapi(404)},
        tags=["analyses"],
    )
    async def delete_analysis(analysis_id: str, owner: Owner) -> Response:
        job = state.db.delete_job(analysis_id, owner)
        if job is None:
            raise ProblemError(404, f"no analysis {analysis_id}", "not-found")
        if job.get("upload_path") and job["status"] != "running":
            Path(job["upload_path"]).unlink(missing_ok=True)
        # A running job's upload is removed by the worker callback after it finishes.
        return Response(status_code=204)

    @app.post(
        "/v1/c2pa/verify",
        response_model=ProvenanceModel,
        summary="Verify C2PA Content Credentials only (fast, synchronous)",
        openapi_extra=UPLOAD_OPENAPI,
        responses={**common, **problem_openapi(413, 415, 503)},
        tags=["provenance"],
    )
    async def verify_c2pa(
        request: Request,
        response: Response,
        owner: Owner,
        idempotency_key: IdempotencyKey = None,
    ) -> Any:
        idem = _check_idem_key(idempotency_key)
        upload = await receive_upload(request, settings.upload_dir, settings.max_upload_bytes)
        try:
            route = "POST /v1/c2pa/verify"
            if idem:
                stored = state.db.get_idempotent(owner, idem, route)
                if stored is not None:
                    if stored.fingerprint != upload.sha256:
                        raise ProblemError(
                            422,
                            "this Idempotency-Key was already used with a different file",
                            "idempotency-key-reused",
                        )
                    return JSONResponse(
                        stored.body, stored.status, headers={"Idempotent-Replayed": "true"}
                    )
            upload = await _probe_upload(state, upload, count_packets=False)
            start = time.perf_counter()
            signal = await run_in_threadpool(state.light.provenance_only, upload.path)
            if signal.status is SignalStatus.ERROR:  # the reader refused the file itself
                reason = (signal.reason or "unreadable").replace(str(upload.path), upload.filename)
                raise ProblemError(422, reason.replace(upload.path.name, upload.filename),
                                   "undecodable-media")  # fmt: skip
            if signal.status is SignalStatus.UNAVAILABLE:
                raise ProblemError(503, f"credentials check unavailable: {signal.reason}",
                                   "not-configured")  # fmt: skip
            body = signal.body(("state", "codes", "signer"))
            body.update(
                {
                    "sha256": upload.sha256,
                    "filename": upload.filename,
                    "seconds": round(time.perf_counter() - start, 4),
                }
            )
            if idem:
                state.db.put_idempotent(
                    owner, idem, route, IdempotentResponse(upload.sha256, 200, body, {})
                )
            return body
        finally:
            upload.path.unlink(missing_ok=True)

    @app.get(
        "/v1/services/supportedAlgorithms",
        response_model=AlgorithmList,
        summary="Soft-binding algorithms this resolver understands (C2PA SBR style)",
        tags=["soft-binding"],
    )
    async def supported_algorithms() -> Any:
        return {"watermarks": [{"alg": WATERMARK_ALG}], "fingerprints": []}

    @app.get(
        "/v1/matches/byBinding",
        response_model=MatchList,
        summary="Manifests stored under a watermark id (C2PA Soft Binding Resolution style)",
        responses={**common},
        tags=["soft-binding"],
    )
    async def matches_by_binding(
        owner: Owner,
        alg: Annotated[str, Query(description=f"soft-binding algorithm: {WATERMARK_ALG}")],
        value: Annotated[
            str,
            Query(description="watermark id: base64 of the payload bytes, or hex", max_length=512),
        ],
        max_results: Annotated[int, Query(alias="maxResults", ge=1, le=100)] = 10,
    ) -> Any:
        if alg != WATERMARK_ALG:
            raise ProblemError(422, f"unsupported alg {alg!r}; use {WATERMARK_ALG}", "bad-alg")
        watermark_id = _binding_to_hex(value)
        ids = await run_in_threadpool(_lookup_manifest_ids, state, watermark_id)
        return {"matches": [{"manifestId": m, "similarityScore": 100} for m in ids[:max_results]]}

    @app.get(
        "/v1/manifests/{manifest_id}",
        summary="A stored manifest by id (C2PA Soft Binding Resolution style)",
        responses={
            200: {
                "description": "The manifest store",
                "content": {
                    "application/c2pa": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            },
            **common,
            **problem_openapi(404),
        },
        tags=["soft-binding"],
    )
    async def get_manifest(manifest_id: str, request: Request, owner: Owner) -> Response:
        found = await run_in_threadpool(_fetch_manifest, state, manifest_id)
        if found is None:
            raise ProblemError(404, f"no stored manifest {manifest_id}", "not-found")
        raw, summary = found
        if "application/json" in request.headers.get("accept", "") or raw is None:
            return JSONResponse(summary)
        return Response(raw, media_type="application/c2pa")

    @app.get(
        "/v1/models",
        response_model=ModelsModel,
        summary="Loaded models, keys and versions",
        responses=common,
        tags=["service"],
    )
    async def models(owner: Owner) -> Any:
        info = state.runner.info or {}
        return {
            "signals": info.get("describe") or state.light.describe_models(),
            "versions": info.get("versions") or state.light.versions(),
            "load_errors": info.get("load_errors") or {},
            "workers": state.runner.workers,
        }

    @app.get("/healthz", response_model=HealthModel, summary="Liveness", tags=["service"])
    async def healthz() -> Any:
        return {"status": "ok", "detail": {}}

    @app.get(
        "/readyz",
        response_model=HealthModel,
        summary="Readiness: database reachable and workers warm",
        responses={503: {"model": HealthModel, "description": "Not ready yet"}},
        tags=["service"],
    )
    async def readyz() -> Any:
        try:
            counts = state.db.count_by_status()
        except Exception as err:
            return JSONResponse({"status": "db-error", "detail": {"error": str(err)}}, 503)
        ready = state.runner.ready.is_set()
        body = {"status": "ready" if ready else "starting", "detail": {"jobs": counts}}
        return JSONResponse(body, 200 if ready else 503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        tags=["service"],
    )
    async def metrics() -> Response:
        for status, n in state.db.count_by_status().items():
            state.metrics.jobs.labels(status).set(n)
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        page = importlib.resources.files("reelproof.service").joinpath("static/index.html")
        return HTMLResponse(page.read_text(encoding="utf-8"))

    app.openapi_schema = None
    _original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = _original_openapi()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _wait_for(
    state: ServiceState, job_id: str, owner: str, wait: float | None
) -> dict[str, Any]:
    job = state.db.get_job(job_id, owner)
    if job is None:
        raise ProblemError(404, f"no analysis {job_id}", "not-found")
    if not wait:
        return job
    deadline = time.monotonic() + wait
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        await asyncio.sleep(0.1 if job_id not in state.finished else 0)
        refreshed = state.db.get_job(job_id, owner)
        if refreshed is None:
            raise ProblemError(404, f"analysis {job_id} was deleted", "not-found")
        job = refreshed
    return job


def _binding_to_hex(value: str) -> str:
    text = value.strip()
    if re.fullmatch(r"(0x)?[0-9a-fA-F]{4,128}", text):
        return text.lower().removeprefix("0x")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ProblemError(
            422, "value must be base64 or hex of the watermark id", "bad-value"
        ) from None
    if not raw:
        raise ProblemError(422, "value is empty", "bad-value")
    return raw.hex()


def _lookup_manifest_ids(state: ServiceState, watermark_id: str) -> list[str]:
    from reelproof.service.softbinding import lookup_manifest_ids

    return lookup_manifest_ids(state.light, watermark_id)


def _fetch_manifest(
    state: ServiceState, manifest_id: str
) -> tuple[bytes | None, dict[str, Any]] | None:
    from reelproof.service.softbinding import fetch_manifest

    return fetch_manifest(state.light, manifest_id)
