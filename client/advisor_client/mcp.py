"""``advisor mcp``: the advisor's API as Model Context Protocol tools, over stdio or streamable HTTP.

Every tool calls the HTTP API through :class:`AsyncAdvisorClient`, so an agent gets what the REST API answers:
each decision tool answers in the API's ``summary`` detail (unless the agent asks for ``detail: full``) with
``decision_url``, the stored decision where the full answer with every fact and source is kept.

Tools, and the request models their input JSON schemas are taken from:

    recommend       Requirements                       rank the catalogue (stores a decision; key scope write)
    explain_model   ExplainModelInput (model + Requirements)   "why not X?": X's status, rank and failing rules
    compare         CompareRequest                     2 to 6 models side by side
    get_model       ModelInput (a catalogue model id)  one model with every sourced fact
    list_licences   (no input)                         every licence the catalogue uses
    get_decision    DecisionInput (a record id)        a stored decision, in the same summary

Over HTTP, when the service has API keys configured (``ADVISOR_API_KEYS``), every MCP request needs one
(``Authorization: Bearer <key>``, 401 otherwise); that key is the one forwarded to the API, so its scope
applies. Over stdio, ``ADVISOR_API_KEY`` (or ``--api-key``) is used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor_client._client import AsyncAdvisorClient
from advisor_client.models import (
    CompareOut,
    CompareRequest,
    RecordedAnswer,
    RecordedSummary,
    RecordLink,
    Requirements,
)
from service.domain.answer import RuleOutcome
from service.domain.requirements import ModelId
from service.domain.summary import summarise_full
from service.http.security import KeyRing, presented_key

__all__ = [
    "DecisionInput",
    "ExplainModelInput",
    "ModelInput",
    "build_server",
    "compare_summary",
    "decision_summary",
    "explain_summary",
    "http_app",
    "run_http",
    "run_stdio",
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExplainModelInput(_Input):
    """Why a model is (or is not) recommended under the given requirements."""

    model: ModelId = Field(description="The catalogue model id to explain (Hugging Face repo id, owner/name).")
    requirements: Requirements | None = Field(
        default=None, description="Same schema as the recommend tool; none means no constraints."
    )


class ModelInput(_Input):
    """One catalogue model."""

    model: ModelId = Field(description="The catalogue model id (Hugging Face repo id, owner/name).")


class DecisionInput(_Input):
    """One stored decision."""

    record_id: str = Field(
        min_length=1, max_length=100, description="A decision record id (rec_ followed by 32 hex digits)."
    )


class _NoInput(_Input):
    """No arguments."""


def _outcome(outcome: RuleOutcome) -> dict[str, Any]:
    return {"rule_id": outcome.rule_id, "outcome": outcome.outcome, "message": outcome.message}


def decision_summary(answer: RecordedSummary | RecordedAnswer, base_url: str) -> dict[str, Any]:
    """The API's answer as an agent gets it, with ``decision_url``: the stored decision, every fact and source.

    A full answer (asked for with ``detail: full``, or a stored decision) is summarised as the API summarises it,
    so every decision tool answers in one form unless the agent asks for ``full``.
    """
    url = base_url + answer.record.links["self"]
    if isinstance(answer, RecordedAnswer):
        body = summarise_full(answer).model_dump(mode="json", exclude_none=True)
        link = RecordLink(
            id=answer.record.id, stored_at=answer.record.stored_at, links={"self": answer.record.links["self"]}
        )
        record = link.model_dump(mode="json")
        return {**body, "record": record, "superseded": answer.record.superseded, "decision_url": url}
    return {**answer.model_dump(mode="json", exclude_none=True), "decision_url": url}


def explain_summary(answer: RecordedSummary | RecordedAnswer, model_id: str, base_url: str) -> dict[str, Any]:
    """The model's own assessment ("why not X?") first, then the decision it was judged in."""
    summary = decision_summary(answer, base_url)
    found = [item for item in summary["explained"] if item["model_id"] == model_id]
    return {"model": found[0] if found else None, **summary}


def compare_summary(answer: CompareOut) -> dict[str, Any]:
    """Each compared model's assessment, with its criteria values (the catalogue entries are left out)."""
    return {
        "evaluated_on": answer.evaluated_on.isoformat(),
        "catalogue_version": answer.catalogue_version,
        "rules_version": answer.rules_version,
        "profile": answer.profile,
        "criteria": answer.criteria,
        "models": [
            {
                "model_id": item.model_id,
                "name": item.name,
                "status": item.status,
                "rank": item.rank,
                "score": item.score,
                "licence": item.licence,
                "criteria": {score.criterion: score.value for score in item.criteria},
                "fails": [_outcome(outcome) for outcome in item.fails],
                "caveats": sorted({caveat.kind for caveat in item.caveats}),
            }
            for item in answer.models
        ],
        "disclaimer": answer.disclaimer,
    }


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


