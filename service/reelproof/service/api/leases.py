"""Distributed mode's job bookkeeping: leases, attempts, broker hand-off and the worker registry.

Celery delivers a job's message at least once (late acknowledgement: a worker that dies before
acknowledging gets its message delivered again after the visibility timeout). The database makes
that exactly-once in effect:

- a worker *claims* a job in one transaction (row lock): a queued job, or a running one whose
  lease expired (its worker stopped sending heartbeats). A duplicate message for a finished job,
  or for one whose lease is alive, is dropped;
- the claim counts the attempt and appends it to the job's ``history`` (worker, start); taking
  over an abandoned job marks the previous attempt ``lost``; with no attempt left the job fails
  with an explicit ``worker-crashed`` problem;
- only the attempt holding the job may record the outcome (``finish`` checks worker and
  attempt), so a worker that was presumed dead can never overwrite the verdict a second time.

Clocks: leases compare the nodes' wall clocks; keep them in sync (NTP) and the lease well above
the skew.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from reelproof.core.results import JsonObject
from reelproof.service.api.db import JobRecord, ServiceDB, outcome_values
from reelproof.service.api.problems import JobError
from reelproof.service.api.tables import JOBS, WORKERS

ClaimState = Literal["claimed", "missing", "finished", "running-elsewhere", "gave-up"]
WORKER_FRESH_S = 15.0  # a worker whose heartbeat is older than this is not counted as live


@dataclass(frozen=True)
class Claim:
    """What a worker got when it asked for a job.

    Attributes:
        state: ``claimed`` (run it), or why not.
        job: the job as claimed (``claimed``), or as found (``gave-up``: now failed).
    """

    state: ClaimState
    job: JobRecord | None = None


@dataclass(frozen=True)
class LiveWorker:
    """A worker process that sent a heartbeat recently (``info``: its ``WorkerInfo`` JSON)."""

    worker_id: str
    hostname: str
    pid: int
    started_at: float
    last_seen: float
    info: str


def worker_name(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


class LeaseStore:
    """Job leases and the worker registry on a :class:`ServiceDB`.

    Args:
        db: the service database.
        lease_s: how long a claim or heartbeat holds a job.
        max_attempts: attempts per job before it fails explicitly.
    """

    def __init__(self, db: ServiceDB, lease_s: float, max_attempts: int) -> None:
        self.db = db
        self.lease_s = lease_s
        self.max_attempts = max_attempts

    def claim(self, job_id: str, worker: str) -> Claim:
        """Take ``job_id`` for ``worker`` (see the module docstring for the rules)."""
        now = time.time()
        query = sa.select(JOBS).where(JOBS.c.id == job_id).with_for_update()
        with self.db.connect() as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                return Claim("missing")
            job = JobRecord.of(row)
            if job.status in ("succeeded", "failed"):
                return Claim("finished", job)
            if job.status == "running" and (job.lease_until or 0.0) >= now:
                return Claim("running-elsewhere", job)
            history = [dict(h) for h in job.history]
            if job.status == "running" and history:
                history[-1]["outcome"] = "lost"  # its worker stopped without finishing
            by_id = JOBS.update().where(JOBS.c.id == job_id)
            if job.attempts >= self.max_attempts:
                error = JobError.named(
                    "worker-crashed",
                    "Worker crashed",
                    "The analysis worker stopped unexpectedly on this clip "
                    f"({job.attempts} attempt(s)).",
                )
                conn.execute(
                    by_id.values(
                        **outcome_values(None, None, error.model_dump()),
                        history=json.dumps(history), worker=None, lease_until=None,
                    )
                )  # fmt: skip
                return Claim("gave-up", job)
            attempt = job.attempts + 1
            history.append({"attempt": attempt, "worker": worker, "started_at": now})
            conn.execute(
                by_id.values(
                    status="running", stage="starting", stages_done="[]", started_at=now,
                    attempts=attempt, worker=worker, lease_until=now + self.lease_s,
                    history=json.dumps(history),
                )
            )  # fmt: skip
        claimed = self.db.get_job(job_id)
        return Claim("claimed", claimed) if claimed is not None else Claim("missing")

    def _held(self, job_id: str, worker: str, attempt: int) -> sa.Update:
        return JOBS.update().where(
            JOBS.c.id == job_id,
            JOBS.c.status == "running",
            JOBS.c.worker == worker,
            JOBS.c.attempts == attempt,
        )

    def heartbeat(self, job_id: str, worker: str, attempt: int) -> bool:
        """Extend the lease; False when the job is no longer this attempt's."""
        with self.db.connect() as conn:
            cur = conn.execute(
                self._held(job_id, worker, attempt).values(lease_until=time.time() + self.lease_s)
            )
            return cur.rowcount > 0

    def set_stage(
        self, job_id: str, worker: str, attempt: int, stage: str, done: list[str]
    ) -> None:
        """Record the running stages (extends the lease too)."""
        with self.db.connect() as conn:
            conn.execute(
                self._held(job_id, worker, attempt).values(
                    stage=stage, stages_done=json.dumps(done),
                    lease_until=time.time() + self.lease_s,
                )
            )  # fmt: skip

    def finish(
        self,
        job_id: str,
        worker: str,
        attempt: int,
        result: JsonObject | None,
        thumbnails: list[JsonObject] | None,
        error: JsonObject | None,
    ) -> bool:
        """Record the outcome of this attempt; False when the attempt no longer holds the job
        (it was taken over or deleted): the outcome is then dropped."""
        query = sa.select(JOBS.c.history).where(JOBS.c.id == job_id).with_for_update()
        with self.db.connect() as conn:
            found = conn.execute(query).first()
            if found is None:
                return False
            history = json.loads(found[0] or "[]")
            if history and history[-1].get("attempt") == attempt:
                history[-1]["outcome"] = "succeeded" if error is None else "failed"
                history[-1]["finished_at"] = time.time()
            values = outcome_values(result, thumbnails, error)
            cur = conn.execute(
                self._held(job_id, worker, attempt).values(
                    **values, history=json.dumps(history), lease_until=None
                )
            )
            return cur.rowcount > 0

    # -- broker hand-off -------------------------------------------------------------------------
    def mark_enqueued(self, job_id: str) -> None:
        """The job's message is in the broker."""
        with self.db.connect() as conn:
            conn.execute(JOBS.update().where(JOBS.c.id == job_id).values(enqueued_at=time.time()))

    def orphans(self, unsent_s: float, limit: int = 500) -> list[str]:
        """Jobs that need a (new) message: queued but not handed to the broker ``unsent_s``
        after they were stored (the API stopped in between), or running with a lease expired
        for another lease (the message may be gone with its worker). Sending one twice is
        harmless: the claim drops duplicates."""
        now = time.time()
        never_sent = sa.and_(
            JOBS.c.status == "queued",
            JOBS.c.enqueued_at.is_(None),
            JOBS.c.created_at < now - unsent_s,
        )
        abandoned = sa.and_(JOBS.c.status == "running", JOBS.c.lease_until < now - self.lease_s)
        query = sa.select(JOBS.c.id).where(sa.or_(never_sent, abandoned)).limit(limit)
        with self.db.connect() as conn:
            return [str(r[0]) for r in conn.execute(query).all()]

    # -- worker registry -------------------------------------------------------------------------
    def worker_alive(self, worker_id: str, pid: int, started_at: float, info: str) -> None:
        """Insert or refresh this worker's heartbeat row."""
        now = time.time()
        host = worker_id.rsplit(":", 1)[0]
        with self.db.connect() as conn:
            cur = conn.execute(
                WORKERS.update()
                .where(WORKERS.c.worker_id == worker_id)
                .values(last_seen=now, info=info)
            )
            if cur.rowcount == 0:
                conn.execute(
                    WORKERS.insert().values(
                        worker_id=worker_id, hostname=host, pid=pid, started_at=started_at,
                        last_seen=now, info=info,
                    )
                )  # fmt: skip

    def worker_gone(self, worker_id: str) -> None:
        with self.db.connect() as conn:
            conn.execute(WORKERS.delete().where(WORKERS.c.worker_id == worker_id))

    def live_workers(self) -> list[LiveWorker]:
        """Workers seen in the last ``WORKER_FRESH_S`` seconds (stale rows are pruned)."""
        now = time.time()
        with self.db.connect() as conn:
            conn.execute(WORKERS.delete().where(WORKERS.c.last_seen < now - 3600))
            rows = conn.execute(
                sa.select(WORKERS)
                .where(WORKERS.c.last_seen >= now - WORKER_FRESH_S)
                .order_by(WORKERS.c.started_at)
            ).mappings()
            return [
                LiveWorker(
                    r["worker_id"], r["hostname"], int(r["pid"]), float(r["started_at"]),
                    float(r["last_seen"]), str(r["info"]),
                )
                for r in rows.all()
            ]  # fmt: skip
