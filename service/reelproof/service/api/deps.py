"""What the routes depend on: the service state, the caller's key and rate limit, request
headers, and the upload probe. Routers get these through FastAPI dependencies only."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from reelproof.core.errors import ReelProofError
from reelproof.core.io import MediaLimits
from reelproof.service.api.db import ServiceDB
from reelproof.service.api.metrics import ServiceMetrics
from reelproof.service.api.problems import ProblemError, status_for
from reelproof.service.api.ratelimit import RateLimiter, RedisRateLimiter
from reelproof.service.api.settings import ServiceSettings
from reelproof.service.api.uploads import Upload, remove_stale_uploads
from reelproof.service.api.workers import AnalysisOutcome, JobRunner, WorkerInfo
from reelproof.service.pipeline import Verifier, VerifyOptions

log = logging.getLogger("reelproof.service")

ANONYMOUS = "anonymous"
_IDEM_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d{1,6})(?:\s*(?:[,;]|$))", re.IGNORECASE)
_EXT_FOR_CONTAINER = {
    "mp4": ".mp4",
    "mov": ".mov",
    "m4v": ".m4v",
    "mkv": ".mkv",
    "webm": ".webm",
    "avi": ".avi",
    # still images, by the format sniffed from their bytes
    "jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "heif": ".heic",
    "avif": ".avif",
}


class Dispatcher(Protocol):
    """Where stored jobs go: the embedded ``JobRunner`` or the ``CeleryDispatcher``."""

    @property
    def info(self) -> WorkerInfo | None:
        """What a worker loaded (``None`` while none is up)."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def submitted(self, job_id: str) -> None:
        """A job was stored as queued."""
        ...

    def is_ready(self) -> bool: ...

    def worker_count(self) -> int: ...

    def queue_depth(self) -> int | None:
        """Jobs waiting for a worker (``None`` when it cannot be told)."""
        ...


class Limiter(Protocol):
    def acquire(self, key: str, rate_per_minute: int) -> tuple[bool, int, int]: ...


class ServiceState:
    """Everything a request handler needs, built once per app.

    With ``REELPROOF_BROKER_URL`` set, jobs go to Celery workers (``CeleryDispatcher``) and rate
    limits live in Redis; otherwise this server runs its own worker processes (``JobRunner``).
    """

    def __init__(self, settings: ServiceSettings) -> None:
        settings.ensure_dirs()
        # Partial uploads of a server that was killed mid-request (any live one is younger).
        remove_stale_uploads(settings.upload_dir, 2 * settings.upload_idle_timeout_s)
        self.settings = settings
        self.db = ServiceDB(settings.db_url)
        self.metrics = ServiceMetrics()
        redis_url = settings.shared_redis_url
        self.limiter: Limiter = RedisRateLimiter(redis_url) if redis_url else RateLimiter()
        self.options = settings.verify_options()
        # Provenance-only checks and store lookups run in the server process (fast, no model).
        self.light = Verifier(
            VerifyOptions(
                watermark=False,
                detector=False,
                store_lookup=True,
                manifest_store=settings.manifest_store_location(),
                trust_anchors=settings.trust_anchors,
                max_pixels=settings.max_pixels,
                max_frames=settings.max_frames,
                max_duration_s=settings.max_duration_s,
            )
        )
        self.finished: dict[str, float] = {}
        self.runner: Dispatcher
        if settings.distributed:
            from reelproof.service.api.dispatch import CeleryDispatcher

            self.runner = CeleryDispatcher(settings, self.db)
        else:
            self.runner = JobRunner(
                self.db,
                self.options,
                settings.workers,
                settings.max_attempts,
                settings.thumbnails,
                self._on_finished,
                settings.retain_uploads,
            )
        self.metrics.watch(self.db, self.runner)

    def _on_finished(self, job_id: str, outcome: AnalysisOutcome) -> None:
        result = outcome.result_json()
        thumbs = [t.to_json() for t in outcome.thumbnails] if outcome.verdict else None
        error = outcome.error.model_dump() if outcome.error is not None else None
        kept = self.db.finish_job(job_id, result, thumbs, error)
        self.metrics.jobs_finished.labels("failed" if error else "succeeded").inc()
        if outcome.verdict is not None:
            self.metrics.verdicts.labels(outcome.verdict.verdict.value).inc()
            for stage, seconds in outcome.verdict.timings.items():
                self.metrics.stage_seconds.labels(stage).observe(seconds)
        upload = outcome.upload_path
        # Delete the upload even when the job was deleted while it ran (``kept`` is then False).
        if not self.settings.retain_uploads and upload:
            Path(upload).unlink(missing_ok=True)
            if kept:
                self.db.clear_upload(job_id)
        self.finished[job_id] = time.time()


