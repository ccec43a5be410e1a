"""One error contract for every response that is not a success.

Every 4xx and 5xx body is a *problem*::

    {"status": 400, "title": "Invalid request", "detail": "...",
     "errors": [{"field": "ip.allowed_licences[2]", "problem": "..."}]}

``errors`` is always present; for a 4xx it names at least one thing that was wrong. ``field`` is either a
request body field path (dots between object members, ``[i]`` for list items, e.g. ``explain[0]``,
``weights.capability``), a query or path parameter name (``offset``, ``record_id``), or one of the markers

    ``(body)``     the body as a whole (malformed JSON, too large, too deeply nested, wrong media type)
    ``(query)``    the query string as a whole
    ``(path)``     the URL path (no such route or id)
    ``(method)``   the HTTP method (not allowed on this path)

Exceptions are mapped by class, never by message:

    litestar.exceptions.ValidationException          400  field paths rebuilt from pydantic's error locations
    litestar.exceptions.ClientException caused by
        litestar.exceptions.SerializationException   400  the JSON decoder refused the body
    litestar.exceptions.http_exceptions.RequestEntityTooLarge  413
    litestar.exceptions.NotFoundException            404
    litestar.exceptions.MethodNotAllowedException    405  keeps the ``Allow`` header
    other litestar.exceptions.HTTPException          its status
    service.http.boundary.RequestRefused             400 or 415 (depth bound, unknown query, media type)
    service.domain.errors.RequirementError           422
    service.domain.errors.UnknownModelError          404
    service.storage.StorageError                     503  (logged; the database URL is not sent)
    service.storage.RebuildError                     409  a stored decision cannot be rebuilt exactly (names why,
                                                          e.g. both answer digests); never a different answer
    UnicodeDecodeError                               400  (older JSON decoders raise it for invalid UTF-8)
    anything else                                    500  (logged)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    SerializationException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from service.domain.errors import RequirementError, UnknownModelError
from service.http.boundary import RequestRefused
from service.storage import RebuildError, StorageError

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_SCHEMA", "field_path", "problem"]

log = structlog.get_logger("advisor.http")

#: Longest id or value echoed back in an error message; longer ones are cut, so a huge id is not reflected.
ECHO_LIMIT = 100

#: The OpenAPI schema of every error body this module produces.
PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "title", "detail", "errors"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER, description="The HTTP status code"),
        "title": Schema(type=OpenAPIType.STRING),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description=(
                "Each thing that is wrong and what is wrong with it (at least one for a 4xx). `field` is a body "
                "field path such as `ip.allowed_licences[2]`, a query or path parameter name, or one of "
                "`(body)`, `(query)`, `(path)`, `(method)`."
            ),
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "problem"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING, description="e.g. explain[0], ip.commercial_use, offset"),
                    "problem": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """A problem body: ``status``, ``title``, ``detail`` and ``errors[].field/problem``.

    A 4xx given no ``errors`` gets one: the detail, on ``(path)``.
    """
    if not errors and status < 500:
        errors = [{"field": "(path)", "problem": detail}]
    body: dict[str, Any] = {"status": status, "title": title, "detail": detail, "errors": errors or []}
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def field_path(location: Sequence[int | str]) -> str:
    """``("ip", "allowed_licences", 2)`` -> ``ip.allowed_licences[2]``; an empty location is ``(body)``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":  # pydantic's marker for "the key of this mapping entry", already named
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


def _clip(text: str) -> str:
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + f"… ({len(text)} characters)"


