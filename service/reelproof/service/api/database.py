"""The service database: one SQLAlchemy engine per process, and its Alembic migrations.

SQLite (the embedded default) runs in WAL mode with every transaction ``BEGIN IMMEDIATE``: the
server's threads and the worker processes write concurrently and SQLite serialises the writers.
PostgreSQL (``REELPROOF_DATABASE_URL=postgresql+psycopg://...``) is for many API and worker
nodes; there the job claim takes a row lock instead.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from reelproof.core.errors import ConfigError
from reelproof.provenance import redact_location

log = logging.getLogger("reelproof.service")

HEAD = "0002"
LEGACY_REVISION = "0001"  # the schema of databases made before the migrations existed
_MIGRATION_LOCK = 0x7265656C  # pg_advisory_xact_lock key: one migrator at a time


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url`` (``ConfigError`` with a hint when the URL or driver is wrong)."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(
            f"REELPROOF_DATABASE_URL is not a database URL: {err}",
            hint="use e.g. postgresql+psycopg://user:password@host:5432/reelproof",
        ) from err
    if is_sqlite(url):
        return _sqlite_engine(parsed.database or "")
    try:
        return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except ImportError as err:
        raise ConfigError(
            f"no driver for {parsed.drivername}: {err}",
            hint="install the scale-out extra: pip install 'reelproof[scale]'",
        ) from err


def _sqlite_engine(database: str) -> sa.Engine:
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():  # jobs name the clients' files: owner-only from the start
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = sa.create_engine(
        f"sqlite:///{path}", connect_args={"timeout": 30.0, "check_same_thread": False}
    )

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below starts transactions
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade(engine: sa.Engine) -> str:
    """Bring the database to the newest schema; returns the revision it was at before.

    A database made before migrations existed (tables, no ``alembic_version``) is stamped as
    ``0001`` first. On PostgreSQL an advisory lock keeps concurrent starts from racing.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    where = redact_location(str(engine.url))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            before = MigrationContext.configure(conn).get_current_revision()
            if before == HEAD:
                return before
            config = Config()
            config.set_main_option("script_location", str(_migrations_dir()))
            config.attributes["connection"] = conn
            if before is None and sa.inspect(conn).has_table("jobs"):
                command.stamp(config, LEGACY_REVISION)
                before = LEGACY_REVISION
            command.upgrade(config, "head")
    except SQLAlchemyError as err:
        raise ConfigError(
            f"cannot open or migrate the service database {where}: {err}",
            hint="check REELPROOF_DATABASE_URL, that the database is up and the user may "
            "create tables",
        ) from err
    if before != HEAD:
        log.info("service database %s migrated from %s to %s", where, before, HEAD)
    return before or "empty"


def _migrations_dir() -> Path:
    return Path(str(importlib.resources.files("reelproof.service.api") / "migrations"))
