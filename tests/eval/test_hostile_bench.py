"""The hostile-corpus harness itself: every case builds, and the CLI half judges rows right."""

from __future__ import annotations

import os
from pathlib import Path

from reelproof.eval.hostile_bench import COMMANDS, make_seeds, run_cli
from reelproof.eval.hostile_cases import FileCase, file_cases


def test_every_case_builds_and_a_sample_is_judged(bikes_mp4: Path, tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "cases").mkdir()
    cases = file_cases(make_seeds(tmp_path / "seeds", bikes_mp4, None))
    assert len(cases) >= 60 and len({c.name for c in cases}) == len(cases)
    built = {case.name: (case, case.build(tmp_path / "cases")) for case in cases}
    env = {**os.environ, "REELPROOF_HOME": str(tmp_path / "home")}
    for name in ("random-64", "fifo", "boxes-100k-moov", "signed-truncated-90pct"):
        case, path = built[name]
        for command in COMMANDS:
            row = run_cli(case, path, command, env)
            assert row.passed, row
            assert not row.traceback and row.peak_mb > 10


def test_a_wrong_expectation_fails_the_row(bikes_mp4: Path, tmp_path: Path) -> None:
    """The harness can say no: a garbage file expected to be answered is not a pass."""
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 500)
    wrong = FileCase("garbage", "format", "answer", lambda folder: garbage)
    row = run_cli(wrong, garbage, ("verify", "--json"), {**os.environ})
    assert row.outcome == "exit 3" and not row.passed
