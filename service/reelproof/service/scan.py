"""``reelproof scan``: verify every clip under folders into a JSONL file, resumably.

One JSON object per line and per clip (``ScanRow``): its path, SHA-256, status (``ok`` with the
full verdict, or ``error`` with problem details: a broken file never stops the scan), and, with
an HTML index, the paths of its report and thumbnail. Each row is flushed and fsynced as it is
written; a scan run again with the same output skips every clip whose SHA-256 is already there
(a half-written last line from a crash is dropped first), so an interrupted scan resumes where it
stopped, and a renamed or copied clip is never analysed twice.

Where the work runs (``ScanBackend``): a local process pool (the default; each process loads the
models once), or the Celery workers of the distributed API when ``REELPROOF_BROKER_URL`` is set:
the clips are then queued as jobs in the shared database, so their paths must be readable by the
workers at the same place (a shared mount).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from reelproof.core.errors import InputError
from reelproof.core.hashing import sha256_file
from reelproof.core.io import MediaLimits
from reelproof.core.results import JsonObject

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})
REPORTS_DIR = "reports"


def find_clips(paths: Sequence[Path], recursive: bool) -> list[Path]:
    """Absolute paths of the clips to scan, sorted; files named directly are always included,
    folders contribute their video files (by extension; hidden files skipped).

    Raises:
        InputError: a path does not exist.
    """
    found: set[Path] = set()
    for root in paths:
        if root.is_file():
            found.add(root.resolve())
        elif root.is_dir():
            walk = root.rglob("*") if recursive else root.iterdir()
            for path in walk:
                hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
                if not hidden and path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
                    found.add(path.resolve())
        else:
            raise InputError(f"no such file or folder: {root}", hint="give clips or folders")
    return sorted(found)


def check_structure(path: Path, limits: MediaLimits) -> None:
    """The API's upload checks on an archive file: media limits, truncation, polyglots (a file
    cut short after a front-loaded ``moov`` probes fine but must not pass as a whole clip).

    Raises:
        ReelProofError: the file is not a whole, supported video within the limits.
    """
    from reelproof.core.io import probe
    from reelproof.service.integrity import check_upload

    check_upload(path, probe(path, limits), count_packets=True)


@dataclass(frozen=True)
class ClipOutcome:
    """What a backend found for one clip: the verdict JSON and thumbnails, or an error."""

    result: JsonObject | None
    thumbnails: list[JsonObject] = field(default_factory=list)
    error: JsonObject | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Clip:
    """A clip waiting for a backend."""

    path: Path
    sha256: str
    size_bytes: int


class ScanBackend(Protocol):
    """Runs verifications: ``submit`` clips (at most ``window`` at a time), collect outcomes."""

    window: int
    where: str

    def submit(self, clip: Clip) -> None: ...

    def completed(self) -> Iterator[tuple[Clip, ClipOutcome]]:
        """Outcomes that arrived (waits briefly for at least one)."""
        ...

    def close(self, abort: bool) -> None: ...


class ScanOutput:
    """The JSONL file: rows already there (resume) and appending new ones durably."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[JsonObject] = []
        self.by_sha: dict[str, JsonObject] = {}
        self.paths: set[tuple[str, str]] = set()
        self.dropped_partial = False
        if path.exists():
            self._load()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("ab")

    def _load(self) -> None:
        data = self.path.read_bytes()
        good = 0
        for line in data.splitlines(keepends=True):
            try:
                row = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                row = None
            if not isinstance(row, dict) or "sha256" not in row or "path" not in row:
                break  # a half-written line from an interrupted run, and whatever follows it
            good += len(line)
            self._remember(row)
        if good < len(data):
            self.dropped_partial = True
            with self.path.open("r+b") as fh:
                fh.truncate(good)

    def _remember(self, row: JsonObject) -> None:
        self.rows.append(row)
        sha, path = str(row["sha256"]), str(row["path"])
        self.paths.add((path, sha))
        if row.get("duplicate_of") is None:
            self.by_sha.setdefault(sha, row)

    def done(self, clip: Clip) -> bool:
        return (str(clip.path), clip.sha256) in self.paths

    def append(self, row: JsonObject) -> None:
        self._fh.write(json.dumps(row, separators=(",", ":")).encode() + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._remember(row)

    def close(self) -> None:
        self._fh.close()


@dataclass
class ScanCounts:
    """What one run did."""

    total: int = 0
    skipped: int = 0
    ok: int = 0
    errors: int = 0
    duplicates: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)

    def add(self, row: JsonObject) -> None:
        if row.get("status") == "ok":
            self.ok += 1
            label = str(row.get("verdict"))
            self.verdicts[label] = self.verdicts.get(label, 0) + 1
        else:
            self.errors += 1
        if row.get("duplicate_of") is not None:
            self.duplicates += 1


def make_row(clip: Clip, outcome: ClipOutcome, report: str | None, thumb: str | None) -> JsonObject:
    """The JSONL row of one analysed clip."""
    result = outcome.result
    return {
        "path": str(clip.path),
        "sha256": clip.sha256,
        "size_bytes": clip.size_bytes,
        "status": "ok" if result is not None else "error",
        "verdict": result.get("verdict") if result is not None else None,
        "summary": result.get("summary") if result is not None else None,
        "error": outcome.error,
        "seconds": round(outcome.seconds, 4),
        "scanned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "report": report,
        "thumbnail": thumb,
        "duplicate_of": None,
        "result": result,
    }


