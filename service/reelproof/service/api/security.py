"""Response headers every answer carries: no MIME sniffing, no framing, no caching of private
results, no referrer, and a Content-Security-Policy fitted to what each kind of page loads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

DOCS_ASSETS = "/static-offline-docs"

# JSON answers and anything else: nothing may load.
_CSP_NONE = "default-src 'none'; frame-ancestors 'none'"
# The web page: its own inline script and styles, fetches to this server, and the report shown
# in a sandboxed srcdoc frame (which inherits this policy: inline CSS and data: images).
_CSP_PAGE = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
# The HTML report: inline CSS and data: images only, never a script.
_CSP_REPORT = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
# Swagger UI and ReDoc, served from the installed package (no CDN).
_CSP_DOCS = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'"
)

Handler = Callable[[Request], Awaitable[Response]]


def policy_for(path: str, content_type: str) -> str:
    """The Content-Security-Policy for a response to ``path``."""
    if path == "/":
        return _CSP_PAGE
    if path in ("/docs", "/redoc", "/docs/oauth2-redirect") or path.startswith(DOCS_ASSETS):
        return _CSP_DOCS
    if content_type.startswith("text/html"):
        return _CSP_REPORT
    return _CSP_NONE


async def add_security_headers(request: Request, call_next: Handler) -> Response:
    response = await call_next(request)
    path = request.url.path
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", policy_for(path, headers.get("content-type", "")))
    if path.startswith(DOCS_ASSETS):
        headers.setdefault("Cache-Control", "public, max-age=86400")  # the installed Swagger UI
    else:
        headers.setdefault("Cache-Control", "no-store")  # verdicts and keys are private
    return response
