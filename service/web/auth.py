"""Who is asking, for the web pages: an API key in a header, or a signed-in session.

With API keys configured, every page that shows or creates decisions needs one of the two, with the scope the
page names in ``opt["page_scope"]`` (``read`` to look, ``write`` to create a decision). Without keys
configured, pages are open, like the API. A person without a session is sent to the sign-in page; a tool
sending ``X-API-Key`` or ``Authorization: Bearer`` is judged by its key, as on the API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.http.security import KeyRing, presented_key
from service.settings import SCOPE_RANK, ApiKey
from service.web.session import SESSION_COOKIE, SessionSigner

__all__ = ["PageAccess", "PageDeniedError", "SignInRequiredError", "safe_next"]


class SignInRequiredError(Exception):
    """The page needs a signed-in session or a key, and the request has neither."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to see this page")
        self.next_path = next_path


class PageDeniedError(Exception):
    """The key (or the signed-in key) has too small a scope for the page."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def safe_next(path: str | None) -> str:
    """A local path to return to after signing in; anything else (another site, ``//host``) becomes ``/``."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2000:
        return "/"
    if any(ord(c) < 33 or ord(c) == 127 for c in path):  # no header splitting, no spaces
        return "/"
    return path


class PageAccess:
    """Finds the key behind a request (header first, then session) and guards pages by scope."""

    def __init__(self, ring: KeyRing | None, signer: SessionSigner) -> None:
        self.ring = ring
        self.signer = signer

    @property
    def enabled(self) -> bool:
        """True when API keys are configured, so pages need a key or a session."""
        return self.ring is not None

    def session_key(self, connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey | None:
        """The configured key a valid session cookie names, or None."""
        if self.ring is None:
            return None
        name = self.signer.read(connection.cookies.get(SESSION_COOKIE))
        return self.ring.named(name) if name is not None else None

    def key(self, connection: ASGIConnection[Any, Any, Any, Any]) -> ApiKey | None:
        """The key of the request: a presented header key if valid, else the signed-in session's key."""
        if self.ring is None:
            return None
        secret = presented_key(connection.headers)
        if secret is not None:
            return self.ring.identify(secret)
        return self.session_key(connection)

    def guard(self, connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        """A Litestar guard: pages with ``opt["page_scope"]`` need a key or session with that scope."""
        needed = handler.opt.get("page_scope")
        if self.ring is None or needed is None:
            return
        key = self.key(connection)
        if key is None:
            path = connection.scope["path"]
            query = connection.scope.get("query_string", b"").decode("latin-1")
            raise SignInRequiredError(quote(path + ("?" + query if query else ""), safe="/?=&%"))
        connection.state["api_key_name"] = key.name
        if SCOPE_RANK[key.scope] < SCOPE_RANK[str(needed)]:
            raise PageDeniedError(f"the key {key.name!r} has scope {key.scope!r}; this page needs {needed!r}")
