"""Analysis workers: processes that load the models once, fed by a dispatcher thread.

This is the embedded default (no broker): the job database is the queue. The dispatcher claims the oldest queued job (status -> running),
hands it to a worker process, and records the outcome. Workers report their stage to the
database themselves, so the web page can show progress. A server that stops with jobs running
leaves them "running"; the next start requeues them (while attempts remain) or fails them with an
explicit "interrupted" error: nothing is silently lost.

``run_analysis`` (one verification with stage progress) and ``load_verifier`` are shared with
the Celery workers of the distributed mode (``reelproof.service.api.tasks``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from reelproof.core.errors import ReelProofError
from reelproof.core.results import JsonObject
from reelproof.service.api.db import JobRecord, ServiceDB
from reelproof.service.api.problems import JobError
from reelproof.service.pipeline import Verifier, VerifyOptions
from reelproof.service.resources import SignalInfo
from reelproof.service.thumbnails import Thumbnail
from reelproof.service.verdict import Verdict

log = logging.getLogger("reelproof.service")

_VERIFIER: Verifier | None = None
_DB: ServiceDB | None = None


def init_worker(options: VerifyOptions, db_url: str) -> None:
    """Process initializer: load every model and key once for the life of the worker."""
    global _VERIFIER, _DB
    # The server owns its workers' lifetime: a SIGTERM/SIGINT sent to the whole process group
    # (Ctrl-C, systemd) must not kill an analysis mid-way behind the server's back.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # ...but a server killed outright (kill -9) cannot stop them: they stop themselves.
    _exit_with_parent()
    _DB = ServiceDB(db_url, migrate=False)  # the server migrated it before starting us
    _VERIFIER = load_verifier(options)


def load_verifier(options: VerifyOptions) -> Verifier:
    """A verifier with every model and key loaded, on one core (workers scale out, not up)."""
    if options.detector:  # only the classifier needs torch: do not pay its import otherwise
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass
    verifier = Verifier(options)
    verifier.load()
    return verifier


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process loaded (``/v1/models`` and readiness)."""

    pid: int
    versions: dict[str, str]
    load_errors: dict[str, str]
    signals: dict[str, SignalInfo]


@dataclass(frozen=True)
class AnalysisOutcome:
    """How one analysis ended: a verdict (with thumbnails) or an error.

    Attributes:
        verdict: the verdict, its ``filename`` the client's (never the private upload name).
        thumbnails: frames for the HTML report.
        error: problem details when the analysis failed.
        upload_path: the upload the job read (removed after the job unless uploads are kept).
    """

    verdict: Verdict | None = None
    thumbnails: tuple[Thumbnail, ...] = ()
    error: JobError | None = None
    upload_path: str | None = None

    def result_json(self) -> JsonObject | None:
        return self.verdict.to_dict() if self.verdict is not None else None


