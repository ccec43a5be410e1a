"""Access control, request context and response headers.

- API keys (``name:scope:sha256hex`` in settings; only hashes are configured) sent as ``Authorization: Bearer``
  or ``X-API-Key``. With keys configured every ``/v1`` route needs one: 401 without a valid key, 403 with too
  small a scope. Scopes nest: ``admin`` ⊃ ``write`` ⊃ ``read``. Health, readiness, metrics and the OpenAPI
  document stay open. A presented key is hashed and compared with every configured hash in constant time.
- The web pages may also be read with a signed-in session (``service.web``); the API accepts that session for
  ``GET`` and ``HEAD`` only, so a page can link to a stored decision and its report.
- :class:`RequestContext` wraps the whole app (every request, matched or not): it refuses hosts that are not
  allowed, gives each request an ``X-Request-ID`` (echoing a well-formed one), adds security headers, logs one
  line per request (never the body, the query string or a key) and counts it for ``/metrics``.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.rate_limit import get_remote_address
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

from service.http.metrics import Metrics
from service.settings import SCOPE_RANK, ApiKey, hash_key
from service.storage import StorageUnavailableError

__all__ = [
    "SECURITY_HANDLERS",
    "AccessDeniedError",
    "KeyRing",
    "RequestContext",
    "key_name",
    "rate_limit_identifier",
    "scope_guard",
]

log = structlog.get_logger("advisor.http")

#: Finds the configured key of a signed-in web session on a request (None when there is none).
SessionKey = Callable[[ASGIConnection[Any, Any, Any, Any]], ApiKey | None]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Responses that are data, not pages: nothing may be loaded, framed or executed.
_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: Printable reports: their own inline styles and inline SVG charts, nothing else; no script at all.
_PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
#: The web pages (``service.web``): the service's own stylesheet, inline SVG charts, forms posting to the service
#: itself; no script at all.
_WEB_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
#: The OpenAPI viewer: its script from one pinned URL (see ``service.http.app.API_VIEWER``), nothing inline.
_VIEWER_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net; style-src 'unsafe-inline' https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://cdn.redoc.ly; connect-src 'self'; "
    "worker-src blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class AccessDeniedError(Exception):
    """A request without a valid key (401) or with too small a scope (403)."""

    def __init__(self, status: int, problem: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem
        self.headers = headers or {}


@dataclass(frozen=True)
class KeyRing:
    """The configured keys. Lookup hashes the presented secret and compares it with every hash."""

    keys: tuple[ApiKey, ...]

    def identify(self, presented: str) -> ApiKey | None:
        """The key whose hash matches ``presented``, or None; takes the same time whichever key matches."""
        digest = hash_key(presented).encode()
        found = None
        for key in self.keys:
            if hmac.compare_digest(key.sha256.encode(), digest):
                found = key
        return found

    def named(self, name: str) -> ApiKey | None:
        """The configured key called ``name`` (a signed-in session names its key), or None."""
        return next((key for key in self.keys if key.name == name), None)


def presented_key(headers: Any) -> str | None:
    """The secret from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, or None."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return str(value.strip())
    key = headers.get("x-api-key")
    return str(key).strip() or None if key else None


def required_scope(path: str, handler: BaseRouteHandler) -> str | None:
    """The scope a route needs: its ``opt["scope"]``, else ``read`` under ``/v1``, else none (open)."""
    scope = handler.opt.get("scope")
    if scope is None and (path == "/v1" or path.startswith("/v1/")):
        return "read"
    return str(scope) if scope is not None else None


def scope_guard(ring: KeyRing | None, session: SessionKey | None = None) -> Any:
    """A Litestar guard enforcing each route's scope (does nothing when no keys are configured).

    ``session`` finds the key of a person signed in on the web pages: it is accepted for ``GET`` and ``HEAD``
    only (reading a stored decision or its report from a page's link), never to create or delete anything.
    The guard is a coroutine, run on the event loop: it only hashes and compares (no I/O), and Litestar would
    send a plain function to a worker thread for every request.
    """

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if ring is None:
            return
        needed = required_scope(connection.scope["path"], handler)
        if needed is None:
            return
        secret = presented_key(connection.headers)
        challenge = {"WWW-Authenticate": 'Bearer realm="advisor"'}
        if secret is None:
            signed_in = session(connection) if session is not None else None
            if signed_in is not None and connection.scope.get("method") in ("GET", "HEAD"):
                _check_scope(connection, signed_in, needed)
                return
            raise AccessDeniedError(
                401, "an API key is required: send Authorization: Bearer <key> or X-API-Key", challenge
            )
        key = ring.identify(secret)
        if key is None:
            raise AccessDeniedError(401, "the API key is not recognised", challenge)
        _check_scope(connection, key, needed)

    return guard


