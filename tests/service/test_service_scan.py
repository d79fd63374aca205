"""``reelproof scan`` on a local process pool: 200 clips made from the test footage (5 of them
broken), a hard interrupt, and a resume that finishes without redoing a clip."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from svc_helpers import REELPROOF

CLIPS = 195
BROKEN = ("empty.mp4", "text.mp4", "random.mp4", "truncated.mp4", "header_only.mp4")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, bikes_mp4: Path) -> Path:
    """200 files in nested folders: 195 distinct 96x96 8-frame clips cut from real footage at
    different places, and 5 broken files."""
    from reelproof.core.io import read_clip, write_clip

    root = tmp_path_factory.mktemp("archive")
    clip = read_clip(bikes_mp4, max_frames=24)
    rng = np.random.default_rng(7)
    for i in range(CLIPS):
        y, x, t = int(rng.integers(0, 272 - 96)), int(rng.integers(0, 640 - 96)), i % 16
        frames = np.ascontiguousarray(clip.frames[t : t + 8, y : y + 96, x : x + 96])
        folder = root / f"day{i % 4}" / ("raw" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        write_clip(clip.with_frames(frames), folder / f"clip{i:03d}.mp4", preset="ultrafast")
    whole = (root / "day0" / "clip000.mp4").read_bytes()
    broken = root / "broken"
    broken.mkdir()
    (broken / "empty.mp4").write_bytes(b"")
    (broken / "text.mp4").write_text("not a video\n")
    (broken / "random.mp4").write_bytes(rng.bytes(20_000))
    (broken / "truncated.mp4").write_bytes(whole[: len(whole) * 2 // 3])
    (broken / "header_only.mp4").write_bytes(whole[:64])
    return root


def scan(archive: Path, out: Path, index: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("REELPROOF_BROKER_URL", None)
    return subprocess.Popen(
        [REELPROOF, "scan", str(archive), "--recursive", "--out", str(out),
         "--html-index", str(index), "--workers", "2", "--no-detector", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def rows_in(out: Path) -> list[str]:
    return out.read_text().splitlines() if out.exists() else []


@pytest.mark.slow
def test_scan_200_clips_with_broken_files_resumes_after_a_kill(
    archive: Path, tmp_path: Path
) -> None:
    out, index = tmp_path / "results.jsonl", tmp_path / "index.html"
    first = scan(archive, out, index)
    deadline = time.monotonic() + 240
    while len(rows_in(out)) < 60 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # a hard stop: no cleanup, maybe a half-written line
    first.wait(timeout=30)
    before = out.read_bytes()
    complete_before = before[: before.rfind(b"\n") + 1] if b"\n" in before else b""
    done_before = complete_before.count(b"\n")
    assert 60 <= done_before < 200, done_before

    second = scan(archive, out, index)
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr[-3000:]
    summary = json.loads(stdout)
    after = out.read_bytes()
    # Nothing finished before the kill was analysed again, nor rewritten.
    assert after.startswith(complete_before)
    assert summary["skipped_already_done"] == done_before
    rows = [json.loads(line) for line in after.splitlines()]
    assert len(rows) == 200 and len({r["path"] for r in rows}) == 200
    assert len({r["sha256"] for r in rows}) == 200
    errors = {Path(r["path"]).name for r in rows if r["status"] == "error"}
    assert errors == set(BROKEN)
    assert all(r["error"]["detail"] for r in rows if r["status"] == "error")
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == CLIPS
    assert all(r["result"]["sha256"] == r["sha256"] for r in ok)
    # The index lists every clip, links each verified one to its report, shows its thumbnail.
    page = index.read_text()
    assert page.count('<tr class="clip">') == 200
    for row in ok[:10]:
        assert f'href="{row["report"]}"' in page and f'src="{row["thumbnail"]}"' in page
        assert (index.parent / row["report"]).read_text().lower().startswith("<!doctype html")
    # A third run finds everything done.
    third = scan(archive, out, index)
    stdout, _ = third.communicate(timeout=300)
    assert json.loads(stdout)["skipped_already_done"] == 200
    assert out.read_bytes() == after
