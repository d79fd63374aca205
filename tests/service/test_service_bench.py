"""Pieces of ``reelproof eval service`` that can be checked without running the whole benchmark."""

from __future__ import annotations

from pathlib import Path

from reelproof.eval.service_bench import LoadRun, malformed_inputs


def test_load_run_statistics() -> None:
    run = LoadRun(seconds=2.0, concurrency=2, latencies_ms=[float(i) for i in range(1, 101)],
                  statuses={200: 98, 503: 1, 429: 1})  # fmt: skip
    assert run.requests == 100 and run.rps == 50.0
    assert 98.0 < run.percentile(99) <= 100.0
    assert run.server_errors == 1


def test_malformed_inputs_cover_the_issue_list(bikes_mp4: Path) -> None:
    inputs = malformed_inputs(bikes_mp4, bikes_mp4)
    names = " ".join(inputs)
    for kind in ("truncated", "polyglot", "oversize", "png", "text", "random"):
        assert kind in names
    assert len(inputs["oversize"]) > 64 * 2**20
