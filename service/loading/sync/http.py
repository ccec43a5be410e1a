"""The HTTP side of a sync: one shared ``httpx.AsyncClient``, a retry policy and a run-wide deadline.

Every upstream request goes through :class:`Fetcher`, which

* bounds concurrency with a semaphore (held only while a request is in flight, not while backing off);
* retries connect errors, timeouts, dropped connections, 429 and 5xx with exponential backoff and full
  jitter (tenacity), waiting at least as long as a ``Retry-After`` header asks;
* never retries other 4xx answers, a redirect, a wrong content type or a body that is not JSON, because
  asking again would give the same answer;
* stops after a bounded number of attempts, and never starts or waits past the deadline of the run;
* records every attempt (:class:`AttemptRecord`) so that a run, and a test, can see which retries happened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from service import __version__
from service.loading.sync.options import RetryPolicy

__all__ = [
    "USER_AGENT",
    "AttemptRecord",
    "Deadline",
    "Fetcher",
    "JsonResponse",
    "RetryPolicy",
    "UpstreamError",
    "create_client",
    "parse_retry_after",
]

#: Sent with every request so that upstream operators can see who is calling.
USER_AGENT = f"open-model-advisor/{__version__}"

_log = logging.getLogger(__name__)

# Transport failures worth another attempt: the same GET may well succeed on a fresh connection.
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Deadline:
    """A point in monotonic time after which a run starts no request and no wait."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends_at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self._ends_at - time.monotonic()


@dataclass
class AttemptRecord:
    """One HTTP attempt: what was asked, what came back, and how long the run then waited to retry."""

    url: str
    attempt: int
    outcome: str
    elapsed_s: float
    wait_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "url": self.url,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "elapsed_s": round(self.elapsed_s, 3),
            "wait_s": None if self.wait_s is None else round(self.wait_s, 3),
        }


class UpstreamError(Exception):
    """A request that did not give a usable answer; ``attempts`` says how often it was tried."""

    def __init__(
        self,
        url: str,
        problem: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        attempts: int = 0,
    ) -> None:
        self.url = url
        self.problem = problem
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.attempts = attempts
        self.gave_up: str | None = None
        super().__init__(problem)

    def __str__(self) -> str:
        text = self.problem
        if self.gave_up:
            text += f" ({self.gave_up})"
        if self.attempts:
            text += f" after {self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        return text


@dataclass(frozen=True)
class JsonResponse:
    """A decoded JSON body and where to find the next page (from a ``Link: <...>; rel="next"`` header)."""

    url: str
    data: Any
    next_url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: How many attempts it took (so that a later problem with the body can say so).
    attempts: int = 1


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header: delta-seconds or an HTTP-date; None if absent or invalid."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


