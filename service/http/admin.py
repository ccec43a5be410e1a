"""Operations: reload catalogue and rules, metrics. Admin routes need the ``admin`` scope (deleting a record,
also admin, lives with the other record routes in ``service.http.records``)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anyio import to_thread
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency

from service.domain.engine import Engine
from service.domain.errors import DataError
from service.http.errors import problem
from service.http.metrics import CONTENT_TYPE, Metrics
from service.supervisor import restart_workers

__all__ = ["AdminController", "EngineHolder", "MetricsController"]


class EngineHolder:
    """The engine now served. A reload builds a new one aside and swaps it in whole; a request keeps the engine
    it started with, so no answer mixes two catalogues."""

    def __init__(self, engine: Engine, build: Callable[[], Engine], metrics: Metrics) -> None:
        self._engine = engine
        self._build = build
        self._metrics = metrics
        self._reloading = threading.Lock()
        metrics.set_versions(engine.catalogue_version, engine.rules_version, len(engine.catalogue.models))

    @property
    def current(self) -> Engine:
        """The engine to answer with."""
        return self._engine

    def reload(self) -> Engine:
        """Re-read and validate both directories, then swap; raises :class:`DataError` and keeps the old data."""
        with self._reloading:
            try:
                fresh = self._build()
            except DataError:
                self._metrics.reloads.labels("refused").inc()
                raise
            self._engine = fresh
            self._metrics.reloads.labels("swapped").inc()
            self._metrics.set_versions(fresh.catalogue_version, fresh.rules_version, len(fresh.catalogue.models))
            return fresh


class AdminController(Controller):
    """Operator actions (scope ``admin``)."""

    path = "/v1"
    tags = ["operations"]
    opt = {"scope": "admin"}

    @post(
        "/admin/reload",
        operation_id="reloadData",
        summary="Re-read catalogue and rules and swap them in",
        description=(
            "Validates every file first. Invalid data is refused with 422 naming each file, field and problem, "
            "and the data already loaded keeps serving. With several worker processes (`advisor serve --workers "
            "N`), the worker that takes this request swaps the data in and asks the supervisor to replace every "
            "worker, one at a time, each new one loading the data before the old one stops (`restarting_workers`: "
            "true); until that is done, other workers may still answer from the data they had."
        ),
        status_code=200,
    )
    async def reload(self, holder: NamedDependency[EngineHolder]) -> Response[Any]:
        previous = holder.current
        try:
            fresh = await to_thread.run_sync(holder.reload)
        except DataError as exc:
            errors = [
                {"field": f"{Path(path).name}: {field}", "problem": message} for path, field, message in exc.problems
            ]
            return problem(422, "Invalid data files", "the new data was refused; the loaded data keeps serving", errors)
        # With several workers, every one is replaced, each new one loading the data validated now.
        restarting = restart_workers()
        return Response(
            {
                "status": "reloaded",
                "models": len(fresh.catalogue.models),
                "catalogue_version": fresh.catalogue_version,
                "rules_version": fresh.rules_version,
                "changed": {
                    "catalogue": fresh.catalogue_version != previous.catalogue_version,
                    "rules": fresh.rules_version != previous.rules_version,
                },
                "reloaded_at": dt.datetime.now(dt.UTC).isoformat(),
                "restarting_workers": restarting,
            }
        )


class MetricsController(Controller):
    """Prometheus metrics (open, like health and readiness: labels carry no secrets)."""

    tags = ["operations"]

    # Documented as text/plain (the exposition format); Litestar adds the charset to a text/* media type itself.
    @get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        include_in_schema=True,
        media_type=CONTENT_TYPE.removesuffix("; charset=utf-8"),
    )
    async def metrics(self, metrics: NamedDependency[Metrics]) -> Response[bytes]:
        return Response(metrics.render(), media_type=CONTENT_TYPE.removesuffix("; charset=utf-8"))
