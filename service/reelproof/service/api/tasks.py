"""Celery workers of the distributed mode: ``reelproof worker``.

Each worker is a Celery prefork pool; every pool process loads the models once
(``worker_process_init``) and runs analyses from the ``reelproof`` queue, one at a time. The
message carries only the job id: the clip is read from the shared upload folder and the outcome
written to the shared database, where the API reads status, stage progress and verdict exactly
as in the embedded mode.

Delivery: late acknowledgement (the message is acknowledged after the job finished) and
``task_reject_on_worker_lost``; a worker killed mid-job leaves its message unacknowledged and
Redis delivers it again after the visibility timeout. The claim in the database
(``reelproof.service.api.leases``) turns "at least once" into "the verdict is recorded once":
duplicates are dropped, takeovers counted and kept in the job's history.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown
from pydantic import TypeAdapter

from reelproof.service.api.db import ServiceDB
from reelproof.service.api.leases import LeaseStore, worker_name
from reelproof.service.api.settings import ServiceSettings
from reelproof.service.api.workers import (
    AnalysisOutcome,
    WorkerInfo,
    describe_worker,
    internal_error,
    load_verifier,
    run_analysis,
)
from reelproof.service.pipeline import Verifier

log = logging.getLogger("reelproof.service")

TASK = "reelproof.analyze"
QUEUE = "reelproof"
WORKER_HEARTBEAT_S = 5.0
WORKER_INFO = TypeAdapter(WorkerInfo)


def make_celery(settings: ServiceSettings) -> Celery:
    """The Celery app on ``settings.broker_url`` (used by the API to publish, by workers to run).

    Results are not kept in Celery: the job row in the database is the result.
    """
    visibility = int(settings.visibility_timeout_s)
    app = Celery("reelproof", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": visibility,
            # Look for unacknowledged messages of dead workers a few times per timeout.
            "unacked_restore_interval": max(1, min(10, visibility // 4)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app


@dataclass
class WorkerProcess:
    """What one pool process holds for its whole life."""

    settings: ServiceSettings
    db: ServiceDB
    leases: LeaseStore
    verifier: Verifier
    worker_id: str
    info_json: str
    started_at: float = field(default_factory=time.time)
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, settings: ServiceSettings) -> WorkerProcess:
        db = ServiceDB(settings.db_url, migrate=False)  # `reelproof worker` migrated it
        leases = LeaseStore(db, settings.lease_s, settings.max_attempts)
        verifier = load_verifier(settings.verify_options())
        info = WORKER_INFO.dump_json(describe_worker(verifier)).decode()
        proc = cls(settings, db, leases, verifier, worker_name(os.getpid()), info)
        proc.beat()
        threading.Thread(target=proc._beat_loop, name="reelproof-heartbeat", daemon=True).start()
        return proc

    def beat(self) -> None:
        self.leases.worker_alive(self.worker_id, os.getpid(), self.started_at, self.info_json)

    def _beat_loop(self) -> None:
        while not self.stop.wait(WORKER_HEARTBEAT_S):
            try:
                self.beat()
            except Exception:  # the database is away for a moment: try again next beat
                log.warning("worker heartbeat failed", exc_info=True)

    def close(self) -> None:
        self.stop.set()
        try:
            self.leases.worker_gone(self.worker_id)
        finally:
            self.db.dispose()


_PROCESS: WorkerProcess | None = None


def analyze_job(job_id: str) -> str:
    """The task body: claim the job, verify its clip, record the outcome once.

    Returns:
        What happened (``succeeded``, ``failed``, or why the message was dropped), for the log.
    """
    proc = _PROCESS
    if proc is None:
        raise RuntimeError("the worker process was not initialised (worker_process_init)")
    claim = proc.leases.claim(job_id, proc.worker_id)
    if claim.state == "gave-up" and claim.job is not None:
        _remove_upload(proc, claim.job.upload_path, claim.job.keep_upload, job_id)
    if claim.state != "claimed" or claim.job is None:
        log.info("job %s: message dropped (%s)", job_id, claim.state)
        return claim.state
    job, attempt, worker = claim.job, claim.job.attempts, proc.worker_id

    def record(job_id: str, stage: str, done: list[str]) -> None:
        proc.leases.set_stage(job_id, worker, attempt, stage, done)

    beating = threading.Event()
    threading.Thread(
        target=_hold_lease, args=(proc.leases, job_id, worker, attempt, beating), daemon=True
    ).start()
    try:
        outcome = run_analysis(
            proc.verifier,
            job_id,
            Path(job.upload_path or ""),
            proc.settings.thumbnails,
            job.filename,
            record,
        )
    except Exception as err:  # a bug must fail the job, not leave it running
        log.exception("analysis %s failed", job_id)
        outcome = internal_error(err)
    finally:
        beating.set()
    kept = _finish(proc, job_id, worker, attempt, outcome)
    if not kept:
        log.warning("job %s attempt %d was taken over; its outcome is dropped", job_id, attempt)
        return "taken-over"
    _remove_upload(proc, job.upload_path, job.keep_upload, job_id)
    return "failed" if outcome.error is not None else "succeeded"


def _finish(
    proc: WorkerProcess, job_id: str, worker: str, attempt: int, outcome: AnalysisOutcome
) -> bool:
    thumbs = [t.to_json() for t in outcome.thumbnails] if outcome.verdict else None
    error = outcome.error.model_dump() if outcome.error is not None else None
    return proc.leases.finish(job_id, worker, attempt, outcome.result_json(), thumbs, error)


def _hold_lease(
    leases: LeaseStore, job_id: str, worker: str, attempt: int, done: threading.Event
) -> None:
    """Renew the job's lease until ``done`` (a third of the lease at a time)."""
    while not done.wait(max(0.5, leases.lease_s / 3)):
        try:
            if not leases.heartbeat(job_id, worker, attempt):
                return
        except Exception:
            log.warning("lease renewal of %s failed", job_id, exc_info=True)


def _remove_upload(proc: WorkerProcess, upload: str | None, keep: bool, job_id: str) -> None:
    """Delete a finished job's upload (never an archive scan's own clip)."""
    if keep or proc.settings.retain_uploads or not upload:
        return
    Path(upload).unlink(missing_ok=True)
    proc.db.clear_upload(job_id)


def worker_app(settings: ServiceSettings) -> Celery:
    """The Celery app with the analysis task and the pool-process hooks registered."""
    app = make_celery(settings)
    app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(analyze_job)

    def on_process_init(**_: Any) -> None:
        global _PROCESS
        _PROCESS = WorkerProcess.start(settings)

    def on_process_shutdown(**_: Any) -> None:
        if _PROCESS is not None:
            _PROCESS.close()

    worker_process_init.connect(on_process_init, weak=False)
    worker_process_shutdown.connect(on_process_shutdown, weak=False)
    return app


def run_worker(settings: ServiceSettings, concurrency: int, loglevel: str) -> None:
    """Run a Celery worker in this process until it is stopped (SIGTERM: warm shutdown, the
    running analysis finishes first)."""
    ServiceDB(settings.db_url).dispose()  # migrate once here, before the pool forks
    app = worker_app(settings)
    app.worker_main(
        [
            "worker",
            f"--loglevel={loglevel}",
            f"--concurrency={max(1, concurrency)}",
            "--pool=prefork",
            f"--queues={QUEUE}",
            f"--hostname=reelproof-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )
