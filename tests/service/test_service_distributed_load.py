"""1,000 jobs through the distributed API drain with none lost or duplicated.

Cheap analyses on purpose (the queue is under test, not the verifier): a 64x64, 8-frame clip,
classifier and watermark off, no thumbnails; each job still goes upload -> probe -> database ->
broker -> worker claim -> probe, hash, credentials -> verdict in the database.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from dist_helpers import Fleet, running_fleet

from reelproof.eval.backends import LocalPostgres, LocalRedis
from reelproof.service.api.tables import JOBS

JOBS_TO_DRAIN = 1000
CLIENTS = 4


@pytest.fixture(scope="module")
def cheap_fleet(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: LocalPostgres,
    redis_server: LocalRedis,
) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("drain")
    # The workers start once the queue holds every job.
    cheap = {"detector": "false", "watermark": "false", "thumbnails": "0"}
    with running_fleet(root, postgres_server, redis_server, 2, workers=0, **cheap) as fleet:
        yield fleet


def tiny_clip(folder: Path) -> Path:
    from fractions import Fraction

    from reelproof.core import Clip
    from reelproof.core.io import write_clip

    frames = np.random.default_rng(3).integers(0, 255, (8, 64, 64, 3), dtype=np.uint8)
    return write_clip(Clip(frames=frames, fps=Fraction(25)), folder / "tiny.mp4")


@pytest.mark.slow
def test_1000_queued_jobs_drain_none_lost_or_duplicated(cheap_fleet: Fleet, tmp_path: Path) -> None:
    api = cheap_fleet.apis[0]
    data = tiny_clip(tmp_path).read_bytes()
    ids: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()

    def submit(start: int) -> None:
        with api.client(timeout=60) as client:
            for n in range(start, JOBS_TO_DRAIN, CLIENTS):
                resp = client.post(
                    "/v1/analyses", files={"file": (f"job{n:04d}.mp4", data, "video/mp4")}
                )
                with lock:
                    if resp.status_code == 202:
                        ids.append(resp.json()["id"])
                    else:
                        failures.append(f"{resp.status_code} {resp.text[:200]}")

    began = time.monotonic()
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not failures, failures[:5]
    assert len(ids) == JOBS_TO_DRAIN == len(set(ids))
    submitted = time.monotonic() - began
    metrics = httpx.get(api.url + "/metrics").text
    assert f"reelproof_queue_depth {float(JOBS_TO_DRAIN)}" in metrics
    assert f'reelproof_jobs{{status="queued"}} {float(JOBS_TO_DRAIN)}' in metrics

    began = time.monotonic()
    cheap_fleet.add_worker()
    cheap_fleet.add_worker()

    engine = sa.create_engine(cheap_fleet.env["REELPROOF_DATABASE_URL"])
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                left = conn.execute(
                    sa.select(sa.func.count()).where(JOBS.c.status.in_(("queued", "running")))
                ).scalar_one()
            if left == 0:
                break
            time.sleep(1)
        drained = time.monotonic() - began
        with engine.connect() as conn:
            rows = conn.execute(sa.select(JOBS)).mappings().all()
    finally:
        engine.dispose()
    assert len(rows) == JOBS_TO_DRAIN  # none lost, none added
    assert sorted(r["filename"] for r in rows) == [f"job{n:04d}.mp4" for n in range(JOBS_TO_DRAIN)]
    not_ok = [(r["status"], r["error"]) for r in rows if r["status"] != "succeeded"]
    assert not not_ok, not_ok[:5]
    # Each ran exactly once: one attempt, one history entry, one recorded outcome.
    assert {int(r["attempts"]) for r in rows} == {1}
    assert all(len(json.loads(r["history"])) == 1 for r in rows)
    workers = {json.loads(r["history"])[0]["worker"] for r in rows}
    assert len(workers) == 2  # both workers took jobs
    print(f"\n{JOBS_TO_DRAIN} jobs submitted in {submitted:.1f} s, drained by 2 workers in "
          f"{drained:.1f} s (worker start included)")  # fmt: skip
    metrics = httpx.get(api.url + "/metrics").text
    assert f"reelproof_job_latency_seconds_count {float(JOBS_TO_DRAIN)}" in metrics
