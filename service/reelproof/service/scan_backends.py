"""Where ``reelproof scan`` runs its verifications: a local process pool or the Celery workers."""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import multiprocessing
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from reelproof.core.errors import ReelProofError
from reelproof.service.pipeline import Verifier, VerifyOptions
from reelproof.service.scan import Clip, ClipOutcome, check_structure, problem

log = logging.getLogger("reelproof.service")

_VERIFIER: Verifier | None = None


def _init_process(options: VerifyOptions) -> None:
    """Pool initializer: the models load once per process; Ctrl-C is the parent's to handle."""
    global _VERIFIER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from reelproof.service.api.workers import load_verifier

    _VERIFIER = load_verifier(options)


def verify_one(path: str, thumbnails: int) -> ClipOutcome:
    """Verify one clip in a pool process: the verdict JSON and thumbnails, or the error."""
    from reelproof.service.api.problems import JobError

    assert _VERIFIER is not None
    start = time.perf_counter()
    try:
        check_structure(Path(path), _VERIFIER.limits())
        verdict = _VERIFIER.verify(Path(path))
        thumbs = []
        if thumbnails > 0:
            from reelproof.service.thumbnails import make_thumbnails

            try:
                thumbs = [
                    t.to_json() for t in make_thumbnails(Path(path), thumbnails, _VERIFIER.limits())
                ]
            except ReelProofError:
                thumbs = []
        return ClipOutcome(verdict.to_dict(), thumbs, None, time.perf_counter() - start)
    except ReelProofError as err:
        return ClipOutcome(None, [], JobError.of(err).model_dump(), time.perf_counter() - start)
    except Exception as err:  # a decoder bug on a hostile file is still that file's row
        log.exception("verifying %s failed", path)
        detail = f"the analysis failed: {type(err).__name__}"
        return ClipOutcome(None, [], problem("internal", detail), time.perf_counter() - start)


class LocalPool:
    """A process pool on this machine (spawned: no fork of a threaded parent).

    Args:
        options: what to verify.
        workers: processes.
        thumbnails: thumbnails per clip (for the HTML reports).
    """

    def __init__(self, options: VerifyOptions, workers: int, thumbnails: int) -> None:
        self.options = options
        self.workers = max(1, workers)
        self.thumbnails = thumbnails
        self.window = 2 * self.workers
        self.where = f"{self.workers} local process(es)"
        self._pool = self._new_pool()
        self._futures: dict[cf.Future[ClipOutcome], Clip] = {}

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process,
            initargs=(self.options,),
        )

    def submit(self, clip: Clip) -> None:
        try:
            fut = self._pool.submit(verify_one, str(clip.path), self.thumbnails)
        except (cf.process.BrokenProcessPool, RuntimeError):
            self._pool = self._new_pool()
            fut = self._pool.submit(verify_one, str(clip.path), self.thumbnails)
        self._futures[fut] = clip

    def completed(self) -> Iterator[tuple[Clip, ClipOutcome]]:
        if not self._futures:
            return
        done, _ = cf.wait(set(self._futures), timeout=0.5, return_when=cf.FIRST_COMPLETED)
        broken = False
        for fut in done:
            clip = self._futures.pop(fut)
            try:
                yield clip, fut.result()
            except cf.process.BrokenProcessPool:
                # A process died (a decoder crash, the OOM killer): this clip gets an error row;
                # the others that were in flight are sent again to a new pool.
                broken = True
                detail = "the verifying process stopped unexpectedly on this clip"
                yield clip, ClipOutcome(None, [], problem("worker-crashed", detail))
        if broken:
            retry = list(self._futures.values())
            self._futures.clear()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            for clip in retry:
                self.submit(clip)

    def close(self, abort: bool) -> None:
        if not abort:
            self._pool.shutdown(wait=True)
            return
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.join(timeout=10)


class CeleryScan:
    """The distributed API's Celery workers, through the shared job database.

    Each clip becomes a job that names the clip's own path (never deleted: ``keep_upload``);
    the outcome is read back from the job row, with the workers' retries and leases.

    Args:
        settings: service settings with ``broker_url`` and the shared ``database_url``.
        window: jobs in flight at once.
    """

    OWNER = "scan"

    def __init__(self, settings: object, window: int = 64) -> None:
        from reelproof.service.api.db import ServiceDB
        from reelproof.service.api.dispatch import CeleryDispatcher
        from reelproof.service.api.settings import ServiceSettings
        from reelproof.service.resources import Resources

        assert isinstance(settings, ServiceSettings)
        self.db = ServiceDB(settings.db_url)
        self.dispatcher = CeleryDispatcher(settings, self.db)
        self.window = window
        self.where = "Celery workers"
        self.limits = Resources(settings.verify_options()).limits
        self._jobs: dict[str, Clip] = {}
        self._refused: list[tuple[Clip, ClipOutcome]] = []

    def submit(self, clip: Clip) -> None:
        """Queue the clip as a job, once it passed the API's upload checks (checked here: a
        refused file never reaches a worker)."""
        from reelproof.service.api.problems import JobError

        try:
            check_structure(clip.path, self.limits)
        except ReelProofError as err:
            self._refused.append((clip, ClipOutcome(None, [], JobError.of(err).model_dump())))
            return
        job_id, _ = self.db.insert_job(
            self.OWNER, clip.path.name, clip.path, clip.sha256, clip.size_bytes, keep_upload=True
        )
        self._jobs[job_id] = clip
        self.dispatcher.submitted(job_id)

    def completed(self) -> Iterator[tuple[Clip, ClipOutcome]]:
        while self._refused:
            yield self._refused.pop()
        time.sleep(0.2)
        for job_id in list(self._jobs):
            job = self.db.get_job(job_id)
            if job is None:
                clip = self._jobs.pop(job_id)
                yield clip, ClipOutcome(None, [], problem("internal", "the job was deleted"))
                continue
            if job.status not in ("succeeded", "failed"):
                continue
            clip = self._jobs.pop(job_id)
            seconds = (job.finished_at or 0.0) - (job.started_at or 0.0)
            yield (
                clip,
                ClipOutcome(
                    json.loads(job.result) if job.result else None,
                    json.loads(job.thumbnails or "[]"),
                    json.loads(job.error) if job.error else None,
                    max(0.0, seconds),
                ),
            )

    def close(self, abort: bool) -> None:
        # Jobs still queued finish in the workers; a resumed scan analyses those clips again.
        self.db.dispose()
