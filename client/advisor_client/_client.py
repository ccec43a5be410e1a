"""Sync and async clients over httpx, with bounded retries on 429 and 503 that honour ``Retry-After``."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception_type

from advisor_client._errors import RateLimitedError, ServiceUnavailableError, TransportError, error_for
from advisor_client._operations import OPERATIONS
from advisor_client.models import (
    CompareOut,
    CompareRequest,
    LicenceOut,
    ModelOut,
    ProfileOut,
    RecordedAnswer,
    RecordedSummary,
    RecordPage,
    Requirements,
)

__all__ = ["DEFAULT_URL", "AdvisorClient", "AsyncAdvisorClient"]

DEFAULT_URL = "http://127.0.0.1:8000"
_RETRYABLE = (RateLimitedError, ServiceUnavailableError)
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


@dataclass(frozen=True)
class _Config:
    base_url: str
    headers: dict[str, str]
    timeout: float
    max_retries: int
    max_retry_wait: float

    @classmethod
    def make(
        cls, base_url: str | None, api_key: str | None, timeout: float, max_retries: int, max_retry_wait: float
    ) -> _Config:
        url = base_url or os.environ.get("ADVISOR_URL") or DEFAULT_URL
        key = api_key if api_key is not None else os.environ.get("ADVISOR_API_KEY")
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if max_retries < 0 or max_retry_wait < 0:
            raise ValueError("max_retries and max_retry_wait must not be negative")
        return cls(url.rstrip("/"), headers, timeout, max_retries, max_retry_wait)

    def wait(self, state: RetryCallState) -> float:
        """The answer's ``Retry-After`` when it gave one, else exponential back-off; never above the bound."""
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        if after is None:
            after = 0.5 * 2 ** (state.attempt_number - 1)
        return float(min(after, self.max_retry_wait))

    def stop(self, state: RetryCallState) -> bool:
        """Stop after ``max_retries`` retries, or at once when the service asks for a longer wait than the bound."""
        error = state.outcome.exception() if state.outcome else None
        after = getattr(error, "retry_after", None)
        return state.attempt_number > self.max_retries or (after is not None and after > self.max_retry_wait)


def _path(operation_id: str, **params: str) -> tuple[str, str]:
    operation = OPERATIONS[operation_id]
    return operation.method, operation.path.format(**params)


def _body(model: type[R], value: R | dict[str, Any] | None) -> tuple[R, bytes]:
    """Validate a request locally with the service's own model; the model and the JSON to send."""
    if value is None:
        value = model()
    elif isinstance(value, dict):
        # Parsed as JSON, as the service will parse it (strict models accept JSON forms such as dates as text).
        value = model.model_validate_json(json.dumps(value))
    elif not isinstance(value, model):
        raise TypeError(f"expected {model.__name__} or a dict, got {type(value).__name__}")
    body = value.model_dump(mode="json", exclude_unset=True)
    # Fields the model leaves out of its own dumps (``Requirements.detail``: how much to answer, not part of the
    # decision) are still part of the request when set.
    for name, field in type(value).model_fields.items():
        if field.exclude and name in value.model_fields_set:
            body[field.alias or name] = getattr(value, name)
    return value, json.dumps(body).encode()


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    raise error_for(response, retry_after=_retry_after(response))


def _parse(model: type[M], response: httpx.Response) -> M:
    return model.model_validate_json(response.content)


