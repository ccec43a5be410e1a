"""Controllers: parse, call the domain, return. Errors are mapped in ``service.http.errors``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from anyio import to_thread
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.serialization import encode_json, get_serializer

from service.domain.engine import Engine
from service.domain.errors import UnknownModelError
from service.domain.requirements import Requirements
from service.http.records import (
    Decider,
    RecordedAnswer,
    RecordedSummary,
    RecordPage,
    answer_response,
    record_page,
)
from service.http.resources import (
    CatalogueViews,
    LicenceOut,
    ModelOut,
    ProfileOut,
    catalogue_views,
    licence_out,
    profile_out,
)
from service.http.security import key_name
from service.storage import DecisionStore, StorageError, StorageUnavailableError

__all__ = ["CatalogueController", "HealthController", "RecommendationController"]

Clock = Callable[[], dt.date]
#: A path segment naming a catalogue or rules id; longer ones are refused (400) rather than looked up and echoed.
IdSegment = Annotated[str, PathParameter(min_length=1, max_length=100)]


class RecommendationController(Controller):
    """Recommendations: requirements in, a ranked and explained decision out."""

    path = "/v1/recommendations"
    tags = ["recommendations"]

    @post(
        "/",
        operation_id="createRecommendation",
        summary="Rank the catalogue against requirements",
        description=(
            "Every section is optional; an empty body means no constraints and the default (balanced) profile. "
            "Unknown fields are refused. `detail` (default `summary`) sizes the answer: `summary` gives each "
            "recommendation in brief, citing its evidence by id from one `evidence` list; `full` names, for every "
            "recommendation and exclusion, the rule and the facts it rests on, each fact (with its source and date) "
            "listed once in `evidence` and cited by id. Both count exclusions by rule; `exclusions` (default "
            "`by_rule`) lists the first 25 excluded models when there are more, `all` every one. Every decision is "
            "stored as a record (its `id` is a content hash: the same request on the same day with the same "
            "catalogue and rules gives the same id) that is fetched in full detail with every exclusion, and the "
            "answer carries a `record` object with links to fetch it, report on it and re-run it. The record holds "
            "the requirements, the data versions, the date and the digest of the decision (order, scores, rule "
            "verdicts, trade-offs); the whole answer's bytes are fixed when it is first served. The answer is sent "
            "only after its record has committed, so an id a caller received survives a crash of the service; "
            "concurrent requests share one commit. 503 (no id given) when the records database cannot take the "
            "write within its deadline; the record may still be stored, and sending the request again is harmless. "
            "409 when this decision is already stored with another digest (this version decides differently)."
        ),
        status_code=200,
        opt={"scope": "write"},
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        decider: NamedDependency[Decider],
        data: JSONBody[Requirements | None] = None,
    ) -> Response[RecordedSummary | RecordedAnswer]:
        requirements = data or Requirements()
        decision, decided = await decider.decide(requirements, key_name(request))
        return answer_response(  # type: ignore[return-value]
            decision, decided, requirements.detail, requirements.exclusions
        )

    @get("/", operation_id="listRecommendations", summary="List stored decisions, newest first", sync_to_thread=True)
    def list_records(
        self,
        engine: NamedDependency[Engine],
        records: NamedDependency[DecisionStore],
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="Records per page.")] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000_000, description="Records to skip.")] = 0,
    ) -> RecordPage:
        return record_page(engine, records, limit, offset)


class CatalogueController(Controller):
    """The catalogue and the rules it is judged by."""

    path = "/v1"
    tags = ["catalogue"]

    @get("/models", operation_id="listModels", summary="List catalogue models, optionally filtered")
    async def list_models(
        self,
        request: Request[Any, Any, Any],
        engine: NamedDependency[Engine],
        family: Annotated[str | None, QueryParameter(max_length=100, description="Model family, e.g. Qwen")] = None,
        organisation: Annotated[
            str | None, QueryParameter(max_length=100, description="Organisation id, e.g. deepseek-ai")
        ] = None,
        licence: Annotated[str | None, QueryParameter(max_length=100, description="Licence id, e.g. mit")] = None,
        licence_kind: Annotated[Literal["permissive", "copyleft", "custom"] | None, QueryParameter()] = None,
        origin_country: Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{2}$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000_000)] = 0,
    ) -> Response[dict[str, Any]]:
        views = _views(engine, request)
        listed = [
            m
            for m in views.listed
            if (family is None or m.family == family.lower())
            and (organisation is None or m.organisation == organisation)
            and (licence is None or m.licence == licence)
            and (licence_kind is None or m.licence_kind == licence_kind)
            and (origin_country is None or m.origin_country == origin_country)
        ]
        return _json(views.models(listed, offset, limit))

    @get("/models/{owner:str}/{name:str}", operation_id="getModel", summary="One model with every sourced fact")
    async def get_model(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine], owner: IdSegment, name: IdSegment
    ) -> Response[ModelOut]:
        model_id = f"{owner}/{name}"
        if model_id not in engine.catalogue.models:
            raise UnknownModelError("model", model_id)
        return _json(_views(engine, request).model(model_id))

    @get("/licences", operation_id="listLicences", summary="Every licence the catalogue uses")
    async def list_licences(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine]
    ) -> Response[dict[str, Any]]:
        def build() -> dict[str, Any]:
            items = [licence_out(engine.rules.licences[i]) for i in sorted(engine.rules.licences)]
            return {"count": len(items), "items": items, "rules_version": engine.rules_version}

        return _json(_views(engine, request).written("licences", build))

    @get("/licences/{licence_id:str}", operation_id="getLicence", summary="One licence and its duties")
    async def get_licence(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine], licence_id: IdSegment
    ) -> Response[LicenceOut]:
        licence = engine.rules.licences.get(licence_id)
        if licence is None:
            raise UnknownModelError("licence", licence_id)
        return _json(_views(engine, request).written(f"licences/{licence_id}", lambda: licence_out(licence)))

    @get("/profiles", operation_id="listProfiles", summary="Named weight sets")
    async def list_profiles(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine]
    ) -> Response[dict[str, Any]]:
        def build() -> dict[str, Any]:
            items = [profile_out(engine.rules.profiles[i]) for i in sorted(engine.rules.profiles)]
            return {"count": len(items), "items": items, "default": engine.rules.policy.default_profile}

        return _json(_views(engine, request).written("profiles", build))

    @get("/profiles/{profile_id:str}", operation_id="getProfile", summary="One profile")
    async def get_profile(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine], profile_id: IdSegment
    ) -> Response[ProfileOut]:
        profile = engine.rules.profiles.get(profile_id)
        if profile is None:
            raise UnknownModelError("profile", profile_id)
        return _json(_views(engine, request).written(f"profiles/{profile_id}", lambda: profile_out(profile)))

    @get("/rules", operation_id="listRules", summary="Eligibility rules and scoring criteria")
    async def list_rules(
        self, request: Request[Any, Any, Any], engine: NamedDependency[Engine]
    ) -> Response[dict[str, Any]]:
        def build() -> dict[str, Any]:
            return {
                "rules_version": engine.rules_version,
                "eligibility": [
                    engine.rules.eligibility[i].model_dump(mode="json") for i in sorted(engine.rules.eligibility)
                ],
                "criteria": [
                    engine.rules.criteria[i].model_dump(mode="json", exclude_none=True)
                    for i in sorted(engine.rules.criteria)
                ],
            }

        return _json(_views(engine, request).written("rules", build))


def _views(engine: Engine, request: Request[Any, Any, Any]) -> CatalogueViews:
    """The engine's catalogue answers, written (when first asked for) with the route's own serialiser (looked up
    only when the engine's views are made)."""

    def encoder() -> Callable[[Any], bytes]:
        serializer = get_serializer(request.route_handler.resolve_type_encoders())
        return lambda value: encode_json(value, serializer)

    return catalogue_views(engine, encoder)


def _json(body: bytes) -> Response[Any]:
    return Response(body, media_type=MediaType.JSON)


class HealthController(Controller):
    """Liveness and readiness."""

    tags = ["operations"]

    @get("/health", operation_id="health", summary="The process is up")
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        operation_id="ready",
        summary="Catalogue and rules are loaded and a decision record can be written",
        description="503 with `reasons` when the decision-records database cannot take a write now.",
    )
    async def ready(
        self, engine: NamedDependency[Engine], records: NamedDependency[DecisionStore]
    ) -> Response[dict[str, Any]]:
        body: dict[str, Any] = {
            "status": "ready",
            "models": len(engine.catalogue.models),
            "catalogue_version": engine.catalogue_version,
            "rules_version": engine.rules_version,
            "database": "ready",
        }
        try:
            await to_thread.run_sync(records.check_writable)
        except StorageUnavailableError:
            body |= {"status": "not ready", "database": "unavailable: it failed recently or did not answer in time"}
        except StorageError:
            body |= {"status": "not ready", "database": "unavailable: a write could not be committed"}
        return Response(body, status_code=200 if body["status"] == "ready" else 503)
