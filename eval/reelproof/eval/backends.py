"""Throwaway Redis and PostgreSQL servers for the distributed tests and benchmark.

Each runs from the Debian packages' binaries (``redis-server``; ``postgresql``'s ``initdb`` and
``postgres``), on 127.0.0.1 only, on a free port, with its data in a new temporary folder that is
removed when it stops. PostgreSQL refuses to run as root, so as root it runs as the ``postgres``
account the Debian package creates. Use them as context managers::

    with LocalRedis() as redis, LocalPostgres() as pg:
        env = {"REELPROOF_BROKER_URL": redis.url, "REELPROOF_DATABASE_URL": pg.url}
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

INSTALL_HINT = (
    "install the Debian packages: apt-get install redis-server postgresql "
    "(`.ci/run` does this in CI)"
)


class BackendUnavailableError(RuntimeError):
    """A backend's binaries are missing or it did not start; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(
    check: object, what: str, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BackendUnavailableError(
                f"{what} exited: {log.read_text(errors='replace')[-2000:]}"
            )
        try:
            if callable(check) and check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise BackendUnavailableError(f"{what} did not start in {timeout:.0f} s")


class _Backend:
    proc: subprocess.Popen[bytes] | None = None
    folder: Path | None = None

    def __enter__(self) -> _Backend:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _stop_process(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def stop(self) -> None:
        self._stop_process(signal.SIGTERM)


class LocalRedis(_Backend):
    """``redis-server`` on loopback without persistence."""

    def __init__(self) -> None:
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> LocalRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise BackendUnavailableError(f"redis-server not found; {INSTALL_HINT}")
        self.folder = Path(tempfile.mkdtemp(prefix="reelproof-redis-"))
        log = self.folder / "redis.log"
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--daemonize", "no"],
            stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip

        def ping() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")

        _wait(ping, "redis-server", self.proc, log, timeout)
        return self

    def __enter__(self) -> LocalRedis:
        return self.start()


def _postgres_bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise BackendUnavailableError(f"PostgreSQL's initdb not found; {INSTALL_HINT}")
    return Path(candidates[0]).parent


class LocalPostgres(_Backend):
    """A PostgreSQL cluster made for the run (``initdb``), password login over TCP on loopback.

    Args:
        durable: keep fsync on (benchmarks); tests turn it off for speed.
    """

    def __init__(self, durable: bool = False) -> None:
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.durable = durable
        self.database = "reelproof"

    @property
    def url(self) -> str:
        return (
            f"postgresql+psycopg://reelproof:{self.password}@127.0.0.1:{self.port}/{self.database}"
        )

    def _user(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def start(self, timeout: float = 60.0) -> LocalPostgres:
        bindir = _postgres_bindir()
        user = self._user()
        self.folder = Path(tempfile.mkdtemp(prefix="reelproof-pg-"))
        data, log, pwfile = self.folder / "data", self.folder / "postgres.log", self.folder / "pw"
        pwfile.write_text(self.password)
        if user is not None:
            import pwd

            account = pwd.getpwnam(user)  # KeyError: the postgresql package is not installed
            for path in (self.folder, pwfile):
                os.chown(path, account.pw_uid, account.pw_gid)
        init = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "reelproof", "--auth=scram-sha-256",
             f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"],
            user=user, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if init.returncode != 0:
            raise BackendUnavailableError(f"initdb failed: {init.stderr[-2000:]}")
        settings = ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port),
                    "-c", f"unix_socket_directories={self.folder}", "-c", "max_connections=200"]  # fmt: skip
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        self.proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), *settings],
            user=user, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait(self._create_database, "postgres", self.proc, log, timeout)
        return self

    def _create_database(self) -> bool:
        self.new_database(self.database)
        return True

    def new_database(self, name: str) -> str:
        """Create the (empty) database ``name`` if missing; returns its URL."""
        import psycopg

        if not name.isidentifier():
            raise ValueError(f"not a plain database name: {name!r}")
        dsn = f"host=127.0.0.1 port={self.port} user=reelproof password={self.password}"
        with psycopg.connect(dsn + " dbname=postgres", autocommit=True, connect_timeout=2) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://reelproof:{self.password}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._stop_process(signal.SIGINT)  # "fast" shutdown: roll back sessions, stop at once

    def __enter__(self) -> LocalPostgres:
        return self.start()
