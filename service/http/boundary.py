"""The request boundary: what every request must look like before a handler or the JSON decoder sees it.

- A route that takes a JSON body accepts only ``application/json`` (optionally ``charset=utf-8``); any other
  media type is refused with 415, so a web page cannot post a form or ``text/plain`` body cross-site.
- A JSON body nested deeper than :data:`MAX_JSON_DEPTH` arrays or objects is refused with 400 before it is
  decoded (a recursive decoder would otherwise run out of stack).
- Every route refuses query parameters it does not declare, with 400 naming each one. The declared ones are
  read from the OpenAPI document, so the document and the check cannot disagree.
- ``OPTIONS`` answers with every method of the path in ``Allow`` (Litestar's own answer can miss methods
  registered by a second handler on the same path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar import Request, Response
from litestar.routes import HTTPRoute

__all__ = ["MAX_JSON_DEPTH", "RequestBoundary", "RequestRefused", "json_depth"]

#: The deepest nesting of arrays and objects accepted in a JSON body (requests need fewer than 10).
MAX_JSON_DEPTH = 64

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


class RequestRefused(Exception):  # noqa: N818 - named for what happened, like Litestar's RequestEntityTooLarge
    """A request refused at the boundary: its status, title, and each (field, problem) pair."""

    def __init__(self, status: int, title: str, errors: list[tuple[str, str]]) -> None:
        self.status = status
        self.title = title
        self.errors = errors
        super().__init__(f"{status} " + "; ".join(f"{field}: {problem}" for field, problem in errors))


def json_depth(body: bytes, stop_above: int = MAX_JSON_DEPTH) -> int:
    """The deepest nesting of ``[`` and ``{`` in ``body`` outside strings, counted up to ``stop_above + 1``.

    Brackets are counted outside JSON strings only; for malformed JSON the count is an upper bound of what a
    decoder would reach before refusing it.
    """
    depth = deepest = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKET):
        if byte in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


class RequestBoundary:
    """A ``before_request`` hook enforcing the module's three rules.

    ``query_parameters`` maps an operation id to the query parameter names it declares; operations not in it
    (Litestar's own OPTIONS and OpenAPI routes) are not checked for query parameters.
    """

    def __init__(self) -> None:
        self.query_parameters: Mapping[str, frozenset[str]] = {}
        self.allowed_methods: Mapping[str, str] = {}

    def learn_routes(self, routes: Iterable[Any]) -> None:
        """Record the methods of every HTTP route, for ``OPTIONS`` answers."""
        # A path may be served by several route objects (one per handler group): take the union.
        methods: dict[str, set[str]] = {}
        for route in routes:
            if isinstance(route, HTTPRoute):
                methods.setdefault(route.path_format, set()).update(route.methods)
        self.allowed_methods = {path: ", ".join(sorted(names)) for path, names in methods.items()}

    async def __call__(self, request: Request[Any, Any, Any]) -> Response[None] | None:
        if request.method == "OPTIONS":
            allowed = self.allowed_methods.get(str(request.scope.get("path_template", "")))
            if allowed is not None:
                return Response(None, status_code=204, headers={"Allow": allowed})
        handler = request.route_handler
        operation = handler.operation_id if isinstance(handler.operation_id, str) else None
        if operation is not None and operation in self.query_parameters:
            self._check_query(request, self.query_parameters[operation])
        if "data" in handler.parsed_fn_signature.parameters:
            await self._check_body(request)
        return None

    @staticmethod
    def _check_query(request: Request[Any, Any, Any], known: frozenset[str]) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            accepted = ", ".join(sorted(known)) if known else "none"
            problem = f"unknown query parameter; accepted: {accepted}"
            raise RequestRefused(400, "Invalid request", [(name[:100], problem) for name in unknown])

    @staticmethod
    async def _check_body(request: Request[Any, Any, Any]) -> None:
        header = request.headers.get("content-type")
        if header is not None:
            media_type, options = request.content_type
            charset = options.get("charset", "utf-8").lower()
            if media_type.lower() != "application/json" or charset not in ("utf-8", "utf8"):
                problem = f"the body must be application/json (UTF-8); got {header[:100]!r}"
                raise RequestRefused(415, "Unsupported media type", [("(body)", problem)])
        body = await request.body()  # refuses a body over the size limit (413)
        if body and header is None:
            raise RequestRefused(
                415, "Unsupported media type", [("(body)", "a body needs the header Content-Type: application/json")]
            )
        # A body is nested at most as deep as it has opening brackets (those inside strings count too), which
        # two byte counts give at once; only a body with more is scanned.
        if body and body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
            problem = f"JSON nested more than {MAX_JSON_DEPTH} arrays or objects deep"
            raise RequestRefused(400, "Invalid request", [("(body)", problem)])
