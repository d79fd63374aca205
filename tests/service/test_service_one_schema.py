"""One definition of the verdict: a field added to the ``Verdict`` dataclass appears in the CLI's
``--json``, the API's verdict body and the OpenAPI document with no other edit.

The field is added the way a developer would (a dataclass field with a default), but from a
``sitecustomize`` module on ``PYTHONPATH`` that rebinds every name of the class to the extended
one, so the real CLI, the real server and its spawned worker process all see it while the
installed source stays untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from svc_helpers import REELPROOF, make_server, upload

ADDED_FIELD = "probe_note"
ADDED_VALUE = "added by the one-schema test"

SITECUSTOMIZE = f'''
import dataclasses
import sys

import reelproof.service.verdict as verdict_module

_Base = verdict_module.Verdict


@dataclasses.dataclass(frozen=True)
class Verdict(_Base):
    """The verdict with one more field.

    Attributes:
        {ADDED_FIELD}: a field that only this test adds.
    """

    {ADDED_FIELD}: str = {ADDED_VALUE!r}


# Editing the source would change the class everywhere: rebind every name already bound to it.
for module in list(sys.modules.values()):
    if getattr(module, "Verdict", None) is _Base:
        module.Verdict = Verdict
'''


@pytest.fixture(scope="module")
def patched_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("sitecustomize")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    return env


def test_cli_json_carries_the_added_field(bikes_mp4: Path, patched_env: dict[str, str]) -> None:
    done = subprocess.run(
        [REELPROOF, "verify", str(bikes_mp4), "--json", "--no-detector"],
        env=patched_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body[ADDED_FIELD] == ADDED_VALUE
    assert body["verdict"] in ("inconclusive", "not_applicable")  # the rest is unchanged


def test_without_the_patch_the_field_is_absent(bikes_mp4: Path) -> None:
    """The control: the field comes from the patched dataclass, not from anywhere else."""
    done = subprocess.run(
        [REELPROOF, "verify", str(bikes_mp4), "--json", "--no-detector", "--no-watermark"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert ADDED_FIELD not in json.loads(done.stdout)


def test_api_body_and_openapi_carry_the_added_field(
    tmp_path: Path, bikes_mp4: Path, patched_env: dict[str, str]
) -> None:
    server = make_server(tmp_path / "srv", detector="false")
    server.env["PYTHONPATH"] = patched_env["PYTHONPATH"]
    server.start()
    try:
        with server.client() as api:
            schema = api.get("/openapi.json").json()
            verdict_schema = schema["components"]["schemas"]["VerdictModel"]
            assert ADDED_FIELD in verdict_schema["properties"]
            assert ADDED_FIELD in verdict_schema["required"]
            assert verdict_schema["properties"][ADDED_FIELD]["description"] == (
                "a field that only this test adds."
            )
            resp = api.post("/v1/analyses", files=upload(bikes_mp4), headers={"Prefer": "wait=120"})
            assert resp.status_code == 200, resp.text
            job = resp.json()
            assert job["status"] == "succeeded", job
            assert job["result"][ADDED_FIELD] == ADDED_VALUE
            report = api.get(f"/v1/analyses/{job['id']}/report").json()
            assert report[ADDED_FIELD] == ADDED_VALUE
    finally:
        server.stop()
