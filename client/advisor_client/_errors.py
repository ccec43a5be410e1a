"""Errors raised by the client.

::

    AdvisorError                    anything this client raises
    ├── TransportError              no answer: connection refused, timed out, ...
    └── APIError                    the service answered with a problem body (status, title, detail, errors[])
        ├── BadRequestError         400, 413, 415, 422: the request named in ``errors`` was refused
        ├── AuthenticationError     401: no key or an unknown key
        ├── PermissionDeniedError   403: the key's scope is too small
        ├── NotFoundError           404: no such model, licence, profile or record
        ├── RateLimitedError        429: still limited after the retries
        └── ServiceUnavailableError 503: still unavailable after the retries
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "APIError",
    "AdvisorError",
    "AuthenticationError",
    "BadRequestError",
    "FieldProblem",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "TransportError",
    "error_for",
]


class AdvisorError(Exception):
    """Base class of every error this client raises."""


class TransportError(AdvisorError):
    """The service could not be reached or did not answer in time."""


@dataclass(frozen=True)
class FieldProblem:
    """One entry of a problem body's ``errors``: which field and what was wrong with it."""

    field: str
    problem: str


class APIError(AdvisorError):
    """The service answered with an error status and a problem body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[FieldProblem],
        body: Any,
        retry_after: float | None = None,
    ) -> None:
        problems = "; ".join(f"{error.field}: {error.problem}" for error in errors)
        super().__init__(f"{status} {title}: {detail}" + (f" ({problems})" if problems else ""))
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.body = body
        #: Seconds the answer's ``Retry-After`` asked to wait, when it gave one.
        self.retry_after = retry_after


class BadRequestError(APIError):
    """400, 413, 415 or 422: the request was refused; ``errors`` names each field."""


class AuthenticationError(APIError):
    """401: a key is needed, or the key given is not known."""


class PermissionDeniedError(APIError):
    """403: the key is known but its scope is too small for this operation."""


class NotFoundError(APIError):
    """404: no such model, licence, profile, record or route."""


class RateLimitedError(APIError):
    """429: the key or address is over its rate limit (raised once the retries are spent)."""


class ServiceUnavailableError(APIError):
    """503: the decision-records database is unavailable (raised once the retries are spent)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: BadRequestError,
    415: BadRequestError,
    422: BadRequestError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def error_for(response: httpx.Response, retry_after: float | None = None) -> APIError:
    """The error for a non-success answer, carrying its problem body (or the raw text when it has none)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    title, detail, errors = response.reason_phrase, "", []
    if isinstance(body, dict):
        title = str(body.get("title", title))
        detail = str(body.get("detail", ""))
        errors = [
            FieldProblem(field=str(item.get("field", "")), problem=str(item.get("problem", "")))
            for item in body.get("errors", [])
            if isinstance(item, dict)
        ]
    else:
        detail = str(body)[:500]
    kind = _BY_STATUS.get(response.status_code, APIError)
    return kind(response.status_code, title, detail, errors, body, retry_after)