def _pydantic_cause(exc: BaseException) -> pydantic.ValidationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, pydantic.ValidationError):
            return seen
        seen = seen.__cause__
    return None


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors: list[dict[str, str]] = []
    cause = _pydantic_cause(exc)
    if cause is not None:
        # The body: pydantic's locations keep list indices as integers, so paths are spelled one way.
        for item in cause.errors(include_url=False, include_input=False):
            message = str(item["msg"]).removeprefix("Value error, ")
            if not item["loc"] and item["type"] == "model_type":
                message = "a JSON object is required"
            errors.append({"field": field_path(item["loc"]), "problem": message})
    else:
        # Query and path parameters (and a body that is not an object): Litestar names the parameter.
        for item in exc.extra if isinstance(exc.extra, list) else []:
            if isinstance(item, dict):
                key = str(item.get("key") or "(body)")
                message = str(item.get("message", "invalid"))
                if key == "data":
                    key = "(body)"
                    if message == "'data'":
                        message = "a JSON object is required"
                errors.append({"field": key, "problem": message.removeprefix("Value error, ")})
    if not errors:
        errors = [{"field": "(body)", "problem": "the request is invalid"}]
    for error in errors:
        error["field"] = _clip(error["field"])
    # Litestar's own detail repeats the whole URL; a summary of the errors does not echo a huge path or query.
    detail = "; ".join(f"{e['field']}: {e['problem']}" for e in errors[:3]) + ("; …" if len(errors) > 3 else "")
    return problem(400, "Invalid request", detail, errors)


def _requirement(_: Request[Any, Any, Any], exc: RequirementError) -> Response[Any]:
    return problem(422, "Unprocessable requirements", str(exc), [{"field": exc.field, "problem": exc.problem}])


def _unknown(_: Request[Any, Any, Any], exc: UnknownModelError) -> Response[Any]:
    detail = f"no {exc.kind} with id {_clip(exc.identifier)!r}"
    return problem(404, "Not found", detail, [{"field": "(path)", "problem": detail}])


def _refused(_: Request[Any, Any, Any], exc: RequestRefused) -> Response[Any]:
    detail = exc.errors[0][1] if len(exc.errors) == 1 else "; ".join(f"{f}: {p}" for f, p in exc.errors)
    return problem(exc.status, exc.title, detail, [{"field": field, "problem": text} for field, text in exc.errors])


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    detail = _clip(str(exc.detail))
    headers = dict(exc.headers or {})  # a 405 must keep Allow
    if isinstance(exc.__cause__, SerializationException):
        # The JSON decoder refused the body (syntax, NaN/Infinity, out-of-range number, BOM, bad UTF-8 or escape).
        reason = str(exc.__cause__)
        return problem(400, "Malformed JSON", reason, [{"field": "(body)", "problem": reason}])
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.route_handler.resolve_request_max_body_size()
        message = f"the body is larger than the limit of {limit} bytes" if limit else "the body is too large"
        return problem(413, "Request body too large", message, [{"field": "(body)", "problem": message}], headers)
    if isinstance(exc, NotFoundException):
        return problem(404, "Not found", detail, [{"field": "(path)", "problem": detail}], headers)
    if isinstance(exc, MethodNotAllowedException):
        allowed = headers.get("allow") or headers.get("Allow") or ""
        message = f"method not allowed here; allowed: {allowed}" if allowed else "method not allowed here"
        return problem(405, "Method not allowed", message, [{"field": "(method)", "problem": message}], headers)
    field = "(query)" if "query" in detail.lower() else "(body)"
    return problem(exc.status_code, "Request refused", detail, [{"field": field, "problem": detail}], headers)


def _storage(request: Request[Any, Any, Any], exc: StorageError) -> Response[Any]:
    # The message names the (password-redacted) database URL: log it, do not send it to the caller.
    log.error("decision records unavailable", path=request.url.path, error=str(exc))
    return problem(503, "Decision records unavailable", "the decision records database could not be used; see the log")


def _rebuild(request: Request[Any, Any, Any], exc: RebuildError) -> Response[Any]:
    log.error("stored decision cannot be rebuilt", path=request.url.path, record_id=exc.record_id, error=str(exc))
    return problem(409, "Stored decision cannot be rebuilt", str(exc), [{"field": "record_id", "problem": str(exc)}])


def _undecodable(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    # msgspec before 0.23 lets invalid UTF-8 inside a string escape as UnicodeDecodeError (0.23 wraps it).
    reason = f"not valid UTF-8: {exc.reason}"
    return problem(400, "Malformed JSON", reason, [{"field": "(body)", "problem": reason}])


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "an unexpected error was logged")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: _validation,
    RequirementError: _requirement,
    UnknownModelError: _unknown,
    RequestRefused: _refused,
    HTTPException: _http,
    StorageError: _storage,
    RebuildError: _rebuild,
    UnicodeDecodeError: _undecodable,
    Exception: _unexpected,
}
