"""Fixtures for the service tests (helpers live in ``svc_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from dist_helpers import backend_or_fail
from svc_helpers import Server, make_server

from reelproof.eval.backends import LocalPostgres, LocalRedis


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One shared server for the contract tests (auth on, 4 MiB upload limit, one worker)."""
    srv = make_server(tmp_path_factory.mktemp("server")).start()
    yield srv
    srv.stop()


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    """A throwaway redis-server on loopback for the distributed tests (fails in CI if it cannot
    start; .ci/run installs it)."""
    backend = LocalRedis()
    backend_or_fail(backend)
    yield backend
    backend.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """A throwaway PostgreSQL cluster on loopback (fails in CI if it cannot start)."""
    backend = LocalPostgres()
    backend_or_fail(backend)
    yield backend
    backend.stop()
