"""The service's state: API keys (hashed), jobs, idempotency records (SQLAlchemy Core).

One engine per process (``reelproof.service.api.database``), one short transaction per
operation, on SQLite (the embedded default) or PostgreSQL. The distributed mode's job leases and
worker registry are in ``reelproof.service.api.leases``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reelproof.core.errors import ConfigError
from reelproof.core.results import JsonObject
from reelproof.service.api.database import make_engine, upgrade
from reelproof.service.api.tables import API_KEYS, IDEMPOTENCY, JOBS

if TYPE_CHECKING:
    from reelproof.service.api.models import JobStatus

KEY_PREFIX = "rp"
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (the secret itself is never stored, only its SHA-256)."""

    key_id: str
    name: str
    rate_per_minute: int


@dataclass(frozen=True)
class StoredKey:
    """An API key as ``reelproof keys list-api-keys`` shows it."""

    key_id: str
    name: str
    rate_per_minute: int
    created_at: float
    revoked: bool


@dataclass(frozen=True)
class JobRecord:
    """One analysis job as stored.

    Attributes:
        result / thumbnails / error: JSON text (the verdict, the report's thumbnails, problem
            details), served as stored.
        worker / lease_until / history: distributed mode: the worker running the job, until
            when its lease holds, and one entry per attempt (worker, start, outcome).
        keep_upload: the file is the caller's own (an archive scan's clip): never deleted.
    """

    id: str
    owner: str
    status: JobStatus
    stage: str | None
    stages_done: tuple[str, ...]
    filename: str
    upload_path: str | None
    sha256: str
    size_bytes: int
    attempts: int
    created_at: float
    started_at: float | None
    finished_at: float | None
    result: str | None
    thumbnails: str | None
    error: str | None
    worker: str | None = None
    lease_until: float | None = None
    history: tuple[JsonObject, ...] = ()
    keep_upload: bool = False

    @classmethod
    def of(cls, row: sa.RowMapping) -> JobRecord:
        return cls(
            id=str(row["id"]),
            owner=str(row["owner"]),
            status=cast("JobStatus", row["status"]),
            stage=row["stage"],
            stages_done=tuple(json.loads(row["stages_done"] or "[]")),
            filename=str(row["filename"]),
            upload_path=row["upload_path"],
            sha256=str(row["sha256"]),
            size_bytes=int(row["size_bytes"]),
            attempts=int(row["attempts"]),
            created_at=float(row["created_at"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            result=row["result"],
            thumbnails=row["thumbnails"],
            error=row["error"],
            worker=row["worker"],
            lease_until=row["lease_until"],
            history=tuple(json.loads(row["history"] or "[]")),
            keep_upload=bool(row["keep_upload"]),
        )


@dataclass(frozen=True)
class IdempotentResponse:
    """A response stored under an ``Idempotency-Key``."""

    fingerprint: str
    status: int
    body: JsonObject
    headers: dict[str, str]


def interrupted_error(attempts: int) -> JsonObject:
    """Problem details of a job that a stopped server or worker left unfinished for good."""
    return {
        "type": "https://reelproof.dev/problems/interrupted",
        "title": "Analysis interrupted",
        "detail": "The server stopped while this analysis was running "
        f"({attempts} attempt(s)); submit the clip again.",
    }


class ServiceDB:
    """Access to the service database.

    Args:
        url: a SQLAlchemy URL (``postgresql+psycopg://...``, ``sqlite:///file``) or the path of
            a SQLite file.
        migrate: bring the schema up to date first (servers, workers and the CLI do; the
            embedded server's worker processes leave it to their server).
    """

    def __init__(self, url: str | Path, migrate: bool = True) -> None:
        self.url = f"sqlite:///{url}" if isinstance(url, Path) else url
        self.engine = make_engine(self.url)
        if migrate:
            upgrade(self.engine)

    @property
    def path(self) -> Path | None:
        """The SQLite file (``None`` for a server database)."""
        return Path(self.engine.url.database or "") if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection inside a transaction (committed on success, rolled back on error)."""
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        """Close pooled connections (after a fork, or when done)."""
        self.engine.dispose()

    # -- API keys ------------------------------------------------------------------------------
    def create_api_key(self, name: str, rate_per_minute: int) -> tuple[str, ApiKey]:
        """Create a key; returns ``(secret, record)``. The secret is shown once, never stored."""
        if rate_per_minute < 1:
            raise ConfigError("the rate must be at least 1 request per minute")
        key_id = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        with self.connect() as conn:
            conn.execute(
                API_KEYS.insert().values(
                    key_id=key_id,
                    name=name,
                    secret_sha256=_sha256(secret),
                    rate_per_minute=rate_per_minute,
                    created_at=time.time(),
                    revoked=0,
                )
            )
        return secret, ApiKey(key_id, name, rate_per_minute)

    def check_api_key(self, secret: str) -> ApiKey | None:
        """The key record for ``secret``, or ``None`` when unknown, revoked or malformed."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        query = sa.select(API_KEYS).where(API_KEYS.c.key_id == parts[1], API_KEYS.c.revoked == 0)
        with self.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or not hmac.compare_digest(row["secret_sha256"], _sha256(secret)):
            return None
        return ApiKey(row["key_id"], row["name"], int(row["rate_per_minute"]))

    def revoke_api_key(self, key_id: str) -> bool:
        with self.connect() as conn:
            cur = conn.execute(
                API_KEYS.update().where(API_KEYS.c.key_id == key_id).values(revoked=1)
            )
            return cur.rowcount > 0

    def list_api_keys(self) -> list[StoredKey]:
        with self.connect() as conn:
            rows = conn.execute(sa.select(API_KEYS)).mappings().all()
        return [
            StoredKey(
                r["key_id"], r["name"], r["rate_per_minute"], r["created_at"], bool(r["revoked"])
            )
            for r in rows
        ]

    # -- jobs ----------------------------------------------------------------------------------
    def insert_job(
        self,
        owner: str,
        filename: str,
        upload_path: Path,
        sha256: str,
        size_bytes: int,
        idempotency: tuple[str, str, str] | None = None,
        keep_upload: bool = False,
    ) -> tuple[str, bool]:
        """Insert a queued job; with ``(idem_key, route, fingerprint)`` do it idempotently.

        Returns:
            ``(job_id, created)``; ``created`` is False when the idempotency key already named a
            job (its id is returned instead).
        """
        job_id = uuid.uuid4().hex
        try:
            with self.connect() as conn:
                if idempotency is not None:
                    existing = _idempotent_job(conn, owner, idempotency)
                    if existing is not None:
                        return existing, False
                    idem_key, route, fingerprint = idempotency
                    conn.execute(
                        IDEMPOTENCY.insert().values(
                            owner=owner, idem_key=idem_key, route=route, fingerprint=fingerprint,
                            status=202, body=json.dumps({"id": job_id}), headers="{}",
                            created_at=time.time(),
                        )
                    )  # fmt: skip
                conn.execute(
                    JOBS.insert().values(
                        id=job_id, owner=owner, status="queued", filename=filename,
                        upload_path=str(upload_path), sha256=sha256, size_bytes=size_bytes,
                        created_at=time.time(), keep_upload=keep_upload,
                    )
                )  # fmt: skip
        except IntegrityError:
            # Another API process stored the same key first (a retry racing its original).
            if idempotency is None:
                raise
            with self.connect() as conn:
                existing = _idempotent_job(conn, owner, idempotency)
            if existing is None:
                raise
            return existing, False
        return job_id, True

    def get_job(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        with self.connect() as conn:
            row = conn.execute(sa.select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
        if row is None or (owner is not None and row["owner"] != owner):
            return None
        return JobRecord.of(row)

    def claim_next(self, max_attempts: int) -> JobRecord | None:
        """Mark the oldest queued job running and return it (``None`` when none is queued)."""
        query = sa.select(JOBS).where(JOBS.c.status == "queued").order_by(JOBS.c.created_at)
        with self.connect() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
            if row is None:
                return None
            conn.execute(
                JOBS.update()
                .where(JOBS.c.id == row["id"])
                .values(
                    status="running",
                    stage="starting",
                    started_at=time.time(),
                    attempts=JOBS.c.attempts + 1,
                )
            )
            return JobRecord.of(row)

    def set_stage(self, job_id: str, stage: str, done: list[str]) -> None:
        with self.connect() as conn:
            conn.execute(
                JOBS.update()
                .where(JOBS.c.id == job_id, JOBS.c.status == "running")
                .values(stage=stage, stages_done=json.dumps(done))
            )

    def finish_job(
        self,
        job_id: str,
        result: JsonObject | None,
        thumbnails: list[JsonObject] | None,
        error: JsonObject | None,
    ) -> bool:
        """Record the outcome; False when the job was deleted meanwhile."""
        with self.connect() as conn:
            cur = conn.execute(
                JOBS.update()
                .where(JOBS.c.id == job_id, JOBS.c.status == "running")
                .values(**outcome_values(result, thumbnails, error))
            )
            return cur.rowcount > 0

    def requeue_if_attempts_left(self, job_id: str, max_attempts: int) -> bool:
        """Put a running job back in the queue when it has attempts left."""
        with self.connect() as conn:
            cur = conn.execute(
                JOBS.update()
                .where(
                    JOBS.c.id == job_id,
                    JOBS.c.status == "running",
                    JOBS.c.attempts < max_attempts,
                )
                .values(status="queued", stage=None)
            )
            return cur.rowcount > 0

    def clear_upload(self, job_id: str) -> None:
        with self.connect() as conn:
            conn.execute(JOBS.update().where(JOBS.c.id == job_id).values(upload_path=None))

    def delete_job(self, job_id: str, owner: str) -> JobRecord | None:
        """Delete a job row; returns it (to remove its upload) or ``None`` when not found."""
        with self.connect() as conn:
            row = (
                conn.execute(sa.select(JOBS).where(JOBS.c.id == job_id, JOBS.c.owner == owner))
                .mappings()
                .first()
            )
            if row is None:
                return None
            conn.execute(JOBS.delete().where(JOBS.c.id == job_id))
            return JobRecord.of(row)

    def recover_after_restart(
        self, max_attempts: int
    ) -> tuple[list[str], list[tuple[str, str | None]]]:
        """Requeue or fail jobs left ``running`` by a previous server process (embedded mode).

        Returns:
            ``(requeued_ids, [(failed_id, its_upload_path)])``. A job is requeued while it has
            attempts left and its upload still exists; otherwise it fails with an explicit
            ``interrupted`` error (the caller removes its upload).
        """
        requeued: list[str] = []
        failed: list[tuple[str, str | None]] = []
        with self.connect() as conn:
            rows = conn.execute(sa.select(JOBS).where(JOBS.c.status == "running")).mappings()
            for row in rows.all():
                upload = row["upload_path"]
                by_id = JOBS.update().where(JOBS.c.id == row["id"])
                if row["attempts"] < max_attempts and upload and Path(upload).is_file():
                    conn.execute(by_id.values(status="queued", stage=None))
                    requeued.append(row["id"])
                    continue
                error = interrupted_error(int(row["attempts"]))
                conn.execute(
                    by_id.values(
                        status="failed", stage=None, finished_at=time.time(),
                        error=json.dumps(error),
                    )
                )  # fmt: skip
                failed.append((row["id"], upload))
        return requeued, failed

    def count_by_status(self) -> dict[str, int]:
        query = sa.select(JOBS.c.status, sa.func.count()).group_by(JOBS.c.status)
        with self.connect() as conn:
            rows = conn.execute(query).all()
        return {str(status): int(n) for status, n in rows}

    # -- idempotency for synchronous endpoints -------------------------------------------------
    def get_idempotent(self, owner: str, idem_key: str, route: str) -> IdempotentResponse | None:
        with self.connect() as conn:
            row = conn.execute(_idem_row(owner, idem_key, route)).mappings().first()
        if row is None:
            return None
        return IdempotentResponse(
            row["fingerprint"],
            int(row["status"]),
            json.loads(row["body"]),
            json.loads(row["headers"]),
        )

    def put_idempotent(
        self, owner: str, idem_key: str, route: str, response: IdempotentResponse
    ) -> None:
        """Store the first answer under the key (a concurrent second store is ignored)."""
        try:
            with self.connect() as conn:
                if conn.execute(_idem_row(owner, idem_key, route)).first() is not None:
                    return
                conn.execute(
                    IDEMPOTENCY.insert().values(
                        owner=owner, idem_key=idem_key, route=route,
                        fingerprint=response.fingerprint, status=response.status,
                        body=json.dumps(response.body), headers=json.dumps(response.headers),
                        created_at=time.time(),
                    )
                )  # fmt: skip
        except IntegrityError:
            return


def outcome_values(
    result: JsonObject | None, thumbnails: list[JsonObject] | None, error: JsonObject | None
) -> dict[str, Any]:
    """The column values of a finished job."""
    return {
        "status": "succeeded" if error is None else "failed",
        "stage": None,
        "finished_at": time.time(),
        "result": json.dumps(result) if result is not None else None,
        "thumbnails": json.dumps(thumbnails) if thumbnails is not None else None,
        "error": json.dumps(error) if error is not None else None,
    }


def _idem_row(owner: str, idem_key: str, route: str) -> sa.Select[Any]:
    return sa.select(IDEMPOTENCY).where(
        IDEMPOTENCY.c.owner == owner,
        IDEMPOTENCY.c.idem_key == idem_key,
        IDEMPOTENCY.c.route == route,
    )


def _idempotent_job(
    conn: sa.Connection, owner: str, idempotency: tuple[str, str, str]
) -> str | None:
    """The job id an idempotency key already names (``IdempotencyMismatchError`` on reuse)."""
    idem_key, route, fingerprint = idempotency
    row = conn.execute(_idem_row(owner, idem_key, route)).mappings().first()
    if row is None:
        return None
    if row["fingerprint"] != fingerprint:
        raise IdempotencyMismatchError(idem_key)
    return str(json.loads(row["body"])["id"])


class IdempotencyMismatchError(Exception):
    """An ``Idempotency-Key`` was reused with a different request."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