_TOOLS: dict[str, tuple[type[BaseModel], str]] = {
    "recommend": (
        Requirements,
        "Rank open-weight LLMs against an organisation's requirements (licence, privacy, hardware, workload, "
        "compliance, use cases). Answers with the shortlist, each model's main reasons and caveats, and a link to "
        "the stored decision with every fact and source.",
    ),
    "explain_model": (
        ExplainModelInput,
        "Why is (or isn't) a model recommended? Runs the requirements with the model explained and answers with "
        "its status (recommended, eligible, excluded), rank, score and every rule it fails, with the shortlist.",
    ),
    "compare": (CompareRequest, "Compare 2 to 6 catalogue models on every criterion and rule."),
    "get_model": (ModelInput, "One catalogue model with every sourced fact (licence, context, hardware, offers)."),
    "list_licences": (_NoInput, "Every licence the catalogue uses, with its kind and duties."),
    "get_decision": (DecisionInput, "A stored decision by its record id, summarised like recommend."),
}


def build_server(
    client_for_request: Callable[[Server[Any, Any]], AsyncAdvisorClient], base_url: str
) -> Server[Any, Any]:
    """The MCP server; ``client_for_request`` gives the API client for the current MCP request."""
    server: Server[Any, Any] = Server("open-model-advisor")

    @server.list_tools()  # type: ignore[no-untyped-call, untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return [
            types.Tool(name=name, description=description, inputSchema=_schema(model))
            for name, (model, description) in _TOOLS.items()
        ]

    async def recommend(client: AsyncAdvisorClient, arguments: dict[str, Any]) -> dict[str, Any]:
        answer = await client.create_recommendation(arguments)
        return decision_summary(answer, base_url)

    async def explain_model(client: AsyncAdvisorClient, arguments: dict[str, Any]) -> dict[str, Any]:
        request = ExplainModelInput.model_validate_json(json.dumps(arguments))
        requirements = request.requirements or Requirements()
        explain = sorted({*requirements.explain, request.model})
        answer = await client.create_recommendation(requirements.model_copy(update={"explain": explain}))
        return explain_summary(answer, request.model, base_url)

    async def compare(client: AsyncAdvisorClient, arguments: dict[str, Any]) -> dict[str, Any]:
        return compare_summary(await client.compare_models(arguments))

    async def get_model(client: AsyncAdvisorClient, arguments: dict[str, Any]) -> dict[str, Any]:
        request = ModelInput.model_validate_json(json.dumps(arguments))
        return (await client.get_model(request.model)).model_dump(mode="json", exclude_none=True)

    async def list_licences(client: AsyncAdvisorClient, arguments: dict[str, Any]) -> dict[str, Any]:
        return await client.list_licences()

    async def get_decision(client: AsyncAdvisorClient, arguments: dict[str, Any]) -> dict[str, Any]:
        request = DecisionInput.model_validate_json(json.dumps(arguments))
        return decision_summary(await client.get_recommendation(request.record_id), base_url)

    handlers: dict[str, Callable[[AsyncAdvisorClient, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
        "recommend": recommend,
        "explain_model": explain_model,
        "compare": compare,
        "get_model": get_model,
        "list_licences": list_licences,
        "get_decision": get_decision,
    }

    # Arguments are validated here by the tool's pydantic model rather than by the SDK's JSON Schema check, so
    # that a refusal names each field, as the API's own refusals do.
    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        handler = handlers.get(name)
        if handler is None:
            raise ValueError(f"unknown tool {name!r}; tools: {', '.join(handlers)}")
        try:
            _TOOLS[name][0].model_validate_json(json.dumps(arguments or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(arguments)'}: {error['msg']}"
                for error in exc.errors()
            )
            raise ValueError(f"invalid arguments for {name}: {problems}") from None
        async with client_for_request(server) as client:
            return await handler(client, arguments)

    return server


def run_stdio(base_url: str | None, api_key: str | None) -> None:
    """Serve over stdin/stdout (an agent host starts this process), calling the API with ``api_key``."""
    import anyio
    from mcp.server.stdio import stdio_server

    probe = AsyncAdvisorClient(base_url, api_key)
    url = probe.base_url
    server = build_server(lambda _: AsyncAdvisorClient(url, api_key), url)

    async def main() -> None:
        await probe.aclose()
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def http_app(base_url: str | None, api_key: str | None, keys: KeyRing | None) -> Any:
    """The streamable HTTP app (``/mcp``). With ``keys``, each request must present one of them."""
    import contextlib

    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount
    from starlette.types import Receive, Scope, Send

    url = AsyncAdvisorClient(base_url, api_key).base_url

    def client_for_request(server: Server[Any, Any]) -> AsyncAdvisorClient:
        request = server.request_context.request
        presented = presented_key(request.headers) if isinstance(request, Request) else None
        # With keys configured the caller's own key is forwarded, so its scope applies at the API.
        return AsyncAdvisorClient(url, presented if keys is not None else api_key)

    manager = StreamableHTTPSessionManager(app=build_server(client_for_request, url), stateless=True)

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if keys is not None:
            presented = presented_key(Request(scope).headers)
            if presented is None or keys.identify(presented) is None:
                body = {
                    "status": 401,
                    "title": "Unauthorized",
                    "detail": "this MCP server needs an API key: send Authorization: Bearer <key>",
                    "errors": [{"field": "Authorization", "problem": "missing or unknown API key"}],
                }
                response = JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Starlette(routes=[Mount("/mcp", app=handle)], lifespan=lifespan)


def run_http(base_url: str | None, api_key: str | None, keys: KeyRing | None, host: str, port: int) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp/``."""
    import uvicorn

    uvicorn.run(http_app(base_url, api_key, keys), host=host, port=port, log_level="warning")
