"""The app factory: load catalogue and rules once, provide them by dependency injection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.pydantic import PydanticPlugin

from service import __version__
from service.domain.engine import Engine
from service.http.controllers import CatalogueController, HealthController, RecommendationController
from service.http.errors import EXCEPTION_HANDLERS
from service.http.records import CompareController, RecordController, StoreOpener
from service.loading.engine import build_engine
from service.settings import Settings, get_settings
from service.storage import DecisionStore

__all__ = ["create_app"]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], dt.date] = _today,
    records: DecisionStore | None = None,
) -> Litestar:
    """Build the app. Loading fails loudly (path, field, problem) if any data file is invalid.

    Decision records go to ``records`` if given, else to ``settings.database_url`` (opened on first use).
    """
    settings = settings or get_settings()
    loaded = engine or build_engine(settings.catalogue_dir, settings.rules_dir)

    def provide_engine() -> Engine:
        return loaded

    def provide_clock() -> Callable[[], dt.date]:
        return clock

    open_records = StoreOpener(settings.database_url, records)

    def provide_records() -> DecisionStore:
        return open_records()

    return Litestar(
        route_handlers=[
            RecommendationController,
            RecordController,
            CompareController,
            CatalogueController,
            HealthController,
        ],
        on_shutdown=[open_records.close],
        dependencies={
            "engine": Provide(provide_engine, sync_to_thread=False),
            "clock": Provide(provide_clock, sync_to_thread=False),
            "records": Provide(provide_records, sync_to_thread=False),
        },
        plugins=[PydanticPlugin(validate_strict=True)],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Open-model selection advisor",
            version=__version__,
            description=(
                "Ranks open-weight LLMs against an organisation's requirements (IP, privacy, customisation, "
                "task fit, hardware, cost) with sourced, dated reasons. Decision support, not legal advice."
            ),
            path="/schema",
        ),
    )
