"""The shared client: retry policy, Retry-After, deadline and concurrency, against the fake server."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from service.loading.sync.http import (
    USER_AGENT,
    Deadline,
    Fetcher,
    JsonResponse,
    RetryPolicy,
    UpstreamError,
    create_client,
    parse_retry_after,
)
from tests.loading.sync.conftest import QWEN
from tests.loading.sync.fake_upstream import FakeUpstream, Reply

T = TypeVar("T")
FAST = RetryPolicy(max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=5.0, deadline_s=30.0)


def with_fetcher(policy: RetryPolicy, use: Callable[[Fetcher], Awaitable[T]]) -> tuple[T | UpstreamError, Fetcher]:
    """Run ``use`` with a fresh client and fetcher; an UpstreamError is returned rather than raised."""

    async def main() -> tuple[T | UpstreamError, Fetcher]:
        async with create_client(policy) as client:
            fetcher = Fetcher(client, policy, Deadline(policy.deadline_s))
            try:
                return await use(fetcher), fetcher
            except UpstreamError as exc:
                return exc, fetcher

    return asyncio.run(main())


def get(upstream: FakeUpstream, key: str, policy: RetryPolicy = FAST) -> tuple[JsonResponse | UpstreamError, Fetcher]:
    return with_fetcher(policy, lambda f: f.get_json(upstream.url + key))


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None


@pytest.mark.parametrize(
    "field", ["max_attempts", "concurrency", "timeout_s", "deadline_s", "backoff_base_s", "backoff_max_s"]
)
def test_a_policy_refuses_non_positive_settings(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**{field: 0})


def test_a_success_is_one_attempt_with_the_service_user_agent(upstream: FakeUpstream) -> None:
    result, fetcher = get(upstream, FakeUpstream.model_key(QWEN))
    assert isinstance(result, JsonResponse)
    assert result.data["id"] == QWEN
    assert [(a.attempt, a.outcome, a.wait_s) for a in fetcher.attempts] == [(1, "200", None)]
    (seen,) = upstream.seen
    assert seen.headers["user-agent"] == USER_AGENT == "open-model-advisor/0.1.0"
    assert seen.headers["accept"] == "application/json"


def test_5xx_is_retried_up_to_the_attempt_limit(upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=502))
    result, fetcher = get(upstream, key)
    assert isinstance(result, UpstreamError)
    assert (result.status, result.attempts) == (502, 3)
    assert [a.outcome for a in fetcher.attempts] == ["502", "502", "502"]
    assert [a.wait_s is not None for a in fetcher.attempts] == [True, True, False]
    assert all(a.wait_s is None or 0 <= a.wait_s <= FAST.backoff_max_s for a in fetcher.attempts)


def test_503_with_retry_after_is_honoured(upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=503, headers={"Retry-After": "1"}), Reply())
    result, fetcher = get(upstream, key)
    assert isinstance(result, JsonResponse)
    first, second = fetcher.attempts
    assert (first.outcome, second.outcome) == ("503", "200")
    assert first.wait_s is not None
    assert first.wait_s >= 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_4xx_other_than_429_is_never_retried(upstream: FakeUpstream, status: int) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=status))
    result, fetcher = get(upstream, key)
    assert isinstance(result, UpstreamError)
    assert (result.status, result.attempts, len(fetcher.attempts)) == (status, 1, 1)


def test_a_redirect_is_reported_not_followed(upstream: FakeUpstream) -> None:
    key = FakeUpstream.model_key(QWEN)
    upstream.script(key, Reply(status=307, headers={"Location": "/api/models/Qwen/Qwen3-8B-renamed"}))
    result, _ = get(upstream, key)
    assert isinstance(result, UpstreamError)
    assert "redirected to /api/models/Qwen/Qwen3-8B-renamed" in str(result)
    assert len(upstream.seen) == 1


def test_a_refused_connection_is_retried_then_reported() -> None:
    policy = RetryPolicy(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02, timeout_s=2.0)
    # A port that was just free: nothing listens there, so the connection is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result, fetcher = with_fetcher(policy, lambda f: f.get_json(f"http://127.0.0.1:{port}/api/v1/models"))
    assert isinstance(result, UpstreamError)
    assert result.attempts == 2
    assert {a.outcome for a in fetcher.attempts} == {"ConnectError"}


def test_concurrency_is_bounded(upstream: FakeUpstream) -> None:
    policy = RetryPolicy(max_attempts=1, timeout_s=5.0, concurrency=2)
    upstream.script(FakeUpstream.model_key(QWEN), Reply(delay=0.2))

    async def many(fetcher: Fetcher) -> list[JsonResponse]:
        return list(
            await asyncio.gather(*(fetcher.get_json(upstream.url + FakeUpstream.model_key(QWEN)) for _ in range(6)))
        )

    result, _ = with_fetcher(policy, many)
    assert isinstance(result, list)
    assert len(result) == 6
    assert upstream.max_in_flight <= 2


def test_a_passed_deadline_sends_nothing(upstream: FakeUpstream) -> None:
    async def late(fetcher: Fetcher) -> JsonResponse:
        fetcher.deadline = Deadline(-1.0)
        return await fetcher.get_json(upstream.url + FakeUpstream.model_key(QWEN))

    result, _ = with_fetcher(FAST, late)
    assert isinstance(result, UpstreamError)
    assert "deadline" in str(result)
    assert upstream.seen == []
