"""The FastAPI application behind ``reelproof serve``.

Routes (all errors are RFC 9457 ``application/problem+json``), one router per resource in
``reelproof.service.api.routers``:

- ``analyses``: ``POST /v1/analyses`` (upload a clip, get a job; ``Prefer: wait=N``;
  ``Idempotency-Key``), ``GET /v1/analyses/{id}``, ``GET /v1/analyses/{id}/report`` (JSON or
  HTML by ``Accept``), ``DELETE /v1/analyses/{id}``;
- ``c2pa``: ``POST /v1/c2pa/verify``, credentials only, answered synchronously;
- ``softbinding``: ``GET /v1/services/supportedAlgorithms``, ``GET /v1/matches/byBinding``,
  ``GET /v1/manifests/{manifestId}`` (C2PA Soft Binding Resolution-style lookups);
- ``models``: ``GET /v1/models``;
- ``health``: ``/healthz``, ``/readyz``, ``/metrics`` and the web page at ``/``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi_offline import FastAPIOffline

from reelproof.service.api.deps import ServiceState
from reelproof.service.api.problems import Problem, install_problem_handlers, problem_openapi
from reelproof.service.api.routers import analyses, c2pa, health, models, softbinding
from reelproof.service.api.security import DOCS_ASSETS, add_security_headers
from reelproof.service.api.settings import ServiceSettings


def create_app(settings: ServiceSettings | None = None, start_workers: bool = True) -> FastAPI:
    """Build the app.

    Args:
        settings: service settings (default: from ``REELPROOF_*`` environment variables).
        start_workers: start the worker pool on startup (off in schema-only tests).
    """
    state = ServiceState(settings or ServiceSettings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            state.runner.start()
        try:
            yield
        finally:
            if start_workers:
                state.runner.stop()

    # /docs and /redoc load Swagger UI and ReDoc from the installed package, never a CDN.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
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
    app.middleware("http")(_metrics_middleware(state))
    app.middleware("http")(add_security_headers)
    for module in (analyses, c2pa, softbinding, models, health):
        app.include_router(module.router)
    _document_problems(app)
    return app


def _metrics_middleware(
    state: ServiceState,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        template = getattr(request.scope.get("route"), "path", "unmatched")
        state.metrics.requests.labels(request.method, template, str(response.status_code)).inc()
        state.metrics.latency.labels(template).observe(time.perf_counter() - start)
        return response

    return observe


def _document_problems(app: FastAPI) -> None:
    """Add the ``Problem`` schema the routes' error responses refer to."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
