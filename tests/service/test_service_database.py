"""The service database layer: migrations (incl. a pre-migration SQLite file), job leases and
attempts, the shared rate limit, and the PostgreSQL manifest store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from reelproof.core.errors import ConfigError
from reelproof.eval.backends import LocalPostgres, LocalRedis
from reelproof.service.api.database import HEAD
from reelproof.service.api.db import ServiceDB
from reelproof.service.api.leases import LeaseStore
from reelproof.service.api.ratelimit import RedisRateLimiter
from reelproof.service.api.tables import JOBS

# The embedded database as releases before the migrations wrote it (no alembic_version).
LEGACY_SCHEMA = """
CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_sha256 TEXT NOT NULL,
    rate_per_minute INTEGER NOT NULL, created_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL, stage TEXT,
    stages_done TEXT NOT NULL DEFAULT '[]', filename TEXT NOT NULL, upload_path TEXT,
    sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, result TEXT, thumbnails TEXT,
    error TEXT);
CREATE INDEX jobs_status ON jobs(status);
CREATE TABLE idempotency (owner TEXT NOT NULL, idem_key TEXT NOT NULL, route TEXT NOT NULL,
    fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL, headers TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (owner, idem_key, route));
INSERT INTO jobs (id, owner, status, filename, sha256, size_bytes, created_at, result)
    VALUES ('old', 'k', 'succeeded', 'a.mp4', 'ab', 1, 1.0, '{"verdict": "inconclusive"}');