def create_client(policy: RetryPolicy) -> httpx.AsyncClient:
    """The one client a sync run shares between its upstreams."""
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=httpx.Timeout(policy.timeout_s),
        limits=httpx.Limits(max_connections=policy.concurrency, max_keepalive_connections=policy.concurrency),
        # A redirect from a model API usually means a renamed repo: a person should rename the file, so it
        # is reported rather than followed (this also keeps a token from travelling to another host).
        follow_redirects=False,
    )


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class _StopAtDeadline(stop_base):
    """Stop when the run deadline has passed, or when the wait a ``Retry-After`` asks for would pass it."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        remaining = self.deadline.remaining()
        asked = exc.retry_after if isinstance(exc, UpstreamError) and exc.retry_after is not None else 0.0
        if remaining > 0 and asked < remaining:
            return False
        if isinstance(exc, UpstreamError):
            exc.gave_up = (
                f"Retry-After {asked:g} s is beyond the run deadline" if remaining > 0 else "run deadline reached"
            )
        return True


def _should_retry(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamError) and exc.retryable


class Fetcher:
    """GETs JSON with the run's retry policy, concurrency bound and deadline, recording every attempt."""

    def __init__(self, client: httpx.AsyncClient, policy: RetryPolicy, deadline: Deadline | None = None) -> None:
        self.client = client
        self.policy = policy
        self.deadline = deadline or Deadline(policy.deadline_s)
        self.attempts: list[AttemptRecord] = []
        self._semaphore = asyncio.Semaphore(policy.concurrency)
        self._backoff = wait_random_exponential(multiplier=policy.backoff_base_s, max=policy.backoff_max_s)

    def attempts_for(self, url_part: str) -> list[AttemptRecord]:
        """The attempts whose URL contains ``url_part``, in the order they were made."""
        return [record for record in self.attempts if url_part in record.url]

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> JsonResponse:
        """GET ``url`` and decode its JSON body, retrying what is worth retrying; raises :class:`UpstreamError`."""
        trace: list[AttemptRecord] = []

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = float(self._backoff(state))
            asked = exc.retry_after if isinstance(exc, UpstreamError) and exc.retry_after is not None else 0.0
            # Never sleep past the deadline: the stop condition then ends the retries.
            return max(0.0, min(max(backoff, asked), self.deadline.remaining()))

        def before_sleep(state: RetryCallState) -> None:
            # Called only when a retry really follows, with the wait chosen for it.
            seconds = state.next_action.sleep if state.next_action is not None else state.upcoming_sleep
            if trace:
                trace[-1].wait_s = seconds
            exc = state.outcome.exception() if state.outcome else None
            _log.warning(
                "retrying %s after attempt %d: %s (waiting %.2f s)",
                getattr(exc, "url", url),
                state.attempt_number,
                getattr(exc, "problem", exc),
                seconds,
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.max_attempts) | _StopAtDeadline(self.deadline),
            wait=wait,
            retry=retry_if_exception(_should_retry),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(url, params, headers, attempt.retry_state.attempt_number, trace)
        except UpstreamError as exc:
            exc.attempts = len(trace)
            raise
        raise AssertionError("unreachable: tenacity either returns a result or re-raises")  # pragma: no cover

    async def _attempt(
        self,
        url: str,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
        number: int,
        trace: list[AttemptRecord],
    ) -> JsonResponse:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise UpstreamError(url, "run deadline reached before the request was sent")
        timeout = min(self.policy.timeout_s, remaining)
        request = self.client.build_request("GET", url, params=params, headers=headers, timeout=timeout)
        full_url = str(request.url)
        record = AttemptRecord(url=full_url, attempt=number, outcome="pending", elapsed_s=0.0)
        trace.append(record)
        self.attempts.append(record)
        started = time.monotonic()
        try:
            async with self._semaphore:
                # httpx timeouts are per network operation; asyncio.timeout also bounds a body that trickles in.
                async with asyncio.timeout(timeout):
                    response = await self.client.send(request)
        except (TimeoutError, httpx.TimeoutException) as exc:
            record.outcome = type(exc).__name__
            raise UpstreamError(full_url, f"no complete answer within {timeout:.3g} s", retryable=True) from exc
        except _RETRYABLE_TRANSPORT as exc:
            record.outcome = type(exc).__name__
            detail = str(exc) or "connection closed or reset"
            raise UpstreamError(full_url, f"{type(exc).__name__}: {detail}", retryable=True) from exc
        except httpx.HTTPError as exc:
            record.outcome = type(exc).__name__
            raise UpstreamError(full_url, f"{type(exc).__name__}: {exc}") from exc
        finally:
            record.elapsed_s = time.monotonic() - started
        record.outcome = str(response.status_code)
        return self._decode(response, number)

    @staticmethod
    def _decode(response: httpx.Response, attempts: int) -> JsonResponse:
        url, status = str(response.url), response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise UpstreamError(
                url,
                f"HTTP {status} {response.reason_phrase}".rstrip(),
                retryable=True,
                status=status,
                retry_after=retry_after,
            )
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise UpstreamError(url, f"HTTP {status}: redirected to {location} (renamed repo?)", status=status)
        if status == 404:
            raise UpstreamError(url, "HTTP 404: not found upstream", status=status)
        if status >= 400:
            raise UpstreamError(url, f"HTTP {status} {response.reason_phrase}".rstrip(), status=status)
        content_type = response.headers.get("Content-Type", "")
        if not _is_json(content_type):
            raise UpstreamError(url, f"expected a JSON answer, got content type {content_type or '(none)'!r}")
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UpstreamError(url, f"malformed JSON: {exc}") from exc
        next_url = response.links.get("next", {}).get("url")
        return JsonResponse(url=url, data=data, next_url=next_url, headers=dict(response.headers), attempts=attempts)
