"""``reelproof eval hostile``: the hostile corpus through every command and the API.

Each file case (``hostile_cases``) goes through ``reelproof info``, ``reelproof verify --json``
and ``reelproof provenance verify --json`` as separate processes, timed, with their peak memory
(``wait4``); then a sample of them and a set of hostile requests go to a real ``reelproof serve``
on loopback. A row passes when the tool answers or refuses as the case expects (exit 0 / 3, a
2xx / 4xx problem+json), prints no traceback, finishes within 10 s and stays under 1.5 GB.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reelproof.core.results import Result
from reelproof.eval.hostile_cases import FileCase, Seeds, file_cases
from reelproof.eval.hostile_http import http_cases

REELPROOF = str(Path(sys.executable).parent / "reelproof")
TIME_LIMIT_S = 10.0
MEMORY_LIMIT_MB = 1536.0
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("info",),
    ("verify", "--json"),
    ("provenance", "verify", "--json"),
)


@dataclass(frozen=True)
class HostileRow(Result):
    """One hostile input through one command or request.

    Attributes:
        case: the input's name; group: what it attacks.
        command: the CLI command or the HTTP request.
        expect: refuse / answer / either.
        outcome: ``exit N`` or ``HTTP N``, ``timeout`` when it ran past the limit.
        seconds: wall-clock time.
        peak_mb: peak resident memory of the process (the server's, for requests).
        traceback: a Python traceback reached the user.
        passed: the outcome is what the case expects, in time, under the memory limit.
    """

    schema = "hostile_row"
    case: str
    group: str
    command: str
    expect: str
    outcome: str
    seconds: float
    peak_mb: float
    traceback: bool
    passed: bool


def expected(expect: str, refused: bool, answered: bool) -> bool:
    if expect == "refuse":
        return refused
    if expect == "answer":
        return answered
    return refused or answered


def run_cli(
    case: FileCase, path: Path, command: tuple[str, ...], env: dict[str, str]
) -> HostileRow:
    """Run one command on one case's file in its own process, timed and measured."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [REELPROOF, *command, "--", str(path)],  # "--": a name may start with "-"
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )  # fmt: skip
        status, peak_kb, timed_out = _wait(proc, TIME_LIMIT_S * 3)
        seconds = time.monotonic() - start
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    code = None if timed_out else os.waitstatus_to_exitcode(status)
    traceback = "Traceback (most recent call last)" in stderr
    outcome = "timeout" if code is None else f"exit {code}"
    expect = case.expect_for(" ".join(command))
    passed = (
        code is not None
        and expected(expect, code == 3, code == 0)
        and not traceback
        and seconds < TIME_LIMIT_S
        and peak_kb / 1024 < MEMORY_LIMIT_MB
    )
    return HostileRow(
        case.name, case.group, "reelproof " + " ".join(command), expect, outcome,
        round(seconds, 2), round(peak_kb / 1024, 1), traceback, passed,
    )  # fmt: skip


def _wait(proc: subprocess.Popen[bytes], limit_s: float) -> tuple[int, int, bool]:
    """``(wait status, peak RSS in KiB, timed out)``; a process past ``limit_s`` is killed.

    The peak is the process's own ``VmHWM``, read while it runs (``wait4``'s ``ru_maxrss`` would
    count the parent's memory from before ``exec``).
    """
    deadline = time.monotonic() + limit_s
    peak = 0
    while True:
        peak = max(peak, _vm_hwm_kb(proc.pid))
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            return status, peak, False
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, _ = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return status, peak, True
        time.sleep(0.01)


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def make_seeds(folder: Path, video: Path, fixtures: Path | None) -> Seeds:
    """Small real files to build the corpus from: a clip, its signed copy, a JPEG and a PNG."""
    from PIL import Image

    from reelproof.core.io import read_clip, write_clip
    from reelproof.provenance import ManifestSpec, init_dev_pki, load_signer, sign

    clip = read_clip(video, max_frames=25)
    write_clip(clip, folder / "seed.mp4")
    pki = init_dev_pki(folder / "pki")
    sign(folder / "seed.mp4", folder / "signed.mp4", ManifestSpec(title="seed"),
         load_signer(pki.chain_pem, pki.key_pem))  # fmt: skip
    Image.fromarray(clip.frames[0]).save(folder / "seed.jpg", quality=85)
    Image.fromarray(clip.frames[5]).save(folder / "seed.png")
    return Seeds(
        (folder / "seed.mp4").read_bytes(),
        (folder / "signed.mp4").read_bytes(),
        (folder / "seed.jpg").read_bytes(),
        (folder / "seed.png").read_bytes(),
        fixtures,
    )


