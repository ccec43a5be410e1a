"""What every page handler shares: the layout's context, the clock, and the scopes pages ask for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from service.web.auth import PageAccess

__all__ = ["READ", "WRITE", "Clock", "Web"]

Clock = Callable[[], dt.date]
READ = {"page_scope": "read"}
WRITE = {"page_scope": "write"}


@dataclass(frozen=True)
class Web:
    """What every page handler needs besides the engine: who is signed in, and for how long a sign-in lasts."""

    access: PageAccess
    max_age_s: int

    def page(
        self, request: Request[Any, Any, Any], template: str, nav: str | None = None, status: int = 200, **context: Any
    ) -> Template:
        """Render ``template`` with the layout's context: the current nav item and who is signed in."""
        key = self.access.session_key(request)
        return Template(
            template_name=template,
            context={"nav": nav, "signed_in_as": key.name if key else None, **context},
            status_code=status,
        )
