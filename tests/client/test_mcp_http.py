"""`advisor mcp --transport http`: streamable HTTP that needs one of the service's keys when keys are configured."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.client.conftest import Served
from tests.client.test_mcp import _advisor
from tests.served import READY_TIMEOUT_S, free_port


@pytest.fixture(scope="module")
def mcp_url(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("mcp-http") / "mcp.log"
    command = [*_advisor(), "mcp", "--transport", "http", "--port", str(port), "--url", served.url]
    url = f"http://127.0.0.1:{port}/mcp/"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=served.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"advisor mcp did not start:\n{log_path.read_text(errors='replace')}")
                try:
                    httpx.post(url, json={}, timeout=2.0)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)  # polling interval while the server starts; nothing is timed
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


def _call(url: str, key: str, name: str, arguments: dict[str, Any]) -> Any:
    async def run() -> Any:
        async with (
            httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60.0) as http,
            streamable_http_client(url, http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await session.call_tool(name, arguments)

    return asyncio.run(run())


def test_without_a_key_the_http_transport_answers_401_naming_the_header(mcp_url: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        response = httpx.post(mcp_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["field"] == "Authorization"


def test_the_callers_key_is_forwarded_so_its_scope_applies(mcp_url: str, served: Served) -> None:
    licences = _call(mcp_url, served.keys["read"], "list_licences", {})
    assert not licences.isError
    assert licences.structuredContent["count"] > 0
    refused = _call(mcp_url, served.keys["read"], "recommend", {})
    assert refused.isError
    assert "403" in refused.content[0].text
    allowed = _call(mcp_url, served.keys["write"], "recommend", {"limit": 1})
    assert not allowed.isError
    assert len(allowed.structuredContent["recommendations"]) == 1
