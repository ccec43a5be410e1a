"""The app factory: load catalogue and rules once, provide them by dependency injection.

The web pages (``service.web``) are one router on the same app, with their templates, CSRF protection
(the JSON API is excluded) and HTML error pages. Around the routes: API-key guards
(``service.http.security``), per-key rate limits, CORS when origins are configured, a request context for
every request (allowed hosts, request id, security headers, one log line, metrics), and a decision-record
store opened at start-up behind deadlines and a circuit breaker.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, get_args

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin
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
from service.http.admin import AdminController, EngineHolder, MetricsController
from service.http.boundary import RequestBoundary
from service.http.controllers import CatalogueController, HealthController, RecommendationController
from service.http.errors import EXCEPTION_HANDLERS, PROBLEM_SCHEMA
from service.http.metrics import Metrics
from service.http.openapi import document_request_bodies
from service.http.ratelimit import (
    SharedRateLimitConfig,
    SharedWindows,
    ended_windows_purged,
    shared_rate_limit_file,
)
from service.http.records import CompareController, CompareRequest, Decider, RecordController
from service.http.security import SECURITY_HANDLERS, KeyRing, RequestContext, rate_limit_identifier, scope_guard
from service.loading.engine import build_engine
from service.loading.files import DataFiles
from service.settings import Settings, get_settings
from service.storage import DataVersion, DecisionArchive, DecisionStore, GuardedStore, open_store

__all__ = ["API_VIEWER", "create_app"]

#: The OpenAPI viewer at ``/schema``: Redoc at a pinned version (never ``latest``), allowed by the page's CSP.
API_VIEWER = RedocRenderPlugin(
    version="2.1.5", js_url="https://cdn.jsdelivr.net/npm/redoc@2.1.5/bundles/redoc.standalone.js"
)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], dt.date] = _today,
    records: DecisionStore | None = None,
    sources: tuple[DataFiles, DataFiles] | None = None,
) -> Litestar:
    """Build the app. Loading fails loudly (path, field, problem) if any data file is invalid.

    Decision records go to ``records`` if given, else to ``settings.database_url``, opened at start-up.
    ``sources`` are the catalogue and rules files a given ``engine`` was built from (as read by
    :func:`build_engine`), archived with its records without reading the directories again.
    """
    settings = settings or get_settings()
    metrics = Metrics()
    given = records

    def open_records() -> DecisionStore:
        if given is not None:
            return given
        return open_store(
            settings.database_url,
            connect_timeout_s=settings.database_connect_timeout_s,
            statement_timeout_s=settings.database_statement_timeout_s,
        )

    store = GuardedStore(
        open_records,
        deadline_s=settings.database_deadline_s,
        retry_after_s=settings.database_retry_after_s,
        on_failure=lambda _: metrics.database_errors.inc(),
        owns_store=given is None,
    )
    holder: EngineHolder | None = None
    archive = DecisionArchive(
        store, lambda: _current(holder), lambda catalogue, rules: build_engine(catalogue, rules, settings.cache_dir)
    )

    def archive_versions(served: Engine, files: tuple[DataFiles, DataFiles] | None = None) -> None:
        # Keep the files only if they are what the engine was built from: the bytes it was loaded from, or else
        # the directories read now (a file edited since, or an engine given by a test, is not archived: its
        # records keep their answer).
        if files is None:
            files = DataFiles.read(settings.catalogue_dir), DataFiles.read(settings.rules_dir)
        catalogue, rules = files
        if (catalogue.digest, rules.digest) == (served.catalogue_version, served.rules_version):
            # The files are in version order and the digest is the version's (``DataVersion.of`` would sort and
            # hash them again to the same result).
            archive.register(
                DataVersion(kind="catalogue", digest=catalogue.digest, files=catalogue.files),
                DataVersion(kind="rules", digest=rules.digest, files=rules.files),
            )

    def build() -> Engine:
        files = DataFiles.read(settings.catalogue_dir), DataFiles.read(settings.rules_dir)
        fresh = build_engine(*files, settings.cache_dir)
        archive_versions(fresh, files)
        if holder is not None:  # a reload: the engine it replaces stays built for its records
            archive.keep(holder.current)
        return fresh

    holder = EngineHolder(engine or build(), build, metrics)
    if engine is not None:
        archive_versions(engine, sources)

    def provide_engine() -> Engine:
        return holder.current

    def provide_holder() -> EngineHolder:
        return holder

    def provide_clock() -> Callable[[], dt.date]:
        return clock

    def provide_records() -> DecisionStore:
        return store

    def provide_archive() -> DecisionArchive:
        return archive

    boundary = RequestBoundary()

    def provide_metrics() -> Metrics:
        return metrics

    decider = Decider(provide_engine, clock, store, archive, metrics)

    def provide_decider() -> Decider:
        return decider

    def on_startup() -> None:
        # Connect (and migrate) once, before serving; a database that is down does not stop the service:
        # its routes answer 503 and retry later, everything else keeps working.
        store.open_now()
        _apply_retention(store, settings)
        # Long-lived from here on (routes, the OpenAPI document, templates, the store): with the loaded data
        # (frozen by the load), out of the collector's passes, so a full collection during a request scans only
        # what requests made (see ``service.loading.engine.collector_paused``).
        gc.collect()
        gc.freeze()

    # Imported here: the pages import parts of service.http (records, security), which imports this module.
    from service.web import build_web

    ring = KeyRing(tuple(settings.api_keys)) if settings.auth_enabled else None
    web = build_web(settings, ring)
    middleware = []
    closing: list[Callable[[], None]] = [store.close]  # on shutdown
    lifespan: list[Callable[[Litestar], AbstractAsyncContextManager[None]]] = []
    if settings.rate_limit_per_minute > 0:
        limit: dict[str, Any] = {
            "rate_limit": ("minute", settings.rate_limit_per_minute),
            "exclude": [r"^/health$", r"^/ready$", r"^/metrics$"],
            "identifier_for_request": rate_limit_identifier(ring),
        }
        # One of several worker processes: the workers count in one file, so the limit holds for them all.
        shared = shared_rate_limit_file()
        if shared:
            windows = SharedWindows(shared)
            closing.append(windows.close)
            middleware.append(SharedRateLimitConfig(**limit, windows=windows).middleware)
        else:
            config = RateLimitConfig(**limit)
            middleware.append(config.middleware)
            lifespan.append(ended_windows_purged(config.store))
    app = Litestar(
        route_handlers=[
            RecommendationController,
            RecordController,
            CompareController,
            CatalogueController,
            HealthController,
            AdminController,
            MetricsController,
            web.router,
        ],
        on_startup=[on_startup],
        on_shutdown=closing,
        lifespan=lifespan,
        guards=[scope_guard(ring, session=web.access.session_key)],
        middleware=middleware,
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        dependencies={
            "engine": Provide(provide_engine, sync_to_thread=False),
            "holder": Provide(provide_holder, sync_to_thread=False),
            "clock": Provide(provide_clock, sync_to_thread=False),
            "records": Provide(provide_records, sync_to_thread=False),
            "archive": Provide(provide_archive, sync_to_thread=False),
            "metrics": Provide(provide_metrics, sync_to_thread=False),
            "decider": Provide(provide_decider, sync_to_thread=False),
        },
        plugins=[PydanticPlugin(validate_strict=True)],
        exception_handlers=web.exception_handlers({**EXCEPTION_HANDLERS, **SECURITY_HANDLERS}),
        template_config=web.template_config,
        csrf_config=web.csrf_config,
        before_request=boundary,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Open-model selection advisor",
            version=__version__,
            description=(
                "Ranks open-weight LLMs against an organisation's requirements (IP, privacy, customisation, "
                "task fit, hardware, cost) with sourced, dated reasons. Decision support, not legal advice. "
                "When API keys are configured, every /v1 route needs one (Authorization: Bearer <key> or "
                "X-API-Key) with the scope the route names: read, write (creates records) or admin."
            ),
            path="/schema",
            render_plugins=[API_VIEWER, JsonRenderPlugin()],
        ),
    )
    app.state["records"] = store
    app.state["archive"] = archive
    _document_strictness(app)
    document_request_bodies(app, holder.current, [Requirements, CompareRequest])
    boundary.query_parameters = _query_parameters(app)
    boundary.learn_routes(app.routes)
    # Outermost: every request, routed or not, gets the host check, request id, headers, log line and metrics.
    app.asgi_handler = RequestContext(app.asgi_handler, allowed_hosts=settings.allowed_hosts, metrics=metrics)
    return app


def _current(holder: EngineHolder | None) -> Engine:
    if holder is None:  # pragma: no cover - records are read only once the app serves
        raise RuntimeError("no engine is loaded yet")
    return holder.current


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


def _apply_retention(store: DecisionStore, settings: Settings) -> None:
    """Prune records past the configured age or count (at start-up; ``advisor records prune`` does it on demand)."""
    if settings.record_retention_days is None and settings.record_retention_count is None:
        return
    older_than = (
        dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.record_retention_days)
        if settings.record_retention_days is not None
        else None
    )
    try:
        store.prune(older_than=older_than, keep_newest=settings.record_retention_count)
    except Exception:
        return


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
        for method in ("get", "post", "delete"):
            operation = getattr(item, method)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            operation.responses = responses
            codes = {code for code in responses if code.startswith(("4", "5"))}
            if "{" in route:
                codes.add("404")
            if route.startswith("/v1"):
                codes |= {"401", "403", "429"}
            if method == "post":
                codes |= {"400", "413", "422"}
            if route.startswith("/v1/recommendations") and route != "/v1/recommendations/{record_id}/report":
                codes.add("503")
            if route.endswith("/rerun"):
                responses["200"] = OpenAPIResponse(
                    description="That decision is already stored: the stored record",
                    content=responses["201"].content if isinstance(responses.get("201"), OpenAPIResponse) else None,
                )
            if route in {"/v1/recommendations/{record_id}", "/v1/recommendations/{record_id}/rerun"} or (
                route == "/v1/recommendations" and method == "post"
            ):
                codes.add("409")
            if route.endswith("/report"):
                codes |= {"400", "409", "503"}
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
    "401": "API keys are configured and the request has no valid key (Authorization: Bearer or X-API-Key)",
    "403": "The key's scope does not allow this route (read < write < admin)",
    "413": "The request body is larger than the configured limit",
    "429": "Too many requests for this key or address; see Retry-After",
    "422": "Well-formed, but names an unknown profile, licence or model id; errors[] names the field",
    "409": "The stored decision cannot be rebuilt exactly (a data version it names is missing or no longer "
    "loads, or the rebuilt decision's or answer's digest differs from the stored one); detail names which. Re-run it",
    "503": "The decision-record store is unavailable; see Retry-After",
}
