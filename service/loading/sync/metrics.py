"""Sync outcomes as Prometheus metrics, for the node exporter's textfile collector (the usual way a batch job
reports to Prometheus): ``advisor catalogue sync --metrics-file /var/lib/node_exporter/advisor_sync.prom``.

The file is written atomically (a temporary file renamed into place), so a scrape never reads half a file.
"""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from service.loading.sync.diff import SyncReport

__all__ = ["write_sync_metrics"]


def write_sync_metrics(path: Path, report: SyncReport, *, dry_run: bool, now: float | None = None) -> None:
    """Write the outcome of one sync run to ``path`` in the Prometheus text format."""
    registry = CollectorRegistry()
    Gauge("advisor_sync_last_run_timestamp_seconds", "When the last sync finished", registry=registry).set(
        time.time() if now is None else now
    )
    Gauge("advisor_sync_exit_status", "Exit status of the last sync (0: every model synced)", registry=registry).set(
        report.exit_status
    )
    models = Gauge("advisor_sync_models", "Models in the last sync by outcome", ["outcome"], registry=registry)
    models.labels("synced").set(sum(1 for r in report.results if r.synced))
    models.labels("failed").set(len(report.failed))
    models.labels("with_changes").set(len(report.to_write))
    models.labels("with_conflicts").set(sum(1 for r in report.results if r.conflicts))
    Gauge("advisor_sync_changes", "Changes proposed (dry run) or written by the last sync", registry=registry).set(
        sum(len(r.changes) for r in report.results)
    )
    written = Gauge("advisor_sync_written", "1 when the last sync wrote its changes", registry=registry)
    written.set(0 if dry_run or report.write_error or report.written is None else 1)
    write_to_textfile(str(path), registry)
