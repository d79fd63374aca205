"""Liveness, readiness, Prometheus metrics and the web page."""

from __future__ import annotations

import importlib.resources

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reelproof.core.results import JsonValue
from reelproof.service.api.deps import State
from reelproof.service.api.models import HealthModel

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=HealthModel, summary="Liveness")
async def healthz() -> HealthModel:
    return HealthModel(status="ok")


@router.get(
    "/readyz",
    response_model=HealthModel,
    summary="Readiness: database reachable and workers warm",
    responses={503: {"model": HealthModel, "description": "Not ready yet"}},
)
async def readyz(state: State) -> Response:
    try:
        counts = state.db.count_by_status()
    except Exception as err:
        body = HealthModel(status="db-error", detail={"error": str(err)})
        return JSONResponse(body.model_dump(), 503)
    ready = state.runner.is_ready()
    detail: dict[str, JsonValue] = {"jobs": dict(counts), "workers": state.runner.worker_count()}
    body = HealthModel(status="ready" if ready else "starting", detail=detail)
    return JSONResponse(body.model_dump(), 200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def index() -> HTMLResponse:
    page = importlib.resources.files("reelproof.service").joinpath("static/index.html")
    return HTMLResponse(page.read_text(encoding="utf-8"))
