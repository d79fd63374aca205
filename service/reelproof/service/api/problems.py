"""RFC 9457 problem details (``application/problem+json``) for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelproof.core.errors import (
    ConfigError,
    InputError,
    LimitExceededError,
    MediaDecodeError,
    ReelProofError,
    UnsupportedMediaError,
)

log = logging.getLogger("reelproof.service")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://reelproof.dev/problems/"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Conflict",
    411: "Length required",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldIssue(BaseModel):
    """One reason a request did not match the API schema."""

    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldIssue] | None = None


class JobError(BaseModel):
    """Why an analysis failed (the RFC 9457 fields a stored job keeps)."""

    type: str
    title: str
    detail: str

    @classmethod
    def named(cls, slug: str, title: str, detail: str) -> JobError:
        return cls(type=TYPE_BASE + slug, title=title, detail=detail)

    @classmethod
    def of(cls, err: ReelProofError) -> JobError:
        status, slug = status_for(err)
        return cls.named(slug, TITLES.get(status, "Error"), str(err))


class ProblemError(Exception):
    """Raise anywhere in a handler to answer with a problem response."""

    def __init__(
        self,
        status: int,
        detail: str,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[FieldIssue] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.headers = headers or {}
        self.errors = errors


def problem_response(
    status: int,
    detail: str | None,
    instance: str | None = None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[FieldIssue] | None = None,
) -> JSONResponse:
    """A JSON response with the problem media type."""
    problem = Problem(
        type=TYPE_BASE + slug if slug else "about:blank",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=instance or None,
        errors=errors,
    )
    body = problem.model_dump(exclude_none=True)
    body["detail"] = detail  # always present, null included (clients read it unconditionally)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def status_for(err: ReelProofError) -> tuple[int, str]:
    """HTTP status and problem slug for a ReelProof error."""
    if isinstance(err, LimitExceededError):
        return 422, "limit-exceeded"  # 413 is kept for the upload's byte size
    if isinstance(err, UnsupportedMediaError):
        return 415, "unsupported-media"
    if isinstance(err, MediaDecodeError):
        return 422, "undecodable-media"
    if isinstance(err, InputError):
        return 422, "bad-input"
    if isinstance(err, ConfigError):
        return 503, "not-configured"
    return 422, "bad-input"


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error (HTTP, validation, ReelProof, unexpected) to problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(
            exc.status, exc.detail, request.url.path, exc.slug, exc.headers, exc.errors
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return problem_response(
            exc.status_code, detail, request.url.path, None, dict(exc.headers or {})
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldIssue(
                loc=[str(p) for p in e.get("loc", ())],
                msg=str(e.get("msg", "")),
                type=str(e.get("type", "")),
            )
            for e in exc.errors()
        ]
        return problem_response(
            422,
            "The request does not match the API schema.",
            request.url.path,
            "validation-error",
            errors=errors,
        )

    async def on_reelproof(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ReelProofError)
        status, slug = status_for(exc)
        return problem_response(status, str(exc), request.url.path, slug)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, "An internal error occurred; it has been logged.", request.url.path, "internal"
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ReelProofError, on_reelproof)
    app.add_exception_handler(Exception, on_unexpected)


def problem_openapi(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem bodies for ``statuses``."""
    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
