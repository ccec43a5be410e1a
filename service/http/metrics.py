"""Prometheus metrics, one registry per app (so that tests and reloads never collide).

Request counts and latency by route template (never the raw path: ids would explode the label set) and
status, decisions made, database failures, and the catalogue and rules versions served. Labels never carry
a key, a request body or a query string.

Several worker processes (``advisor serve --workers N``) count in files of one directory shared by them all
(``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's multiprocess mode, set by ``advisor serve``): a scrape, whichever
worker answers it, adds up every worker's counts, those of workers since replaced included. The versions served are
the answering worker's own (an information metric has no sum).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "MULTIPROCESS_ENV", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: The directory where several worker processes count (prometheus_client reads it when it is first imported).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The service's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "advisor_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "advisor_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.decisions = Counter("advisor_decisions_total", "Recommendations computed", registry=self.registry)
        self.database_errors = Counter(
            "advisor_database_errors_total", "Decision-record database failures", registry=self.registry
        )
        # Apart: in multiprocess mode the counts are read from the shared files, this one from this process.
        self._own = CollectorRegistry(auto_describe=True)
        self.data = Info("advisor_data", "Catalogue and rules versions served", registry=self._own)
        self.reloads = Counter(
            "advisor_reloads_total", "Catalogue and rules reloads by outcome", ["outcome"], registry=self.registry
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def set_versions(self, catalogue_version: str, rules_version: str, models: int) -> None:
        """Record the data versions now served."""
        self.data.info({"catalogue_version": catalogue_version, "rules_version": rules_version, "models": str(models)})

    def render(self) -> bytes:
        """The text exposition format: this process's metrics, or with several workers every worker's counts."""
        counts = self.registry
        if os.environ.get(MULTIPROCESS_ENV):
            counts = CollectorRegistry()
            MultiProcessCollector(counts)  # type: ignore[no-untyped-call]  # the library leaves it untyped
        return generate_latest(counts) + generate_latest(self._own)
