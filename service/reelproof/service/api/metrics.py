"""Prometheus metrics of the service (one registry per app, so tests can build many apps).

Request counters live in each API process. What every process must agree on (jobs by status,
queue depth, live workers, job latency) is read from the shared database and broker when
Prometheus scrapes, so any API replica reports the whole deployment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from reelproof.service.api.tables import JOBS

if TYPE_CHECKING:
    from reelproof.service.api.db import ServiceDB
    from reelproof.service.api.deps import Dispatcher

log = logging.getLogger("reelproof.service")

LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class ServiceMetrics:
    """The counters and histograms ``/metrics`` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "reelproof_http_requests",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "reelproof_http_request_seconds",
            "HTTP request latency by route template.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
            registry=self.registry,
        )
        self.jobs_finished = Counter(
            "reelproof_jobs_finished",
            "Analyses finished by this server's own workers (embedded mode), by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.verdicts = Counter(
            "reelproof_verdicts",
            "Verdicts given by this server's own workers (embedded mode), by label.",
            ["verdict"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "reelproof_analysis_stage_seconds",
            "Seconds per verification stage (embedded mode).",
            ["stage"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "reelproof_rate_limited", "Requests refused with 429.", registry=self.registry
        )
        self.upload_bytes = Counter(
            "reelproof_upload_bytes", "Bytes of accepted uploads.", registry=self.registry
        )

    def watch(self, db: ServiceDB, dispatcher: Dispatcher) -> None:
        """Report the shared state of ``db`` and ``dispatcher`` on every scrape."""
        self.registry.register(SharedStateCollector(db, dispatcher))


class SharedStateCollector:
    """Jobs by status, queue depth, live workers and job latency, read at scrape time."""

    def __init__(self, db: ServiceDB, dispatcher: Dispatcher) -> None:
        self.db = db
        self.dispatcher = dispatcher

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: nothing to collect at registration

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "reelproof_jobs", "Jobs in the database by status.", labels=["status"]
        )
        for status, n in self.db.count_by_status().items():
            jobs.add_metric([status], n)
        yield jobs
        depth = self.dispatcher.queue_depth()
        if depth is not None:
            yield GaugeMetricFamily(
                "reelproof_queue_depth",
                "Jobs waiting for a worker (broker queue or queued jobs).",
                value=depth,
            )
        yield GaugeMetricFamily(
            "reelproof_workers",
            "Analysis worker processes alive (embedded: this server's pool).",
            value=self.dispatcher.worker_count(),
        )
        yield self._latency()

    def _latency(self) -> HistogramMetricFamily:
        """Submission-to-verdict seconds of every finished job still stored."""
        latency = JOBS.c.finished_at - JOBS.c.created_at
        columns = [sa.func.sum(sa.case((latency <= b, 1), else_=0)) for b in LATENCY_BUCKETS]
        query = sa.select(*columns, sa.func.count(), sa.func.sum(latency)).where(
            JOBS.c.status.in_(("succeeded", "failed")), JOBS.c.finished_at.is_not(None)
        )
        with self.db.connect() as conn:
            row = conn.execute(query).one()
        total, seconds = int(row[-2] or 0), float(row[-1] or 0.0)
        buckets = [(str(b), float(n or 0)) for b, n in zip(LATENCY_BUCKETS, row[:-2], strict=True)]
        buckets.append(("+Inf", float(total)))
        return HistogramMetricFamily(
            "reelproof_job_latency_seconds",
            "Seconds from submission to verdict of the finished jobs in the database.",
            buckets=buckets,
            sum_value=seconds,
        )