"""


def test_a_pre_migration_sqlite_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "service.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY_SCHEMA)
    db = ServiceDB(path)
    old = db.get_job("old")
    assert old is not None and old.status == "succeeded" and old.history == ()
    with db.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert sa.inspect(conn).has_table("manifests") and sa.inspect(conn).has_table("workers")
    secret, key = db.create_api_key("n", 5)
    assert db.check_api_key(secret) == key


def _job(db: ServiceDB, tmp_path: Path) -> str:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    return db.insert_job("owner", "clip.mp4", clip, "0" * 64, 1)[0]


def test_claims_drop_duplicates_take_over_abandoned_jobs_and_refuse_stale_outcomes(
    tmp_path: Path,
) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    leases = LeaseStore(db, lease_s=30, max_attempts=2)
    job_id = _job(db, tmp_path)
    first = leases.claim(job_id, "node-a:1")
    assert first.state == "claimed" and first.job is not None and first.job.attempts == 1
    # A second delivery while the lease is alive (a duplicate message) is dropped.
    assert leases.claim(job_id, "node-b:2").state == "running-elsewhere"
    # Node A stops heartbeating: its lease runs out and node B takes the job over.
    with db.connect() as conn:
        conn.execute(JOBS.update().where(JOBS.c.id == job_id).values(lease_until=time.time() - 1))
    second = leases.claim(job_id, "node-b:2")
    assert second.state == "claimed" and second.job is not None and second.job.attempts == 2
    # Node A was only slow, not dead: its late outcome is refused, node B's is kept.
    assert not leases.finish(job_id, "node-a:1", 1, {"verdict": "stale"}, None, None)
    assert leases.finish(job_id, "node-b:2", 2, {"verdict": "fresh"}, [], None)
    job = db.get_job(job_id)
    assert job is not None and job.status == "succeeded"
    assert json.loads(job.result or "{}") == {"verdict": "fresh"}
    assert [(h["worker"], h["outcome"]) for h in job.history] == [
        ("node-a:1", "lost"),
        ("node-b:2", "succeeded"),
    ]
    # A message delivered again after the verdict does nothing.
    assert leases.claim(job_id, "node-c:3").state == "finished"


def test_a_job_whose_workers_keep_dying_fails_explicitly(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    leases = LeaseStore(db, lease_s=0.0, max_attempts=2)  # every lease expires at once
    job_id = _job(db, tmp_path)
    assert leases.claim(job_id, "a:1").state == "claimed"
    time.sleep(0.01)
    assert leases.claim(job_id, "b:2").state == "claimed"
    time.sleep(0.01)
    assert leases.claim(job_id, "c:3").state == "gave-up"
    job = db.get_job(job_id)
    assert job is not None and job.status == "failed" and job.attempts == 2
    assert json.loads(job.error or "{}")["type"].endswith("/worker-crashed")
    assert [h["outcome"] for h in job.history] == ["lost", "lost"]


def test_orphans_are_jobs_never_published_or_abandoned_by_their_worker(tmp_path: Path) -> None:
    db = ServiceDB(tmp_path / "s.sqlite")
    leases = LeaseStore(db, lease_s=30, max_attempts=2)
    fresh, published, old, running, abandoned = (_job(db, tmp_path) for _ in range(5))
    for job_id in (published, running, abandoned):
        leases.mark_enqueued(job_id)
    assert leases.claim(running, "a:1").state == leases.claim(abandoned, "b:2").state == "claimed"
    with db.connect() as conn:
        past = time.time() - 60
        conn.execute(JOBS.update().where(JOBS.c.id.in_([published, old])).values(created_at=past))
        # Its worker's last heartbeat was two leases ago.
        conn.execute(JOBS.update().where(JOBS.c.id == abandoned).values(lease_until=past))
    assert sorted(leases.orphans(unsent_s=10)) == sorted([old, abandoned])
    assert fresh not in leases.orphans(unsent_s=10)


def test_rate_limit_buckets_are_shared_through_redis(redis_server: LocalRedis) -> None:
    # Two limiters stand for two API processes.
    first, second = RedisRateLimiter(redis_server.url), RedisRateLimiter(redis_server.url)
    key = f"key-{time.time_ns()}"
    answers = [(first if i % 2 else second).acquire(key, 4) for i in range(6)]
    assert [a[0] for a in answers] == [True] * 4 + [False] * 2
    assert answers[-1][2] >= 1  # Retry-After in whole seconds


def test_postgres_database_and_manifest_store(postgres_server: LocalPostgres) -> None:
    from reelproof.provenance import open_manifest_store

    url = postgres_server.new_database(f"unit_{time.time_ns()}")
    with pytest.raises(ConfigError, match="reelproof db upgrade"):
        open_manifest_store(url)  # no tables yet: says how to create them
    db = ServiceDB(url)
    ServiceDB(url).dispose()  # a second start finds the schema current
    store = open_manifest_store(url)
    record = store.put("00112233AABBCCDD", b"jumbf", content_sha256="ab", fingerprint=None,
                       signer="CN=test")  # fmt: skip
    found = store.lookup("00112233aabbccdd")
    assert found is not None and found.manifest_bytes == b"jumbf" and found == record
    assert store.lookup("ffffffffffffffff") is None
    secret, key = db.create_api_key("pg", 7)
    assert db.check_api_key(secret) == key
    db.dispose()


def test_importing_provenance_does_not_load_sqlalchemy() -> None:
    code = "import sys, reelproof.provenance; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_both_modes_serve_the_same_openapi_document_and_page(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from reelproof.service.api.app import create_app
    from reelproof.service.api.dispatch import CeleryDispatcher
    from reelproof.service.api.settings import ServiceSettings

    embedded = create_app(ServiceSettings(data_dir=tmp_path / "a"), start_workers=False)
    # Building the distributed app connects to nothing yet (no broker or Redis needed here).
    settings = ServiceSettings(data_dir=tmp_path / "b", broker_url="redis://127.0.0.1:9/0")
    distributed = create_app(settings, start_workers=False)
    assert isinstance(distributed.state.reelproof.runner, CeleryDispatcher)
    assert embedded.openapi() == distributed.openapi()
    with TestClient(embedded) as one, TestClient(distributed) as other:
        assert one.get("/").text == other.get("/").text
