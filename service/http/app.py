"""The app factory: load catalogue and rules once, provide them by dependency injection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import get_args

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.plugins.pydantic import PydanticPlugin
from pydantic import BaseModel

from service import __version__
from service.domain.engine import Engine
from service.domain.requirements import Requirements
from service.http.boundary import RequestBoundary
from service.http.controllers import CatalogueController, HealthController, RecommendationController
from service.http.errors import EXCEPTION_HANDLERS, PROBLEM_SCHEMA
from service.http.openapi import document_request_bodies
from service.http.records import CompareController, CompareRequest, RecordController, StoreOpener
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

    boundary = RequestBoundary()
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
        before_request=boundary,
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
    document_request_bodies(app, loaded, [Requirements, CompareRequest])
    boundary.query_parameters = _query_parameters(app)
    boundary.learn_routes(app.routes)
    return app


def _query_parameters(app: Litestar) -> dict[str, frozenset[str]]:
    """Each operation id with the query parameter names its OpenAPI description declares."""
    declared: dict[str, frozenset[str]] = {}
    for item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method)
            if operation is not None and operation.operation_id:
                names = {
                    p.name for p in operation.parameters or [] if isinstance(p, Parameter) and p.param_in == "query"
                }
                declared[operation.operation_id] = frozenset(names)
    return declared


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
    """Make the OpenAPI document say what the service does: request sections refuse unknown fields, the
    recommendation body may be omitted (it means "no constraints"), and every error has the same body."""
    document = app.openapi_schema
    if document.components is None:
        document.components = Components()
    if document.components.schemas is None:
        document.components.schemas = {}
    schemas = document.components.schemas
    for name in _request_models(Requirements):
        if name in schemas:
            schemas[name].additional_properties = False
    schemas["Problem"] = PROBLEM_SCHEMA
    for route, item in (document.paths or {}).items():
        for method in ("get", "post"):
            operation = getattr(item, method)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            operation.responses = responses
            codes = {code for code in responses if code.startswith(("4", "5"))}
            if "{" in route:
                codes.add("404")
            if method == "post":
                codes |= {"400", "413", "422"}
            if route.startswith("/v1/recommendations") and route != "/v1/recommendations/{record_id}/report":
                codes.add("503")
            if route.endswith("/rerun"):
                responses["200"] = OpenAPIResponse(
                    description="That decision is already stored: the stored record",
                    content=responses["201"].content if isinstance(responses.get("201"), OpenAPIResponse) else None,
                )
            if route.endswith("/report"):
                codes |= {"400", "503"}
                responses["200"] = OpenAPIResponse(
                    description="The procurement report",
                    content={
                        "text/markdown": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                        "text/html": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                    },
                )
            for code in sorted(codes):
                responses[code] = OpenAPIResponse(
                    description=_ERROR_DESCRIPTIONS.get(code, "Error"),
                    content={
                        "application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
                    },
                )
    path = (document.paths or {}).get("/v1/recommendations")
    if path is not None and path.post is not None and isinstance(path.post.request_body, RequestBody):
        path.post.request_body.required = False


_ERROR_DESCRIPTIONS = {
    "400": "Malformed JSON, an unknown field, a wrong type or an out-of-range value; errors[] names each field",
    "404": "No such id",
    "413": "The request body is larger than the configured limit",
    "422": "Well-formed, but names an unknown profile, licence or model id; errors[] names the field",
    "503": "The decision-record store is unavailable",
}