def duplicate_row(clip: Clip, first: JsonObject) -> JsonObject:
    """A clip whose bytes were already analysed under another path: the same verdict."""
    return {
        **first,
        "path": str(clip.path),
        "duplicate_of": first["path"],
        "scanned_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


class Reports:
    """Per-clip HTML reports and index thumbnails next to the index page."""

    def __init__(self, index: Path) -> None:
        self.root = index.parent
        (self.root / REPORTS_DIR).mkdir(parents=True, exist_ok=True)

    def write(self, clip: Clip, outcome: ClipOutcome) -> tuple[str | None, str | None]:
        """Write the clip's report and first thumbnail; returns their paths relative to the
        index (``None`` for an error row)."""
        if outcome.result is None:
            return None, None
        import base64

        from reelproof.service.report import render_html
        from reelproof.service.thumbnails import Thumbnail

        stem = clip.sha256[:16]
        thumbs = [Thumbnail.from_json(t) for t in outcome.thumbnails]
        report = f"{REPORTS_DIR}/{stem}.html"
        (self.root / report).write_text(render_html(outcome.result, thumbs), encoding="utf-8")
        thumb = None
        if thumbs:
            thumb = f"{REPORTS_DIR}/{stem}.jpg"
            (self.root / thumb).write_bytes(base64.b64decode(thumbs[0].jpeg_base64))
        return report, thumb


def write_index(index: Path, rows: Sequence[JsonObject], title: str) -> None:
    """The index page: one line per clip (latest row per path), verdict, thumbnail, report link."""
    import importlib.resources

    import jinja2

    from reelproof.service.report import TONE

    latest: dict[str, JsonObject] = {}
    for row in rows:
        latest[str(row["path"])] = row
    source = importlib.resources.files("reelproof.service").joinpath("templates/scan_index.html.j2")
    template = jinja2.Environment(autoescape=True).from_string(source.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for row in latest.values():
        key = str(row.get("verdict") or "error")
        counts[key] = counts.get(key, 0) + 1
    page = template.render(
        title=title,
        rows=sorted(latest.values(), key=lambda r: str(r["path"])),
        counts=sorted(counts.items()),
        tone=TONE,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    tmp = index.with_name(index.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(index)  # never a half-written index


Progress = Any  # rich.progress.Progress, imported lazily


def run_scan(
    clips: Sequence[Path],
    out: Path,
    backend: ScanBackend,
    html_index: Path | None = None,
    progress: Progress | None = None,
) -> ScanCounts:
    """Verify ``clips`` with ``backend`` into ``out`` (resuming it), then write the index.

    Raises:
        KeyboardInterrupt: passed on after the rows written so far are safe and the index
            written; run again to resume.
    """
    output = ScanOutput(out)
    reports = Reports(html_index) if html_index is not None else None
    counts = ScanCounts(total=len(clips))
    task = progress.add_task(f"scan ({backend.where})", total=len(clips)) if progress else None
    waiting: dict[str, list[Clip]] = {}  # sha -> later clips with the same bytes
    inflight: set[str] = set()
    queue = iter(clips)
    exhausted = False
    aborted = True
    try:
        while not exhausted or inflight:
            while not exhausted and len(inflight) < backend.window:
                path = next(queue, None)
                if path is None:
                    exhausted = True
                    break
                clip = _clip(path)
                first = output.by_sha.get(clip.sha256)
                if output.done(clip):
                    counts.skipped += 1
                elif first is not None:
                    _write(output, counts, duplicate_row(clip, first))
                elif clip.sha256 in inflight:
                    waiting.setdefault(clip.sha256, []).append(clip)
                    continue
                else:
                    backend.submit(clip)
                    inflight.add(clip.sha256)
                    continue
                if progress is not None:
                    progress.advance(task)
            for clip, outcome in backend.completed():
                inflight.discard(clip.sha256)
                report, thumb = reports.write(clip, outcome) if reports else (None, None)
                row = make_row(clip, outcome, report, thumb)
                _write(output, counts, row)
                twins = waiting.pop(clip.sha256, [])
                for twin in twins:
                    _write(output, counts, duplicate_row(twin, row))
                if progress is not None:
                    progress.advance(task, 1 + len(twins))
                    progress.update(task, description=_describe(backend, counts))
        aborted = False
    finally:
        backend.close(abort=aborted)
        output.close()
        if html_index is not None:
            write_index(html_index, output.rows, f"ReelProof scan of {len(output.rows)} clip(s)")
    return counts


def _clip(path: Path) -> Clip:
    return Clip(path, sha256_file(path), path.stat().st_size)


def _write(output: ScanOutput, counts: ScanCounts, row: JsonObject) -> None:
    output.append(row)
    counts.add(row)


def _describe(backend: ScanBackend, counts: ScanCounts) -> str:
    return f"scan ({backend.where}): {counts.ok} ok, {counts.errors} error(s)"


ErrorKind = Literal["internal", "worker-crashed"]


def problem(kind: ErrorKind, detail: str) -> JsonObject:
    """Problem details of a clip that failed for a reason other than its bytes."""
    titles = {"internal": "Internal error", "worker-crashed": "Worker crashed"}
    return {
        "type": f"https://reelproof.dev/problems/{kind}",
        "title": titles[kind],
        "detail": detail,
    }