def _check_scope(connection: ASGIConnection[Any, Any, Any, Any], key: ApiKey, needed: str) -> None:
    connection.state["api_key_name"] = key.name
    if SCOPE_RANK[key.scope] < SCOPE_RANK[needed]:
        raise AccessDeniedError(403, f"API key {key.name!r} has scope {key.scope!r}; this route needs {needed!r}")


def key_name(request: Request[Any, Any, Any]) -> str | None:
    """The name of the API key that authenticated ``request`` (None when keys are not configured)."""
    name = request.state.get("api_key_name")
    return str(name) if name is not None else None


def rate_limit_identifier(ring: KeyRing | None) -> Any:
    """Rate-limit per key name when a valid key is presented, else per client address."""

    def identify(request: Request[Any, Any, Any]) -> str:
        if ring is not None:
            secret = presented_key(request.headers)
            key = ring.identify(secret) if secret else None
            if key is not None:
                return f"key:{key.name}"
        return f"address:{get_remote_address(request)}"

    return identify


# -------------------------------------------------------------------------------------- error bodies
def _body(status: int, title: str, detail: str, field: str, problem: str) -> dict[str, Any]:
    return {"status": status, "title": title, "detail": detail, "errors": [{"field": field, "problem": problem}]}


def _denied(_: Request[Any, Any, Any], exc: AccessDeniedError) -> Response[Any]:
    title = "Authentication required" if exc.status == 401 else "Not allowed"
    field = "Authorization" if exc.status == 401 else "(scope)"
    return Response(
        _body(exc.status, title, exc.problem, field, exc.problem),
        status_code=exc.status,
        media_type=MediaType.JSON,
        headers=exc.headers,
    )


def _too_many(_: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[Any]:
    headers = dict(exc.headers or {})
    reset = headers.get("RateLimit-Reset", "60")
    headers["Retry-After"] = str(max(1, int(reset))) if reset.isdigit() else "60"
    detail = "too many requests; retry after the number of seconds in Retry-After"
    return Response(
        _body(429, "Too many requests", detail, "(rate)", detail),
        status_code=429,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _unavailable(request: Request[Any, Any, Any], exc: StorageUnavailableError) -> Response[Any]:
    log.warning("decision records unavailable", route=request.scope.get("path_template"), reason=str(exc))
    detail = "the decision records database is unavailable; retry later"
    return Response(
        _body(503, "Decision records unavailable", detail, "(storage)", detail),
        status_code=503,
        media_type=MediaType.JSON,
        headers={"Retry-After": str(max(1, round(exc.retry_after_s)))},
    )


SECURITY_HANDLERS: dict[type[Exception] | int, Any] = {
    AccessDeniedError: _denied,
    TooManyRequestsException: _too_many,
    StorageUnavailableError: _unavailable,
}


# ---------------------------------------------------------------------------------- request context
class RequestContext:
    """Wraps the whole ASGI app: allowed hosts, request ids, security headers, one log line, metrics."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str], metrics: Metrics) -> None:
        self.app = app
        self.allowed = [host.lower() for host in allowed_hosts]
        self.metrics = metrics

    def _host_allowed(self, host: str) -> bool:
        if "*" in self.allowed:
            return True
        name = host.lower()
        bare = name.rsplit(":", 1)[0] if not name.endswith("]") and name.count(":") == 1 else name
        return any(fnmatchcase(name, pattern) or fnmatchcase(bare, pattern) for pattern in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        status = 500
        content_type = ""

        async def send_with_headers(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                raw = list(message.get("headers", []))
                content_type = next((v.decode() for k, v in raw if k.lower() == b"content-type"), "")
                csp = _csp(scope["path"], content_type)
                raw += [
                    *_COMMON_HEADERS,
                    (b"content-security-policy", csp.encode()),
                    (b"x-request-id", request_id.encode()),
                ]
                message = {**message, "headers": raw}
            await send(message)

        if not self._host_allowed(headers.get("host", "")):
            detail = "the Host header names a host this service does not serve"
            body = json.dumps(_body(400, "Invalid host", detail, "Host", detail)).encode()
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
            await send_with_headers(start)
            end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
            await send_with_headers(end)
        else:
            await self.app(scope, receive, send_with_headers)
        route = scope.get("path_template") or "(unmatched)"
        elapsed = time.perf_counter() - started
        self.metrics.observe_request(method, route, status, elapsed)
        state = scope.get("state") or {}
        log.info(
            "request",
            method=method,
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
            request_id=request_id,
            key=state.get("api_key_name"),
        )


def _csp(path: str, content_type: str) -> str:
    if path == "/schema" or (path.startswith("/schema/") and content_type.startswith("text/html")):
        return _VIEWER_CSP
    if content_type.startswith("text/html"):
        return _PAGE_CSP if path.startswith("/v1/") else _WEB_CSP
    return _API_CSP
