"""SQLite state of the service: API keys (hashed), jobs, idempotency records.

One file, WAL mode, one short-lived connection per operation: the server's threads and the worker
processes write to it concurrently, and SQLite serialises the writers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from reelproof.core.errors import ConfigError
from reelproof.core.results import JsonObject

if TYPE_CHECKING:
    from reelproof.service.api.models import JobStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    rate_per_minute INTEGER NOT NULL,
    created_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT,
    stages_done TEXT NOT NULL DEFAULT '[]',
    filename TEXT NOT NULL,
    upload_path TEXT,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    result TEXT,
    thumbnails TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS idempotency (
    owner TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    route TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (owner, idem_key, route)
);
"""

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

    @classmethod
    def of(cls, row: sqlite3.Row) -> JobRecord:
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
        )


@dataclass(frozen=True)
class IdempotentResponse:
    """A response stored under an ``Idempotency-Key``."""

    fingerprint: str
    status: int
    body: JsonObject
    headers: dict[str, str]


class ServiceDB:
    """Access to the service database at ``path`` (created on first use).

    Args:
        path: SQLite file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Owner-only: it holds who submitted what. SQLite gives its -wal and -shm files the
        # database file's mode, so creating the file first is enough.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        conn = sqlite3.connect(self.path, timeout=30.0)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.commit()
        finally:
            conn.close()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a transaction (committed on success, rolled back on error)."""
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    # -- API keys ------------------------------------------------------------------------------
    def create_api_key(self, name: str, rate_per_minute: int) -> tuple[str, ApiKey]:
        """Create a key; returns ``(secret, record)``. The secret is shown once, never stored."""
        if rate_per_minute < 1:
            raise ConfigError("the rate must be at least 1 request per minute")
        key_id = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, 0)",
                (key_id, name, _sha256(secret), rate_per_minute, time.time()),
            )
        return secret, ApiKey(key_id, name, rate_per_minute)

    def check_api_key(self, secret: str) -> ApiKey | None:
        """The key record for ``secret``, or ``None`` when unknown, revoked or malformed."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM api_keys WHERE key_id = ? AND revoked = 0", (parts[1],)
            ).fetchone()
        if row is None or not hmac.compare_digest(row["secret_sha256"], _sha256(secret)):
            return None
        return ApiKey(row["key_id"], row["name"], int(row["rate_per_minute"]))

    def revoke_api_key(self, key_id: str) -> bool:
        with self.connect() as conn:
            cur = conn.execute("UPDATE api_keys SET revoked = 1 WHERE key_id = ?", (key_id,))
            return cur.rowcount > 0

    def list_api_keys(self) -> list[StoredKey]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT key_id, name, rate_per_minute, created_at, revoked FROM api_keys"
            ).fetchall()
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
    ) -> tuple[str, bool]:
        """Insert a queued job; with ``(idem_key, route, fingerprint)`` do it idempotently.

        Returns:
            ``(job_id, created)``; ``created`` is False when the idempotency key already named a
            job (its id is returned instead).
        """
        job_id = uuid.uuid4().hex
        with self.connect() as conn:
            if idempotency is not None:
                idem_key, route, fingerprint = idempotency
                row = conn.execute(
                    "SELECT fingerprint, body FROM idempotency WHERE owner=? AND idem_key=? "
                    "AND route=?",
                    (owner, idem_key, route),
                ).fetchone()
                if row is not None:
                    if row["fingerprint"] != fingerprint:
                        raise IdempotencyMismatchError(idem_key)
                    return str(json.loads(row["body"])["id"]), False
                conn.execute(
                    "INSERT INTO idempotency VALUES (?, ?, ?, ?, 202, ?, '{}', ?)",
                    (owner, idem_key, route, fingerprint, json.dumps({"id": job_id}), time.time()),
                )
            conn.execute(
                "INSERT INTO jobs (id, owner, status, filename, upload_path, sha256, size_bytes, "
                "created_at) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, owner, filename, str(upload_path), sha256, size_bytes, time.time()),
            )
        return job_id, True

    def get_job(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            return None
        return JobRecord.of(row)

    def claim_next(self, max_attempts: int) -> JobRecord | None:
        """Mark the oldest queued job running and return it (``None`` when none is queued)."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET status='running', stage='starting', started_at=?, "
                "attempts=attempts+1 WHERE id=?",
                (time.time(), row["id"]),
            )
            return JobRecord.of(row)

    def set_stage(self, job_id: str, stage: str, done: list[str]) -> None:
        with self.connect() as conn:
            conn.execute(
                "UPDATE jobs SET stage=?, stages_done=? WHERE id=? AND status='running'",
                (stage, json.dumps(done), job_id),
            )

    def finish_job(
        self,
        job_id: str,
        result: JsonObject | None,
        thumbnails: list[JsonObject] | None,
        error: JsonObject | None,
    ) -> bool:
        """Record the outcome; False when the job was deleted meanwhile."""
        status = "succeeded" if error is None else "failed"
        with self.connect() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status=?, stage=NULL, finished_at=?, result=?, thumbnails=?, "
                "error=? WHERE id=? AND status='running'",
                (
                    status,
                    time.time(),
                    json.dumps(result) if result is not None else None,
                    json.dumps(thumbnails) if thumbnails is not None else None,
                    json.dumps(error) if error is not None else None,
                    job_id,
                ),
            )
            return cur.rowcount > 0

    def requeue_if_attempts_left(self, job_id: str, max_attempts: int) -> bool:
        """Put a running job back in the queue when it has attempts left."""
        with self.connect() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status='queued', stage=NULL WHERE id=? AND status='running' "
                "AND attempts < ?",
                (job_id, max_attempts),
            )
            return cur.rowcount > 0

    def clear_upload(self, job_id: str) -> None:
        with self.connect() as conn:
            conn.execute("UPDATE jobs SET upload_path=NULL WHERE id=?", (job_id,))

    def delete_job(self, job_id: str, owner: str) -> JobRecord | None:
        """Delete a job row; returns it (to remove its upload) or ``None`` when not found."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE id=? AND owner=?", (job_id, owner)
            ).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM jobs WHERE id=?", (job_id,))
            return JobRecord.of(row)

    def recover_after_restart(
        self, max_attempts: int
    ) -> tuple[list[str], list[tuple[str, str | None]]]:
        """Requeue or fail jobs left ``running`` by a previous server process.

        Returns:
            ``(requeued_ids, [(failed_id, its_upload_path)])``. A job is requeued while it has
            attempts left and its upload still exists; otherwise it fails with an explicit
            ``interrupted`` error (the caller removes its upload).
        """
        requeued: list[str] = []
        failed: list[tuple[str, str | None]] = []
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM jobs WHERE status='running'").fetchall()
            for row in rows:
                upload = row["upload_path"]
                if row["attempts"] < max_attempts and upload and Path(upload).is_file():
                    conn.execute(
                        "UPDATE jobs SET status='queued', stage=NULL WHERE id=?", (row["id"],)
                    )
                    requeued.append(row["id"])
                    continue
                error = {
                    "type": "https://reelproof.dev/problems/interrupted",
                    "title": "Analysis interrupted",
                    "detail": "The server stopped while this analysis was running "
                    f"({row['attempts']} attempt(s)); submit the clip again.",
                }
                conn.execute(
                    "UPDATE jobs SET status='failed', stage=NULL, finished_at=?, error=? "
                    "WHERE id=?",
                    (time.time(), json.dumps(error), row["id"]),
                )
                failed.append((row["id"], upload))
        return requeued, failed

    def count_by_status(self) -> dict[str, int]:
        with self.connect() as conn:
            rows = conn.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        return {r["status"]: int(r["n"]) for r in rows}

    # -- idempotency for synchronous endpoints -------------------------------------------------
    def get_idempotent(self, owner: str, idem_key: str, route: str) -> IdempotentResponse | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM idempotency WHERE owner=? AND idem_key=? AND route=?",
                (owner, idem_key, route),
            ).fetchone()
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
        with self.connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    owner,
                    idem_key,
                    route,
                    response.fingerprint,
                    response.status,
                    json.dumps(response.body),
                    json.dumps(response.headers),
                    time.time(),
                ),
            )


class IdempotencyMismatchError(Exception):
    """An ``Idempotency-Key`` was reused with a different request."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
