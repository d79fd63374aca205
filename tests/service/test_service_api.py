"""End-to-end contract tests against a real server on loopback (uvicorn in a subprocess)."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path

import httpx
import pytest
from svc_helpers import Clips, Server, assert_problem, build_clips, upload

from reelproof.provenance import STATES
from reelproof.service.verdict import VerdictLabel


def test_health_ready_and_metrics_need_no_key(server: Server) -> None:
    assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
    assert httpx.get(server.url + "/readyz").status_code == 200
    metrics = httpx.get(server.url + "/metrics")
    assert metrics.status_code == 200
    assert "reelproof_http_requests_total" in metrics.text


def test_missing_and_wrong_keys_are_401_problems(server: Server, bikes_mp4: Path) -> None:
    resp = httpx.post(server.url + "/v1/analyses", files=upload(bikes_mp4))
    body = assert_problem(resp, 401)
    assert "create-api-key" in str(body["detail"])
    assert resp.headers["www-authenticate"].startswith("Bearer")
    with server.client("rp_000000000000_not-a-real-key") as bad:
        assert_problem(bad.get("/v1/models"), 401)
    with server.client("garbage") as bad:
        assert_problem(bad.get("/v1/models"), 401)
    # The X-API-Key header works as well as a bearer token.
    ok = httpx.get(server.url + "/v1/models", headers={"X-API-Key": server.api_key})
    assert ok.status_code == 200


def test_full_analysis_with_prefer_wait(api: httpx.Client, server: Server, bikes_mp4: Path) -> None:
    resp = api.post("/v1/analyses", files=upload(bikes_mp4), headers={"Prefer": "wait=90"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["preference-applied"] == "wait=90"
    job = resp.json()
    assert resp.headers["location"] == f"/v1/analyses/{job['id']}"
    assert job["status"] == "succeeded", job
    assert job["sha256"] == hashlib.sha256(bikes_mp4.read_bytes()).hexdigest()
    result = job["result"]
    assert result["sha256"] == job["sha256"]
    assert result["filename"] == bikes_mp4.name
    assert result["verdict"] == job["verdict"]
    for key in ("provenance", "watermark", "detector"):
        assert "status" in result[key]
    assert "probe" in result["timings"] and result["total_seconds"] > 0
    assert "path" not in result["media"]  # no server paths leak
    # The upload is gone once analysed (no retention configured).
    assert not list((server.data_dir / "uploads").glob("*")), "upload was kept"
    again = api.get(f"/v1/analyses/{job['id']}")
    assert again.status_code == 200 and again.json()["result"] == result
    report = api.get(f"/v1/analyses/{job['id']}/report")
    assert report.status_code == 200 and report.json()["sha256"] == job["sha256"]
    html = api.get(f"/v1/analyses/{job['id']}/report", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "data:image/jpeg;base64," in html.text  # thumbnails inline
    if result["detector"]["status"] == "ok":
        assert "<svg" in html.text  # per-second score plot


def test_async_analysis_then_delete(api: httpx.Client, server: Server, carphone_mp4: Path) -> None:
    resp = api.post("/v1/analyses", files=upload(carphone_mp4))
    assert resp.status_code in (200, 202), resp.text
    job_id = resp.json()["id"]
    deadline = time.monotonic() + 90
    status = resp.json()["status"]
    while status not in ("succeeded", "failed") and time.monotonic() < deadline:
        status = api.get(f"/v1/analyses/{job_id}", headers={"Prefer": "wait=5"}).json()["status"]
    assert status == "succeeded"
    assert api.delete(f"/v1/analyses/{job_id}").status_code == 204
    assert_problem(api.get(f"/v1/analyses/{job_id}"), 404)
    assert_problem(api.get(f"/v1/analyses/{job_id}/report"), 404)
    assert_problem(api.delete(f"/v1/analyses/{job_id}"), 404)


def test_analyses_are_private_to_their_key(
    api: httpx.Client, server: Server, carphone_mp4: Path
) -> None:
    job_id = api.post("/v1/analyses", files=upload(carphone_mp4)).json()["id"]
    with server.client(server.create_key("other")) as other:
        assert_problem(other.get(f"/v1/analyses/{job_id}"), 404)
        assert_problem(other.delete(f"/v1/analyses/{job_id}"), 404)
    assert api.get(f"/v1/analyses/{job_id}").status_code == 200


def test_idempotency_key_replays_and_refuses_reuse(
    api: httpx.Client, bikes_mp4: Path, carphone_mp4: Path
) -> None:
    key = {"Idempotency-Key": f"idem-{time.time_ns()}"}
    first = api.post("/v1/analyses", files=upload(bikes_mp4), headers=key)
    second = api.post("/v1/analyses", files=upload(bikes_mp4), headers=key)
    assert first.status_code in (200, 202) and second.status_code in (200, 202)
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    body = assert_problem(api.post("/v1/analyses", files=upload(carphone_mp4), headers=key), 422)
    assert "Idempotency-Key" in str(body["detail"])
    # A different key is a different request.
    other = api.post(
        "/v1/analyses",
        files=upload(bikes_mp4),
        headers={"Idempotency-Key": key["Idempotency-Key"] + "x"},
    )
    assert other.json()["id"] != first.json()["id"]
    assert_problem(
        api.post(
            "/v1/analyses",
            files=upload(bikes_mp4),
            headers={"Idempotency-Key": "bad key with spaces"},
        ),
        400,
    )


def test_c2pa_verify_is_synchronous_and_idempotent(api: httpx.Client, bikes_mp4: Path) -> None:
    resp = api.post("/v1/c2pa/verify", files=upload(bikes_mp4))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["sha256"] == hashlib.sha256(bikes_mp4.read_bytes()).hexdigest()
    assert "state" in body and "status" in body
    key = {"Idempotency-Key": f"c2pa-{time.time_ns()}"}
    a = api.post("/v1/c2pa/verify", files=upload(bikes_mp4), headers=key)
    b = api.post("/v1/c2pa/verify", files=upload(bikes_mp4), headers=key)
    assert a.json() == b.json() and b.headers.get("idempotent-replayed") == "true"


def test_rate_limit_gives_429_with_retry_after(server: Server, carphone_mp4: Path) -> None:
    with server.client(server.create_key("slow", rate=3)) as slow:
        codes = [slow.get("/v1/models").status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        resp = slow.get("/v1/models")
        body = assert_problem(resp, 429)
        retry = int(resp.headers["retry-after"])
        assert 1 <= retry <= 20  # one token back at 3/min takes 20 s
        assert "rate limit" in str(body["detail"])
        # Another key is not affected.
    with server.client() as other:
        assert other.get("/v1/models").status_code == 200


def test_models_lists_signals_and_versions(api: httpx.Client) -> None:
    body = api.get("/v1/models").json()
    assert set(body["signals"]) >= {"provenance", "watermark", "detector"}
    assert "reelproof" in body["versions"]


def test_soft_binding_lookup_validates_input(api: httpx.Client) -> None:
    algs = api.get("/v1/services/supportedAlgorithms").json()
    alg = algs["watermarks"][0]["alg"]
    assert_problem(api.get("/v1/matches/byBinding", params={"alg": "nope", "value": "AAAA"}), 422)
    assert_problem(api.get("/v1/matches/byBinding", params={"alg": alg, "value": "!!!"}), 422)
    resp = api.get("/v1/matches/byBinding", params={"alg": alg, "value": "ASNFZ4mrze8="})
    assert resp.status_code == 200 and resp.json() == {"matches": []}
    assert_problem(api.get("/v1/manifests/urn:uuid:does-not-exist"), 404)


def test_unknown_routes_and_methods_are_problems(api: httpx.Client) -> None:
    assert_problem(api.get("/v1/nothing-here"), 404)
    assert_problem(api.put("/v1/analyses"), 405)
    assert_problem(api.get("/v1/analyses/not-a-job"), 404)


def test_web_page_and_openapi(server: Server) -> None:
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and 'id="drop"' in page.text
    spec = httpx.get(server.url + "/openapi.json").json()
    paths = spec["paths"]
    for route in (
        "/v1/analyses",
        "/v1/analyses/{analysis_id}",
        "/v1/analyses/{analysis_id}/report",
        "/v1/c2pa/verify",
        "/v1/matches/byBinding",
        "/v1/models",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert route in paths, route
    body = paths["/v1/analyses"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    schemas = spec["components"]["schemas"]
    assert "Problem" in schemas
    # The verdict is typed for client generators: labels as an enum, signals as objects.
    assert set(schemas["VerdictLabel"]["enum"]) == {label.value for label in VerdictLabel}
    assert {"verdict", "evidence", "provenance", "watermark", "detector"} <= set(
        schemas["VerdictModel"]["required"]
    )
    report = paths["/v1/analyses/{analysis_id}/report"]["get"]["responses"]["200"]["content"]
    assert report["application/json"]["schema"]["$ref"].endswith("/VerdictModel")
    # The credentials-only route answers only when the check ran, so its state is never null.
    state = schemas["ProvenanceModel"]["properties"]["state"]
    assert set(state["enum"]) == set(STATES)
    assert {"state", "sha256", "filename", "status"} <= set(schemas["ProvenanceModel"]["required"])
    schemes = spec["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)


@pytest.fixture(scope="module")
def served_clips(
    server: Server, tmp_path_factory: pytest.TempPathFactory, bikes_mp4: Path
) -> Clips:
    """Marked, signed clips whose manifest sits in the live server's own manifest store."""
    store = Path(server.env["REELPROOF_HOME"]) / "manifests.sqlite"
    return build_clips(tmp_path_factory.mktemp("served"), bikes_mp4, store=store)


