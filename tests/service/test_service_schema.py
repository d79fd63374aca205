"""Property-based run of the OpenAPI document against the live server (schemathesis, bounded).

Every operation gets generated requests; every answer must be documented (status, content type,
body schema) and no answer may be a 5xx. Driven through schemathesis' Python API with plain
hypothesis ``@given`` per operation (its pytest plugin does not support pytest 9 yet).
"""

from __future__ import annotations

import re

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from svc_helpers import Server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


def served(server: Server) -> float:
    text = httpx.get(server.url + "/metrics").text
    return sum(
        float(v) for v in re.findall(r"^reelproof_http_requests_total\{[^}]*\} (\S+)$", text, re.M)
    )


def test_openapi_contract(server: Server) -> None:
    before = served(server)
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {server.api_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(base_url=server.url, headers=headers, timeout=60, checks=CHECKS)

        try:
            run()
        except Exception as err:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {err}")
    assert not failures, "\n\n".join(failures)
    assert served(server) - before >= 3 * len(operations)  # the run really reached the server