def run_hostile(
    out: Path, video: Path, fixtures: Path | None, quick: bool = False
) -> list[HostileRow]:
    """Build the corpus, run it, write the table to ``out``; returns every row."""
    from rich.progress import Progress

    rows: list[HostileRow] = []
    with tempfile.TemporaryDirectory(prefix="reelproof-hostile-") as tmp:
        root = Path(tmp)
        (root / "seeds").mkdir()
        (root / "cases").mkdir()
        seeds = make_seeds(root / "seeds", video, fixtures)
        cases = file_cases(seeds)
        if quick:
            cases = cases[::8]
        env = {**os.environ, "REELPROOF_HOME": str(root / "home"), "COLUMNS": "120"}
        built = [(case, case.build(root / "cases")) for case in cases]
        with Progress() as progress:
            task = progress.add_task("hostile files", total=len(built) * len(COMMANDS))
            for case, path in built:
                for command in COMMANDS:
                    rows.append(run_cli(case, path, command, env))
                    progress.advance(task)
            rows += http_cases(built, seeds.mp4, root / "server", quick, progress)
        shutil.rmtree(root / "cases", ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(rows, quick), encoding="utf-8")
    return rows


def render(rows: list[HostileRow], quick: bool) -> str:
    failed = [r for r in rows if not r.passed]
    slowest = max(rows, key=lambda r: r.seconds)
    biggest = max(rows, key=lambda r: r.peak_mb)
    lines = [
        "# Hostile inputs",
        "",
        f"`reelproof eval hostile{' --quick' if quick else ''}` on {platform.node()} "
        f"({os.cpu_count()} cores), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "Every case goes through `reelproof info`, `reelproof verify --json` and "
        "`reelproof provenance verify --json` as separate processes, and a sample of them plus "
        "hostile requests through a real `reelproof serve` (loopback, one worker). A row passes "
        "when the answer is the expected one (refuse: exit 3 or a 4xx problem+json; answer: exit 0 "
        f"or 2xx), no traceback reaches the user, it takes under {TIME_LIMIT_S:.0f} s and stays "
        f"under {MEMORY_LIMIT_MB / 1024:.1f} GB.",
        "",
        "| target | measured | status |",
        "|---|---|---|",
        f"| at least 200 cases | {len(rows)} rows ({len({r.case for r in rows})} inputs) | "
        f"{'met' if len(rows) >= 200 else 'missed'} |",
        f"| 0 tracebacks | {sum(r.traceback for r in rows)} | "
        f"{'met' if not any(r.traceback for r in rows) else 'missed'} |",
        f"| 0 hangs (every case under {TIME_LIMIT_S:.0f} s) | slowest {slowest.seconds:.2f} s "
        f"({slowest.case}, {slowest.command}) | {'met' if slowest.seconds < TIME_LIMIT_S else 'missed'} |",
        f"| peak memory under 1.5 GB | {biggest.peak_mb:.0f} MB ({biggest.case}, {biggest.command}) "
        f"| {'met' if biggest.peak_mb < MEMORY_LIMIT_MB else 'missed'} |",
        f"| every bad input refused cleanly | {len(failed)} rows not as expected | "
        f"{'met' if not failed else 'missed'} |",
        "",
    ]
    if failed:
        lines += ["## Rows not as expected", "", *_table(failed), ""]
    lines += ["## Every row", "", *_table(rows), ""]
    return "\n".join(lines)


def _table(rows: list[HostileRow]) -> list[str]:
    out = [
        "| case | group | command | expect | outcome | s | peak MB | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.case} | {r.group} | `{r.command}` | {r.expect} | {r.outcome} | "
            f"{r.seconds:.2f} | {r.peak_mb:.0f} | {'yes' if r.passed else '**no**'} |"
        )
    return out