def test_stripped_clip_through_the_api_recovers_its_manifest(
    api: httpx.Client, served_clips: Clips
) -> None:
    resp = api.post(
        "/v1/analyses", files=upload(served_clips.stripped), headers={"Prefer": "wait=120"}
    )
    job = resp.json()
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["verdict"] == "ai_generated_marked"
    assert result["watermark"]["payload"] == served_clips.watermark_id
    assert result["watermark"]["recovered_manifest"]["found"] is True
    html = api.get(f"/v1/analyses/{job['id']}/report", headers={"Accept": "text/html"}).text
    assert served_clips.watermark_id in html and "Recovered manifest" in html


def test_soft_binding_resolution_finds_the_stored_manifest(
    api: httpx.Client, served_clips: Clips
) -> None:
    alg = api.get("/v1/services/supportedAlgorithms").json()["watermarks"][0]["alg"]
    value = base64.b64encode(bytes.fromhex(served_clips.watermark_id)).decode()
    matches = api.get("/v1/matches/byBinding", params={"alg": alg, "value": value}).json()
    assert matches == {
        "matches": [{"manifestId": served_clips.watermark_id, "similarityScore": 100}]
    }
    raw = api.get(f"/v1/manifests/{served_clips.watermark_id}")
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/c2pa"
    assert b"c2pa" in raw.content
    summary = api.get(
        f"/v1/manifests/{served_clips.watermark_id}", headers={"Accept": "application/json"}
    ).json()
    assert summary["watermark_id"] == served_clips.watermark_id


def test_signed_clip_on_the_provenance_route(api: httpx.Client, served_clips: Clips) -> None:
    body = api.post("/v1/c2pa/verify", files=upload(served_clips.signed)).json()
    assert body["state"] == "valid_untrusted"  # the server trusts no root by default
    tampered = api.post("/v1/c2pa/verify", files=upload(served_clips.tampered)).json()
    assert tampered["state"] == "invalid"


def test_delete_while_queued_or_running_leaves_nothing(
    api: httpx.Client, server: Server, bikes_mp4: Path
) -> None:
    job_id = api.post("/v1/analyses", files=upload(bikes_mp4)).json()["id"]
    assert api.delete(f"/v1/analyses/{job_id}").status_code == 204
    assert_problem(api.get(f"/v1/analyses/{job_id}"), 404)
    deadline = time.monotonic() + 120
    while list((server.data_dir / "uploads").glob("*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list((server.data_dir / "uploads").glob("*")), "the deleted job's upload remained"
