"""Retries on 429 and 503 honour Retry-After within a bound; other errors are raised at once.

The upstream here is a fake answering from a script (httpx.MockTransport): a real server cannot be made to
answer 429 then 200 on cue.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from advisor_client import (
    AdvisorClient,
    AsyncAdvisorClient,
    BadRequestError,
    RateLimitedError,
    ServiceUnavailableError,
)

PROBLEM_429 = {"status": 429, "title": "Too Many Requests", "detail": "slow down", "errors": []}
PROBLEM_503 = {"status": 503, "title": "Unavailable", "detail": "database", "errors": []}
LICENCES = {"count": 0, "items": [], "rules_version": "x"}


def scripted(*answers: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return httpx.MockTransport(handle), seen


def test_a_429_is_retried_after_the_seconds_retry_after_names() -> None:
    transport, seen = scripted(
        httpx.Response(429, json=PROBLEM_429, headers={"Retry-After": "1"}), httpx.Response(200, json=LICENCES)
    )
    started = time.monotonic()
    with AdvisorClient("http://advisor.test", "k", transport=transport) as client:
        assert client.list_licences() == LICENCES
    assert len(seen) == 2
    assert time.monotonic() - started >= 1.0
    assert seen[0].headers["Authorization"] == "Bearer k"


def test_a_retry_after_longer_than_the_bound_is_raised_at_once() -> None:
    transport, seen = scripted(httpx.Response(429, json=PROBLEM_429, headers={"Retry-After": "3600"}))
    with AdvisorClient("http://advisor.test", transport=transport) as client, pytest.raises(RateLimitedError) as err:
        client.list_licences()
    assert len(seen) == 1
    assert err.value.retry_after == 3600
    assert err.value.detail == "slow down"


def test_a_503_that_persists_is_raised_after_the_last_retry() -> None:
    transport, seen = scripted(httpx.Response(503, json=PROBLEM_503, headers={"Retry-After": "0"}))
    with (
        AdvisorClient("http://advisor.test", transport=transport, max_retries=2) as client,
        pytest.raises(ServiceUnavailableError),
    ):
        client.list_licences()
    assert len(seen) == 3


def test_the_async_client_retries_too() -> None:
    seen: list[httpx.Request] = []
    answers = [httpx.Response(503, json=PROBLEM_503, headers={"Retry-After": "0"}), httpx.Response(200, json=LICENCES)]

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    async def run() -> object:
        async with AsyncAdvisorClient("http://advisor.test", transport=httpx.MockTransport(handle)) as client:
            return await client.list_licences()

    assert asyncio.run(run()) == LICENCES
    assert len(seen) == 2


def test_a_400_is_never_retried() -> None:
    problem = {"status": 400, "title": "Invalid", "detail": "bad", "errors": [{"field": "limit", "problem": "x"}]}
    transport, seen = scripted(httpx.Response(400, json=problem))
    with AdvisorClient("http://advisor.test", transport=transport) as client, pytest.raises(BadRequestError) as err:
        client.list_models(limit=5)
    assert len(seen) == 1
    assert err.value.errors[0].field == "limit"
