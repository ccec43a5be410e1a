"""Map every error to a 4xx body that names the field and the problem; nothing escapes as a bare 500."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from service.domain.errors import RequirementError, UnknownModelError
from service.storage import StorageError

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_SCHEMA", "problem"]

log = structlog.get_logger("advisor.http")


#: The OpenAPI schema of every error body this module produces.
PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "title", "detail"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER, description="The HTTP status code"),
        "title": Schema(type=OpenAPIType.STRING),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="For input errors: each field that is wrong and what is wrong with it",
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "problem"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING, description="Dotted path, e.g. ip.commercial_use"),
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
    """A JSON error body: ``status``, ``title``, ``detail`` and, for input errors, ``errors[].field/problem``."""
    body: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or "(body)")
            message = str(item.get("message", "invalid"))
            if key == "data" and message == "'data'":
                key, message = "(body)", "a JSON object is required"
            errors.append({"field": key, "problem": message.removeprefix("Value error, ")})
    detail = str(exc.detail)
    if not errors:
        errors.append({"field": "(body)", "problem": detail})
    return problem(400, "Invalid request", detail, errors)


def _requirement(_: Request[Any, Any, Any], exc: RequirementError) -> Response[Any]:
    return problem(422, "Unprocessable requirements", str(exc), [{"field": exc.field, "problem": exc.problem}])


def _unknown(_: Request[Any, Any, Any], exc: UnknownModelError) -> Response[Any]:
    return problem(404, "Not found", f"no {exc.kind} with id {exc.identifier!r}")


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException):
        return problem(404, "Not found", str(exc.detail))
    # Keep the exception's headers: a 405 must say which methods are allowed (Allow).
    return problem(exc.status_code, "Request refused", str(exc.detail), headers=dict(exc.headers or {}))


def _storage(request: Request[Any, Any, Any], exc: StorageError) -> Response[Any]:
    # The message names the (password-redacted) database URL: log it, do not send it to the caller.
    log.error("decision records unavailable", path=request.url.path, error=str(exc))
    return problem(503, "Decision records unavailable", "the decision records database could not be used; see the log")


def _undecodable(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    # The JSON decoder lets invalid UTF-8 inside a string escape as UnicodeDecodeError: it is still bad input.
    return problem(
        400,
        "Invalid request",
        "the body is not valid UTF-8",
        [{"field": "(body)", "problem": f"not valid UTF-8: {exc.reason}"}],
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", path=request.url.path)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "an unexpected error was logged")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: _validation,
    RequirementError: _requirement,
    UnknownModelError: _unknown,
    HTTPException: _http,
    StorageError: _storage,
    UnicodeDecodeError: _undecodable,
    Exception: _unexpected,
}
