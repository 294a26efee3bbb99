"""Prometheus metrics of the collector, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_ACCEPTED = Counter("pricelens_events_accepted_total", "Events stored", ["service"], registry=REGISTRY)
EVENTS_DUPLICATE = Counter(
    "pricelens_events_duplicate_total",
    "Events dropped as duplicates of a stored event_id",
    ["service"],
    registry=REGISTRY,
)
EVENTS_REJECTED = Counter(
    "pricelens_events_rejected_total", "Events refused by validation", ["service"], registry=REGISTRY
)
REQUEST_LATENCY = Histogram(
    "pricelens_request_duration_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DATABASE_ERRORS = Counter(
    "pricelens_database_errors_total",
    "Requests that failed because the database was unavailable",
    registry=REGISTRY,
)
SCHEDULER_RUNS = Counter(
    "pricelens_scheduler_runs_total", "Job runs by job and final status", ["job", "status"], registry=REGISTRY
)
