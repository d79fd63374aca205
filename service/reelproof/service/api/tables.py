"""The service database's tables (SQLAlchemy Core): API keys, jobs, idempotency records, workers.

The manifest store's table lives with its store (``reelproof.provenance.store_sql.MANIFESTS``);
the Alembic migrations in ``migrations/versions`` create all of them, in SQLite and PostgreSQL.
Times are Unix seconds (float); JSON columns hold text.
"""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()

API_KEYS = sa.Table(
    "api_keys",
    METADATA,
    sa.Column("key_id", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("secret_sha256", sa.Text(), nullable=False),
    sa.Column("rate_per_minute", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("revoked", sa.Integer(), nullable=False, server_default="0"),
)

JOBS = sa.Table(
    "jobs",
    METADATA,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("owner", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("stage", sa.Text()),
    sa.Column("stages_done", sa.Text(), nullable=False, server_default="[]"),
    sa.Column("filename", sa.Text(), nullable=False),
    sa.Column("upload_path", sa.Text()),
    sa.Column("sha256", sa.Text(), nullable=False),
    sa.Column("size_bytes", sa.BigInteger(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("started_at", sa.Float()),
    sa.Column("finished_at", sa.Float()),
    sa.Column("result", sa.Text()),
    sa.Column("thumbnails", sa.Text()),
    sa.Column("error", sa.Text()),
    # Distributed mode (migration 0002): who runs the job, until when its lease holds, when its
    # message went to the broker, every attempt's outcome, and whether the file is the caller's
    # own (an archive scan's clip: never deleted).
    sa.Column("worker", sa.Text()),
    sa.Column("lease_until", sa.Float()),
    sa.Column("enqueued_at", sa.Float()),
    sa.Column("history", sa.Text(), nullable=False, server_default="[]"),
    sa.Column("keep_upload", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index("jobs_status", "status"),
)

IDEMPOTENCY = sa.Table(
    "idempotency",
    METADATA,
    sa.Column("owner", sa.Text(), primary_key=True),
    sa.Column("idem_key", sa.Text(), primary_key=True),
    sa.Column("route", sa.Text(), primary_key=True),
    sa.Column("fingerprint", sa.Text(), nullable=False),
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("headers", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
)

WORKERS = sa.Table(
    "workers",
    METADATA,
    sa.Column("worker_id", sa.Text(), primary_key=True),
    sa.Column("hostname", sa.Text(), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("started_at", sa.Float(), nullable=False),
    sa.Column("last_seen", sa.Float(), nullable=False),
    sa.Column("info", sa.Text(), nullable=False, server_default="{}"),
)
