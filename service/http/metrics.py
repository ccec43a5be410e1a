"""Prometheus metrics, one registry per app (so that tests and reloads never collide).

Request counts and latency by route template (never the raw path: ids would explode the label set) and
status, decisions made, database failures, and the catalogue and rules versions served. Labels never carry
a key, a request body or a query string.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


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
        self.data = Info("advisor_data", "Catalogue and rules versions served", registry=self.registry)
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
        """The text exposition format."""
        return generate_latest(self.registry)
