"""Assemble the web pages: router, templates, CSRF, sessions and HTML error pages."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service.http.security import KeyRing
from service.settings import Settings
from service.web.auth import PageAccess, PageDeniedError, SignInRequiredError
from service.web.filters import FILTERS
from service.web.pages import PAGE_CONTROLLERS, Web
from service.web.session import SessionSigner

__all__ = ["API_PATHS", "WebParts", "build_web", "is_page_path"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
#: Paths that belong to the JSON API and its documents: no CSRF cookie or check, JSON errors.
API_PATHS = (r"^/v1(/|$)", r"^/schema(/|$)", r"^/health$", r"^/ready$", r"^/metrics$")
_API_PREFIXES = ("/v1/", "/schema/")
_API_EXACT = ("/v1", "/schema", "/health", "/ready", "/metrics")

ExceptionHandler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def is_page_path(path: str) -> bool:
    """True for a path that is (or would be) a web page rather than part of the API."""
    return not (path in _API_EXACT or path.startswith(_API_PREFIXES))


@cache
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: a changed file gets a new URL, so it can be cached for long."""
    return f"/static/{name}?v={_static_version(name)}"


def template_environment() -> Environment:
    """The pages' Jinja2 environment: autoescaped, strict about undefined names, with the page filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals["static_url"] = static_url
    return env


@dataclass(frozen=True)
class WebParts:
    """What the app factory registers for the pages."""

    router: Router
    template_config: TemplateConfig[JinjaTemplateEngine]
    csrf_config: CSRFConfig
    access: PageAccess

    def exception_handlers(self, api: Mapping[type[Exception] | int, Any]) -> dict[type[Exception] | int, Any]:
        """The API's handlers, each answering with an HTML page instead when the request is for a page."""
        return {kind: _page_or_problem(handler) for kind, handler in api.items()}


def _secret(settings: Settings) -> bytes:
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    return os.urandom(32)


def build_web(settings: Settings, ring: KeyRing | None) -> WebParts:
    """The pages, their templates and their protections for ``settings`` (keys from ``ring``)."""
    secret = _secret(settings)
    signer = SessionSigner(secret, settings.session_max_age_s)
    access = PageAccess(ring, signer)
    web = Web(access=access, max_age_s=settings.session_max_age_s)
    static = create_static_files_router(
        path="/static",
        directories=[STATIC],
        name="static",
        include_in_schema=False,
        # The pages ask for /static/<file>?v=<content hash>: a changed file has a new URL, so caching is safe.
        cache_control=CacheControlHeader(max_age=86_400, public=True),
        opt={"page": True},
    )
    router = Router(
        path="/",
        route_handlers=[*PAGE_CONTROLLERS, static],
        guards=[access.guard],
        dependencies={"web": Provide(lambda: web, sync_to_thread=False)},
        exception_handlers={SignInRequiredError: _sign_in_required, PageDeniedError: _page_denied},
        include_in_schema=False,
        opt={"page": True},
    )
    csrf = CSRFConfig(
        secret=hmac.new(secret, b"advisor csrf", hashlib.sha256).hexdigest(),
        cookie_name="advisor_csrf",
        cookie_httponly=True,
        cookie_samesite="strict",
        exclude=list(API_PATHS),
    )
    templates = TemplateConfig(engine=JinjaTemplateEngine.from_environment(template_environment()))
    return WebParts(router=router, template_config=templates, csrf_config=csrf, access=access)


# ---------------------------------------------------------------------------------------- error pages
def _error_page(request: Request[Any, Any, Any], status: int, title: str, detail: str, **extra: Any) -> Response[Any]:
    context: dict[str, Any] = {
        "title": title,
        "detail": detail,
        "errors": [],
        "sign_in": None,
        "nav": None,
        "signed_in_as": None,
    }
    context.update(extra)
    return Template(template_name="error.html", context=context, status_code=status)


def _sign_in_required(request: Request[Any, Any, Any], exc: SignInRequiredError) -> Response[Any]:
    if request.method in ("GET", "HEAD"):
        return Redirect(path=f"/sign-in?next={exc.next_path}", status_code=303)
    return _error_page(request, 401, "Sign in required", str(exc), sign_in="/")


def _page_denied(request: Request[Any, Any, Any], exc: PageDeniedError) -> Response[Any]:
    return _error_page(request, 403, "Not allowed", exc.problem)


def _page_or_problem(handler: ExceptionHandler) -> ExceptionHandler:
    def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        response = handler(request, exc)
        if not is_page_path(request.scope["path"]) or not isinstance(response.content, dict):
            return response
        body = response.content
        given = body.get("status")
        status = given if isinstance(given, int) else (response.status_code or 500)
        title = str(body.get("title", "Error"))
        if status == 403 and "CSRF" in str(body.get("detail", "")):
            title = "This form has expired"
            detail = (
                "The form was sent without its security token (or with an old one). Go back, reload the page and "
                "send it again. Nothing was stored."
            )
        else:
            detail = str(body.get("detail", ""))
        page = _error_page(request, status, title, detail, errors=body.get("errors", []) if status < 500 else [])
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            value = response.headers.get(name)
            if value is not None:
                page.headers[name] = value
        return page

    return handle