def _exit_with_parent(poll_s: float = 1.0) -> None:
    """Exit this worker as soon as the process that spawned it is gone.

    Workers ignore SIGTERM (above), and a server killed with SIGKILL leaves them orphaned,
    each holding its models (over 1 GB), piling up with every crash. Orphans are re-parented,
    so a changed parent pid means the server died.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)  # no cleanup to run: the job stays "running" and the next start recovers it

    threading.Thread(target=watch, name="reelproof-parent-watch", daemon=True).start()


def worker_info() -> WorkerInfo:
    """What this worker loaded (runs in the worker)."""
    assert _VERIFIER is not None
    return describe_worker(_VERIFIER)


def describe_worker(verifier: Verifier) -> WorkerInfo:
    """What a worker process with ``verifier`` loaded."""
    return WorkerInfo(
        pid=os.getpid(),
        versions=verifier.versions(),
        load_errors=verifier.load(),
        signals=verifier.describe_models(),
    )


def analyze(job_id: str, upload_path: str, thumbnails: int, filename: str) -> AnalysisOutcome:
    """Verify one upload (runs in the worker), reporting its stages to the database."""
    assert _VERIFIER is not None and _DB is not None
    db = _DB

    def record(job_id: str, current: str, done: list[str]) -> None:
        db.set_stage(job_id, current, done)

    return run_analysis(_VERIFIER, job_id, Path(upload_path), thumbnails, filename, record)


def run_analysis(
    verifier: Verifier,
    job_id: str,
    path: Path,
    thumbnails: int,
    filename: str,
    record_stage: Callable[[str, str, list[str]], None],
) -> AnalysisOutcome:
    """Verify ``path`` with ``verifier``; ``record_stage(job_id, running, done)`` after each
    stage change (best effort: a failed progress write never stops the analysis).

    Shared by the embedded workers and the Celery workers (``reelproof.service.api.tasks``).
    """
    running: list[str] = []
    done: list[str] = []
    lock = threading.Lock()

    def progress(stage: str, state: str) -> None:
        with lock:
            if state == "started":
                running.append(stage)
            else:
                if stage in running:
                    running.remove(stage)
                done.append(stage)
            current = ",".join(running) or "finishing"
            done_copy = list(done)
        try:
            record_stage(job_id, current, done_copy)
        except Exception:  # progress is best effort; the analysis must go on
            log.debug("could not record progress of %s", job_id)

    try:
        verdict = verifier.verify(path, progress)
        thumbs: list[Thumbnail] = []
        if thumbnails > 0:
            from reelproof.service.thumbnails import make_thumbnails

            progress("thumbnails", "started")
            try:
                thumbs = make_thumbnails(path, thumbnails, verifier.limits())
            except ReelProofError:
                thumbs = []
            progress("thumbnails", "done")
    except ReelProofError as err:
        return AnalysisOutcome(error=JobError.of(err))
    # The client's name, not the private upload name.
    return AnalysisOutcome(dataclasses.replace(verdict, filename=filename), tuple(thumbs))


def internal_error(err: BaseException) -> AnalysisOutcome:
    """The outcome of an analysis that raised a bug instead of a verdict."""
    return AnalysisOutcome(
        error=JobError.named(
            "internal", "Internal error", f"the analysis failed: {type(err).__name__}"
        )
    )


class JobRunner:
    """Owns the worker pool and the dispatcher thread of one server process.

    Args:
        db: the service database.
        options: verifier options for the workers.
        workers: number of worker processes.
        max_attempts: tries per job across restarts.
        thumbnails: thumbnails kept per analysis.
        on_finished: called in the dispatcher thread with ``(job_id, outcome)``.
    """

    def __init__(
        self,
        db: ServiceDB,
        options: VerifyOptions,
        workers: int,
        max_attempts: int,
        thumbnails: int,
        on_finished: Callable[[str, AnalysisOutcome], None],
        retain_uploads: bool = False,
    ) -> None:
        self.retain_uploads = retain_uploads
        self.db = db
        self.options = options
        self.workers = max(1, workers)
        self.max_attempts = max_attempts
        self.thumbnails = thumbnails
        self.on_finished = on_finished
        self.info: WorkerInfo | None = None
        self.ready = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._inflight: dict[str, Future[AnalysisOutcome]] = {}
        self._uploads: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self.recovered: tuple[list[str], list[tuple[str, str | None]]] = ([], [])

    def start(self) -> None:
        """Recover jobs a previous process left running, start the pool and the dispatcher."""
        self.recovered = self.db.recover_after_restart(self.max_attempts)
        for job_id, upload in self.recovered[1]:
            if upload and not self.retain_uploads:
                Path(upload).unlink(missing_ok=True)
                self.db.clear_upload(job_id)
        if self.recovered[0] or self.recovered[1]:
            log.warning(
                "restart: requeued %d job(s), failed %d interrupted job(s)",
                len(self.recovered[0]),
                len(self.recovered[1]),
            )
        self._pool = self._new_pool()
        self._thread = threading.Thread(target=self._loop, name="reelproof-dispatch", daemon=True)
        self._thread.start()

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded server
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=init_worker,
            initargs=(self.options, self.db.url),
        )

    def wake(self) -> None:
        """Tell the dispatcher a job was queued."""
        self._wake.set()

    def submitted(self, job_id: str) -> None:
        """A job was stored as queued: the dispatcher picks it from the database."""
        self.wake()

    def is_ready(self) -> bool:
        """The workers loaded their models."""
        return self.ready.is_set()

    def worker_count(self) -> int:
        return self.workers

    def queue_depth(self) -> int | None:
        return self.db.count_by_status().get("queued", 0)

    def stop(self) -> None:
        """Stop dispatching; running jobs stay "running" in the database for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._pool is not None:
            # Terminate the workers outright: a running analysis stays "running" in the
            # database and the next start requeues or fails it (see ``recover_after_restart``).
            procs = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.kill()  # workers ignore SIGTERM (see init_worker)
            for proc in procs:
                proc.join(timeout=5)

    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def _loop(self) -> None:
        self._warm()
        while not self._stop.is_set():
            if self.inflight() < self.workers:
                job = self.db.claim_next(self.max_attempts)
                if job is not None:
                    self._submit(job)
                    continue
            self._wake.wait(timeout=0.5)
            self._wake.clear()

    def _warm(self) -> None:
        assert self._pool is not None
        while not self._stop.is_set():
            try:
                self.info = self._pool.submit(worker_info).result()
                break
            except BrokenProcessPool:
                log.exception("a worker died while loading the models; restarting the pool")
                self._pool = self._new_pool()
                time.sleep(1.0)
        self.ready.set()

    def _submit(self, job: JobRecord) -> None:
        assert self._pool is not None
        job_id, upload, name = job.id, str(job.upload_path), job.filename
        try:
            fut = self._pool.submit(analyze, job_id, upload, self.thumbnails, name)
        except (BrokenProcessPool, RuntimeError):
            self._pool = self._new_pool()
            fut = self._pool.submit(analyze, job_id, upload, self.thumbnails, name)
        with self._lock:
            self._inflight[job_id] = fut
            self._uploads[job_id] = upload
        fut.add_done_callback(functools.partial(self._done, job_id))

    def _done(self, job_id: str, fut: Future[AnalysisOutcome]) -> None:
        with self._lock:
            self._inflight.pop(job_id, None)
            upload = self._uploads.pop(job_id, None)
        if self._stop.is_set():
            return  # shutting down: leave the job "running" for the next start to recover
        try:
            outcome = fut.result()
        except BrokenProcessPool:
            self._pool = self._new_pool()
            if self.db.requeue_if_attempts_left(job_id, self.max_attempts):
                log.warning("worker died during %s; requeued", job_id)
                self._wake.set()
                return
            outcome = AnalysisOutcome(
                error=JobError.named(
                    "worker-crashed",
                    "Worker crashed",
                    "The analysis worker stopped unexpectedly on this clip "
                    f"({self.max_attempts} attempt(s)).",
                )
            )
        except Exception as err:  # a bug in the worker must fail the job, not hang it
            log.exception("analysis %s failed", job_id)
            outcome = internal_error(err)
        try:
            self.on_finished(job_id, dataclasses.replace(outcome, upload_path=upload))
        finally:
            self._wake.set()
