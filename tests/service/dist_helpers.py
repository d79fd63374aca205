"""Helpers for the distributed-mode tests: API processes and ``reelproof worker`` processes
against a throwaway PostgreSQL and Redis (``reelproof.eval.backends``), all on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from svc_helpers import REELPROOF, Server

from reelproof.eval.backends import BackendUnavailableError, LocalPostgres, LocalRedis

WORKER_START_TIMEOUT_S = 180.0


def backend_or_fail(backend: LocalRedis | LocalPostgres) -> None:
    """Start ``backend``; a failure FAILS the test in CI (where .ci/run installs the packages)
    and skips it elsewhere with the install hint."""
    try:
        backend.start()
    except (BackendUnavailableError, KeyError, OSError) as err:
        message = f"{type(backend).__name__} could not start: {err}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@dataclass
class Worker:
    """One ``reelproof worker`` process (its own process group: a kill takes its pool too)."""

    root: Path
    env: dict[str, str]
    name: str
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = (self.root / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [REELPROOF, "worker", "--concurrency", "1", "--log-level", "warning"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        return self

    def pids(self) -> set[int]:
        """The worker's processes (the Celery parent and its pool)."""
        assert self.proc is not None
        out = subprocess.run(
            ["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True, check=False
        )
        return {int(p) for p in out.stdout.split()}

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # no pool process may outlive the test

    def log_tail(self) -> str:
        path = self.root / f"{self.name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@dataclass
class Fleet:
    """API processes and workers sharing one database, broker and upload folder."""

    root: Path
    env: dict[str, str]
    apis: list[Server] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    api_key: str = ""

    def add_api(self) -> Server:
        root = self.root / f"api{len(self.apis)}"
        root.mkdir(parents=True, exist_ok=True)
        server = Server(root=root, env=self.env)
        if not self.api_key:
            self.api_key = server.create_key("default")
        server.api_key = self.api_key
        self.apis.append(server.start())
        return server

    def add_worker(self) -> Worker:
        worker = Worker(self.root, self.env, f"worker{len(self.workers)}").start()
        self.workers.append(worker)
        return worker

    def live_workers(self) -> int:
        body = httpx.get(self.apis[0].url + "/readyz", timeout=5).json()
        return int(body["detail"]["workers"])

    def wait_workers(self, count: int, timeout: float = WORKER_START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.live_workers() >= count:
                return
            for worker in self.workers:
                if worker.proc is not None and worker.proc.poll() is not None:
                    raise AssertionError(f"{worker.name} exited:\n{worker.log_tail()}")
            time.sleep(0.5)
        raise AssertionError(f"fewer than {count} workers came up:\n" + self.workers[-1].log_tail())

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill(signal.SIGTERM)
        for server in self.apis:
            server.stop()


def fleet_env(root: Path, database_url: str, broker_url: str, **settings: str) -> dict[str, str]:
    """The environment every process of a fleet shares."""
    env = dict(os.environ)
    env.update(
        {
            "REELPROOF_HOME": str(root / "home"),
            "REELPROOF_DATA_DIR": str(root / "data"),
            "REELPROOF_UPLOAD_DIR": str(root / "uploads"),
            "REELPROOF_DATABASE_URL": database_url,
            "REELPROOF_BROKER_URL": broker_url,
            "REELPROOF_THUMBNAILS": "2",
            "REELPROOF_MAX_UPLOAD_BYTES": str(4 * 1024 * 1024),
            "REELPROOF_LEASE_S": "4",
            "REELPROOF_VISIBILITY_TIMEOUT_S": "20",
            "OMP_NUM_THREADS": "1",
        }
    )
    env.update({f"REELPROOF_{k.upper()}": v for k, v in settings.items()})
    return env


@contextlib.contextmanager
def running_fleet(
    root: Path,
    postgres: LocalPostgres,
    redis: LocalRedis,
    redis_db: int,
    workers: int,
    **settings: str,
) -> Iterator[Fleet]:
    """One API process and ``workers`` workers on a new database and Redis database number;
    every process is stopped on exit."""
    database = postgres.new_database(f"{root.name.lower()}_{uuid.uuid4().hex[:8]}")
    broker = redis.url.rsplit("/", 1)[0] + f"/{redis_db}"
    fleet = Fleet(root, fleet_env(root, database, broker, **settings))
    try:
        fleet.add_api()
        for _ in range(workers):
            fleet.add_worker()
        if workers:
            fleet.wait_workers(workers)
        yield fleet
    finally:
        fleet.stop()
