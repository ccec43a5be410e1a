"""The app factory: load catalogue and rules once, provide them by dependency injection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import get_args

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import RequestBody
from litestar.plugins.pydantic import PydanticPlugin
from pydantic import BaseModel

from service import __version__
from service.domain.engine import Engine
from service.domain.requirements import Requirements
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

    app = Litestar(
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
    _document_strictness(app)
    return app


def _request_models(root: type[BaseModel]) -> set[str]:
    """Names of the pydantic models a request body is made of (the root and its nested sections)."""
    names, stack = set(), [root]
    while stack:
        model = stack.pop()
        if model.__name__ in names:
            continue
        names.add(model.__name__)
        for field in model.model_fields.values():
            for candidate in (field.annotation, *get_args(field.annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    stack.append(candidate)
    return names


def _document_strictness(app: Litestar) -> None:
    """Make the OpenAPI document say what the service does: request sections refuse unknown fields, and the
    recommendation body may be omitted (it means "no constraints")."""
    document = app.openapi_schema
    schemas = document.components.schemas if document.components and document.components.schemas else {}
    for name in _request_models(Requirements):
        if name in schemas:
            schemas[name].additional_properties = False
    path = (document.paths or {}).get("/v1/recommendations")
    if path is not None and path.post is not None and isinstance(path.post.request_body, RequestBody):
        path.post.request_body.required = False
