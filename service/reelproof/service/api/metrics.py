"""Prometheus metrics of the service (one registry per app, so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
            "Analyses finished, by outcome (succeeded, failed).",
            ["outcome"],
            registry=self.registry,
        )
        self.verdicts = Counter(
            "reelproof_verdicts", "Verdicts given, by label.", ["verdict"], registry=self.registry
        )
        self.stage_seconds = Histogram(
            "reelproof_analysis_stage_seconds",
            "Seconds per verification stage.",
            ["stage"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=self.registry,
        )
        self.jobs = Gauge(
            "reelproof_jobs", "Jobs in the database by status.", ["status"], registry=self.registry
        )
        self.rate_limited = Counter(
            "reelproof_rate_limited", "Requests refused with 429.", registry=self.registry
        )
        self.upload_bytes = Counter(
            "reelproof_upload_bytes", "Bytes of accepted uploads.", registry=self.registry
        )