def get_state(request: Request) -> ServiceState:
    state = request.app.state.reelproof
    assert isinstance(state, ServiceState)
    return state


State = Annotated[ServiceState, Depends(get_state)]
_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def require_key(
    state: State,
    response: Response,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_header_key)],
) -> str:
    """Authenticate the caller and charge its rate limit; returns the owner id."""
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
    try:
        allowed, remaining, retry = state.limiter.acquire(owner, rate)
    except Exception as err:  # Redis away: refuse politely rather than serve unmetered
        log.warning("rate limiter unavailable", exc_info=True)
        raise ProblemError(
            503, "the rate limiter is unavailable; retry shortly", "unavailable",
            headers={"Retry-After": "5"},
        ) from err  # fmt: skip
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


def idempotency_key(
    value: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retry-safe key: the same key and body return the first answer again.",
            max_length=255,
        ),
    ] = None,
) -> str | None:
    if value is not None and not _IDEM_KEY.match(value):
        raise ProblemError(
            400, "Idempotency-Key must be 1-255 visible ASCII characters", "bad-idempotency-key"
        )
    return value


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def reused_key_problem() -> ProblemError:
    return ProblemError(
        422, "this Idempotency-Key was already used with a different file", "idempotency-key-reused"
    )


def prefer_wait(
    state: State,
    prefer: Annotated[
        str | None, Header(description="'wait=N' waits up to N seconds for the verdict")
    ] = None,
) -> float | None:
    """Seconds the client asked to wait (``Prefer: wait=N``), capped by the settings."""
    match = _PREFER_WAIT.search(prefer) if prefer else None
    return None if match is None else min(float(match.group(1)), state.settings.max_wait_s)


PreferWait = Annotated[float | None, Depends(prefer_wait)]


def _probe_and_check(path: Path, limits: MediaLimits, count_packets: bool) -> str:
    """Container (or still image format) label of a safe upload; a ReelProofError otherwise.

    Still images are told apart by their bytes and probed from their header (pixel limits).
    Full analyses probe videos with PyAV (limits, codecs) and count packets. The
    credentials-only route (``count_packets`` off) skips the demuxer for ISO BMFF files: the
    structure check is enough for the c2pa reader (memory-safe Rust), and it is most of the
    cost of that route.
    """
    from reelproof.core.io import probe, probe_still, sniff_still_file
    from reelproof.core.io.boxes import check_structure
    from reelproof.service.integrity import check_still, check_upload, light_container_check

    if sniff_still_file(path) is not None:
        check_structure(path)
        fmt = probe_still(path, limits).format
        check_still(path, fmt)
        return fmt
    if not count_packets:
        label = light_container_check(path)
        if label is not None:
            return label
    media = probe(path, limits)
    check_upload(path, media, count_packets)
    return media.container


async def probe_upload(state: ServiceState, upload: Upload, count_packets: bool = True) -> Upload:
    """Probe the upload under the media limits, refuse truncated files and polyglots (4xx), and
    give it the suffix of its real container."""
    try:
        container = await run_in_threadpool(
            _probe_and_check, upload.path, state.light.limits(), count_packets
        )
    except ReelProofError as err:
        upload.path.unlink(missing_ok=True)
        status, slug = status_for(err)
        raise ProblemError(status, client_text(str(err), upload), slug) from err
    except Exception as err:  # a decoder bug on hostile input is still the input's fault
        upload.path.unlink(missing_ok=True)
        raise ProblemError(
            422, f"the file could not be read as video ({type(err).__name__})", "undecodable-media"
        ) from err
    target = upload.path.with_suffix(_EXT_FOR_CONTAINER.get(container, ".mp4"))
    upload.path.rename(target)
    return Upload(target, upload.filename, upload.sha256, upload.size_bytes)


def client_text(text: str, upload: Upload) -> str:
    """``text`` naming the client's file, never the server's temporary path."""
    return text.replace(str(upload.path), upload.filename).replace(
        upload.path.name, upload.filename
    )
