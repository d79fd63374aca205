"""The API's side of the distributed mode: hand jobs to the Celery workers through the broker.

``POST /v1/analyses`` stores the job (durable), then publishes its id. A sweeper thread
re-publishes what could have fallen through the cracks: a job stored by an API process that
stopped before publishing it, and a running job whose worker stopped heartbeating (its message
may have gone with the worker). Re-publishing is always safe: the workers' claim drops
duplicates (``reelproof.service.api.leases``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from reelproof.service.api.db import ServiceDB
from reelproof.service.api.leases import LeaseStore
from reelproof.service.api.settings import ServiceSettings
from reelproof.service.api.tasks import QUEUE, TASK, WORKER_INFO, make_celery
from reelproof.service.api.workers import WorkerInfo

log = logging.getLogger("reelproof.service")

SWEEP_EVERY_S = 5.0
_PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}


class CeleryDispatcher:
    """Publishes jobs to the workers, sweeps orphans, and reports the workers' state.

    Args:
        settings: the service settings (``broker_url`` set).
        db: the service database.
    """

    def __init__(self, settings: ServiceSettings, db: ServiceDB) -> None:
        self.settings = settings
        self.app = make_celery(settings)
        self.leases = LeaseStore(db, settings.lease_s, settings.max_attempts)
        self.unsent_s = 10.0  # a publish takes milliseconds; older unsent jobs were dropped
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._broker_ok = (0.0, False)

    def start(self) -> None:
        """Start the sweeper (it also runs once right away: jobs a stopped API left behind)."""
        self._thread = threading.Thread(
            target=self._sweep_loop, name="reelproof-sweep", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def submitted(self, job_id: str) -> None:
        """Publish a stored job; on a broker failure the sweeper publishes it later."""
        try:
            self.publish(job_id)
        except Exception:
            log.warning("could not publish job %s now; the sweeper retries", job_id, exc_info=True)

    def publish(self, job_id: str) -> None:
        self.app.send_task(
            TASK, args=[job_id], queue=QUEUE, retry=True, retry_policy=_PUBLISH_RETRY
        )
        self.leases.mark_enqueued(job_id)

    def sweep(self) -> int:
        """Publish every orphaned job once; returns how many."""
        orphans = self.leases.orphans(self.unsent_s)
        for job_id in orphans:
            self.publish(job_id)
        if orphans:
            log.warning("re-published %d orphaned job(s)", len(orphans))
        return len(orphans)

    def _sweep_loop(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception:
                log.warning("sweep failed; retrying", exc_info=True)
            if self._stop.wait(SWEEP_EVERY_S):
                return

    def is_ready(self) -> bool:
        """The broker answers (checked at most every 2 s)."""
        checked, ok = self._broker_ok
        if time.monotonic() - checked > 2.0:
            ok = self.queue_depth() is not None
            self._broker_ok = (time.monotonic(), ok)
        return ok

    def queue_depth(self) -> int | None:
        """Messages waiting in the broker's queue (``None`` when the broker is unreachable)."""
        try:
            with self.app.connection_for_read() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                channel: Any = conn.default_channel  # kombu's virtual channel (Redis)
                _, count, _ = channel.queue_declare(queue=QUEUE, passive=True)
                return int(count)
        except Exception as err:
            if "NOT_FOUND" in str(err) or "no queue" in str(err).lower():
                return 0
            log.debug("broker unreachable", exc_info=True)
            return None

    def worker_count(self) -> int:
        """Worker processes that sent a heartbeat recently."""
        return len(self.leases.live_workers())

    @property
    def info(self) -> WorkerInfo | None:
        """What the longest-running live worker loaded (``None`` until one is up)."""
        live = self.leases.live_workers()
        return WORKER_INFO.validate_json(live[0].info) if live else None
