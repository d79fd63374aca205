"""Fixtures for the service tests (helpers live in ``svc_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from svc_helpers import Server, make_server


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