def _query(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


class AdvisorClient:
    """A synchronous client. ``base_url`` and ``api_key`` default to ``ADVISOR_URL`` and ``ADVISOR_API_KEY``.

    Answers are the service's own models; a non-success answer raises an :class:`APIError` carrying the
    problem body's ``errors``. 429 and 503 are retried up to ``max_retries`` times, waiting as ``Retry-After``
    says, but never longer than ``max_retry_wait`` seconds (a longer ``Retry-After`` is raised at once).
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._config = _Config.make(base_url, api_key, timeout, max_retries, max_retry_wait)
        self._http = httpx.Client(
            base_url=self._config.base_url, headers=self._config.headers, timeout=timeout, transport=transport
        )

    @property
    def base_url(self) -> str:
        """The API's base URL (from the argument, ``ADVISOR_URL`` or the default)."""
        return self._config.base_url

    def __enter__(self) -> AdvisorClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(
        self,
        operation_id: str,
        *,
        query: dict[str, Any] | None = None,
        content: bytes | None = None,
        **path: str,
    ) -> httpx.Response:
        method, url = _path(operation_id, **path)
        headers = {"Content-Type": "application/json"} if content is not None else None
        for attempt in Retrying(
            retry=retry_if_exception_type(_RETRYABLE),
            wait=self._config.wait,
            stop=self._config.stop,
            reraise=True,
        ):
            with attempt:
                try:
                    response = self._http.request(method, url, params=query, content=content, headers=headers)
                except httpx.TransportError as exc:
                    raise TransportError(f"{method} {url}: {exc}") from exc
                return _checked(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def create_recommendation(
        self, requirements: Requirements | dict[str, Any] | None = None
    ) -> RecordedSummary | RecordedAnswer:
        """Rank the catalogue against ``requirements`` (stored as a decision record; needs scope write).

        The answer is a :class:`RecordedSummary` unless ``requirements.detail`` is ``"full"``.
        """
        request, content = _body(Requirements, requirements)
        response = self._send("createRecommendation", content=content)
        return _parse(RecordedAnswer, response) if request.detail == "full" else _parse(RecordedSummary, response)

    def list_recommendations(self, *, limit: int | None = None, offset: int | None = None) -> RecordPage:
        """Stored decisions, newest first."""
        response = self._send("listRecommendations", query=_query(limit=limit, offset=offset))
        return _parse(RecordPage, response)

    def get_recommendation(self, record_id: str) -> RecordedAnswer:
        """A stored decision, exactly as decided, with its record envelope."""
        return _parse(RecordedAnswer, self._send("getRecommendation", record_id=record_id))

    def rerun_recommendation(self, record_id: str) -> RecordedAnswer:
        """Decide a stored request again on today's data (needs scope write)."""
        return _parse(RecordedAnswer, self._send("rerunRecommendation", record_id=record_id))

    def get_recommendation_report(self, record_id: str, *, format: Literal["md", "html"] | None = None) -> str:
        """A procurement report on a stored decision, as Markdown or HTML text."""
        return self._send("getRecommendationReport", query=_query(format=format), record_id=record_id).text

    def delete_recommendation(self, record_id: str) -> None:
        """Delete a stored decision (needs scope admin)."""
        self._send("deleteRecommendation", record_id=record_id)

    def compare_models(self, request: CompareRequest | dict[str, Any]) -> CompareOut:
        """Two to six models side by side, optionally under requirements."""
        _, content = _body(CompareRequest, request)
        return _parse(CompareOut, self._send("compareModels", content=content))

    def list_models(
        self,
        *,
        family: str | None = None,
        organisation: str | None = None,
        licence: str | None = None,
        licence_kind: Literal["permissive", "copyleft", "custom"] | None = None,
        origin_country: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        """Catalogue models, optionally filtered: ``count``, ``offset``, ``items`` and ``catalogue_version``."""
        query = _query(
            family=family,
            organisation=organisation,
            licence=licence,
            licence_kind=licence_kind,
            origin_country=origin_country,
            limit=limit,
            offset=offset,
        )
        answer: dict[str, Any] = self._send("listModels", query=query).json()
        return answer

    def get_model(self, model_id: str) -> ModelOut:
        """One model (``owner/name``) with every sourced fact."""
        owner, name = _split_model_id(model_id)
        return _parse(ModelOut, self._send("getModel", owner=owner, name=name))

    def list_licences(self) -> dict[str, Any]:
        """Every licence the catalogue uses: ``count``, ``items`` and ``rules_version``."""
        answer: dict[str, Any] = self._send("listLicences").json()
        return answer

    def get_licence(self, licence_id: str) -> LicenceOut:
        """One licence and its duties."""
        return _parse(LicenceOut, self._send("getLicence", licence_id=licence_id))

    def list_profiles(self) -> dict[str, Any]:
        """Named weight sets: ``count``, ``items`` and ``default``."""
        answer: dict[str, Any] = self._send("listProfiles").json()
        return answer

    def get_profile(self, profile_id: str) -> ProfileOut:
        """One profile."""
        return _parse(ProfileOut, self._send("getProfile", profile_id=profile_id))

    def list_rules(self) -> dict[str, Any]:
        """Eligibility rules and scoring criteria."""
        answer: dict[str, Any] = self._send("listRules").json()
        return answer

    def reload_data(self) -> dict[str, Any]:
        """Re-read and swap in the catalogue and rules (needs scope admin)."""
        answer: dict[str, Any] = self._send("reloadData").json()
        return answer

    def health(self) -> dict[str, Any]:
        """Liveness."""
        answer: dict[str, Any] = self._send("health").json()
        return answer

    def ready(self) -> dict[str, Any]:
        """Readiness (a 503 raises :class:`ServiceUnavailableError` once the retries are spent)."""
        answer: dict[str, Any] = self._send("ready").json()
        return answer

    def metrics(self) -> str:
        """The Prometheus exposition text."""
        return self._send("metrics").text


class AsyncAdvisorClient:
    """The asynchronous twin of :class:`AdvisorClient`: the same methods, awaited."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = _Config.make(base_url, api_key, timeout, max_retries, max_retry_wait)
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url, headers=self._config.headers, timeout=timeout, transport=transport
        )

    @property
    def base_url(self) -> str:
        """The API's base URL (from the argument, ``ADVISOR_URL`` or the default)."""
        return self._config.base_url

    async def __aenter__(self) -> AsyncAdvisorClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _send(
        self,
        operation_id: str,
        *,
        query: dict[str, Any] | None = None,
        content: bytes | None = None,
        **path: str,
    ) -> httpx.Response:
        method, url = _path(operation_id, **path)
        headers = {"Content-Type": "application/json"} if content is not None else None
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_RETRYABLE),
            wait=self._config.wait,
            stop=self._config.stop,
            reraise=True,
        ):
            with attempt:
                try:
                    response = await self._http.request(method, url, params=query, content=content, headers=headers)
                except httpx.TransportError as exc:
                    raise TransportError(f"{method} {url}: {exc}") from exc
                return _checked(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def create_recommendation(
        self, requirements: Requirements | dict[str, Any] | None = None
    ) -> RecordedSummary | RecordedAnswer:
        """Rank the catalogue against ``requirements`` (stored as a decision record; needs scope write).

        The answer is a :class:`RecordedSummary` unless ``requirements.detail`` is ``"full"``.
        """
        request, content = _body(Requirements, requirements)
        response = await self._send("createRecommendation", content=content)
        return _parse(RecordedAnswer, response) if request.detail == "full" else _parse(RecordedSummary, response)

    async def list_recommendations(self, *, limit: int | None = None, offset: int | None = None) -> RecordPage:
        """Stored decisions, newest first."""
        response = await self._send("listRecommendations", query=_query(limit=limit, offset=offset))
        return _parse(RecordPage, response)

    async def get_recommendation(self, record_id: str) -> RecordedAnswer:
        """A stored decision, exactly as decided, with its record envelope."""
        return _parse(RecordedAnswer, await self._send("getRecommendation", record_id=record_id))

    async def rerun_recommendation(self, record_id: str) -> RecordedAnswer:
        """Decide a stored request again on today's data (needs scope write)."""
        return _parse(RecordedAnswer, await self._send("rerunRecommendation", record_id=record_id))

    async def get_recommendation_report(self, record_id: str, *, format: Literal["md", "html"] | None = None) -> str:
        """A procurement report on a stored decision, as Markdown or HTML text."""
        response = await self._send("getRecommendationReport", query=_query(format=format), record_id=record_id)
        return response.text

    async def delete_recommendation(self, record_id: str) -> None:
        """Delete a stored decision (needs scope admin)."""
        await self._send("deleteRecommendation", record_id=record_id)

    async def compare_models(self, request: CompareRequest | dict[str, Any]) -> CompareOut:
        """Two to six models side by side, optionally under requirements."""
        _, content = _body(CompareRequest, request)
        return _parse(CompareOut, await self._send("compareModels", content=content))

    async def list_models(
        self,
        *,
        family: str | None = None,
        organisation: str | None = None,
        licence: str | None = None,
        licence_kind: Literal["permissive", "copyleft", "custom"] | None = None,
        origin_country: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        """Catalogue models, optionally filtered: ``count``, ``offset``, ``items`` and ``catalogue_version``."""
        query = _query(
            family=family,
            organisation=organisation,
            licence=licence,
            licence_kind=licence_kind,
            origin_country=origin_country,
            limit=limit,
            offset=offset,
        )
        answer: dict[str, Any] = (await self._send("listModels", query=query)).json()
        return answer

    async def get_model(self, model_id: str) -> ModelOut:
        """One model (``owner/name``) with every sourced fact."""
        owner, name = _split_model_id(model_id)
        return _parse(ModelOut, await self._send("getModel", owner=owner, name=name))

    async def list_licences(self) -> dict[str, Any]:
        """Every licence the catalogue uses: ``count``, ``items`` and ``rules_version``."""
        answer: dict[str, Any] = (await self._send("listLicences")).json()
        return answer

    async def get_licence(self, licence_id: str) -> LicenceOut:
        """One licence and its duties."""
        return _parse(LicenceOut, await self._send("getLicence", licence_id=licence_id))

    async def list_profiles(self) -> dict[str, Any]:
        """Named weight sets: ``count``, ``items`` and ``default``."""
        answer: dict[str, Any] = (await self._send("listProfiles")).json()
        return answer

    async def get_profile(self, profile_id: str) -> ProfileOut:
        """One profile."""
        return _parse(ProfileOut, await self._send("getProfile", profile_id=profile_id))

    async def list_rules(self) -> dict[str, Any]:
        """Eligibility rules and scoring criteria."""
        answer: dict[str, Any] = (await self._send("listRules")).json()
        return answer

    async def reload_data(self) -> dict[str, Any]:
        """Re-read and swap in the catalogue and rules (needs scope admin)."""
        answer: dict[str, Any] = (await self._send("reloadData")).json()
        return answer

    async def health(self) -> dict[str, Any]:
        """Liveness."""
        answer: dict[str, Any] = (await self._send("health")).json()
        return answer

    async def ready(self) -> dict[str, Any]:
        """Readiness (a 503 raises :class:`ServiceUnavailableError` once the retries are spent)."""
        answer: dict[str, Any] = (await self._send("ready")).json()
        return answer

    async def metrics(self) -> str:
        """The Prometheus exposition text."""
        return (await self._send("metrics")).text


def _split_model_id(model_id: str) -> tuple[str, str]:
    owner, slash, name = model_id.partition("/")
    if not slash or not owner or not name or "/" in name:
        raise ValueError(f"model id must be owner/name, got {model_id!r}")
    return owner, name
