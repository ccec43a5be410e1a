"""`advisor mcp` driven by the MCP SDK's own client over stdio; each tool answers as the REST API does."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
from advisor_client import AdvisorClient
from advisor_client.mcp import DecisionInput, ExplainModelInput, ModelInput
from advisor_client.models import CompareRequest, RecordedSummary, Requirements
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult

from tests.client.conftest import Served

MODELS = ["deepseek-ai/DeepSeek-V3.2", "Qwen/Qwen3-Coder-30B-A3B-Instruct"]
REQUIREMENTS = {"use_cases": ["coding"], "limit": 3, "ip": {"licence_kinds": ["permissive"]}}


def _advisor() -> list[str]:
    script = shutil.which("advisor", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "service.cli"]


def _structured(result: CallToolResult) -> Any:
    assert not result.isError, result.content
    return result.structuredContent


def _run_tools(served: Served, calls: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], list[Any]]:
    command, *args = _advisor()
    params = StdioServerParameters(
        command=command,
        args=[*args, "mcp", "--transport", "stdio", "--url", served.url],
        env={**served.env, "ADVISOR_API_KEY": served.keys["write"]},
    )

    async def run() -> tuple[dict[str, Any], list[Any]]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool.inputSchema for tool in (await session.list_tools()).tools}
            results = [await session.call_tool(name, arguments) for name, arguments in calls]
            return tools, results

    return asyncio.run(run())


def test_each_tool_answers_as_the_rest_api_does_for_the_same_input(served: Served) -> None:
    with AdvisorClient(served.url, served.keys["write"]) as rest:
        decision = rest.create_recommendation(REQUIREMENTS)
        assert isinstance(decision, RecordedSummary)
        outsider = MODELS[0]
        explained = rest.create_recommendation({**REQUIREMENTS, "explain": [outsider]})
        assert isinstance(explained, RecordedSummary)
        comparison = rest.compare_models({"models": MODELS})
        model = rest.get_model(MODELS[1])
        licences = rest.list_licences()
    tools, results = _run_tools(
        served,
        [
            ("recommend", REQUIREMENTS),
            ("explain_model", {"model": outsider, "requirements": REQUIREMENTS}),
            ("compare", {"models": MODELS}),
            ("get_model", {"model": MODELS[1]}),
            ("list_licences", {}),
            ("get_decision", {"record_id": decision.id}),
            ("recommend", {"limit": 0}),
        ],
    )
    recommend, explain, compare, get_model, list_licences, get_decision, refused = results

    assert tools == {
        "recommend": Requirements.model_json_schema(),
        "explain_model": ExplainModelInput.model_json_schema(),
        "compare": CompareRequest.model_json_schema(),
        "get_model": ModelInput.model_json_schema(),
        "list_licences": tools["list_licences"],
        "get_decision": DecisionInput.model_json_schema(),
    }
    summary = _structured(recommend)
    decision_url = served.url + decision.record.links["self"]
    assert summary == {**decision.model_dump(mode="json", exclude_none=True), "decision_url": decision_url}
    assert httpx.get(decision_url, headers={"Authorization": f"Bearer {served.keys['read']}"}).is_success

    why = _structured(explain)
    rest_view = next(a for a in explained.explained if a.model_id == outsider)
    assert why["id"] == explained.id
    assert why["model"] == rest_view.model_dump(mode="json", exclude_none=True)
    assert why["model"]["reasons"]

    side_by_side = _structured(compare)
    assert [m["model_id"] for m in side_by_side["models"]] == MODELS
    assert [m["criteria"] for m in side_by_side["models"]] == [
        {c.criterion: c.value for c in m.criteria} for m in comparison.models
    ]
    assert _structured(get_model) == model.model_dump(mode="json", exclude_none=True)
    assert _structured(list_licences) == licences
    stored = _structured(get_decision)
    assert stored == {**summary, "superseded": False}

    assert refused.isError
    assert "limit" in json.dumps([block.model_dump() for block in refused.content])
