"""A signed session cookie for people who sign in with an API key in a browser.

The cookie holds the key's *name* and an expiry, signed with HMAC-SHA256; never the key itself. Each request
looks the name up among today's configured keys, so removing a key from the settings ends its sessions and a
scope change applies at once. Only the standard library is used: the value needs integrity, not secrecy.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

__all__ = ["SESSION_COOKIE", "SessionSigner"]

#: The cookie's name (HttpOnly, SameSite=Lax, Path=/; Secure when the request came over https).
SESSION_COOKIE = "advisor_session"


class SessionSigner:
    """Issues and reads ``name:expires:signature`` cookie values."""

    def __init__(self, secret: bytes, max_age_s: int, clock: Callable[[], float] = time.time) -> None:
        # A key of its own, so the same configured secret can also sign CSRF tokens without the two mixing.
        self._key = hmac.new(secret, b"advisor session cookie", hashlib.sha256).digest()
        self.max_age_s = max_age_s
        self._clock = clock

    def _signature(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, key_name: str) -> str:
        """A cookie value naming ``key_name``, valid for ``max_age_s`` seconds."""
        payload = f"{key_name}:{int(self._clock()) + self.max_age_s}"
        return f"{payload}:{self._signature(payload)}"

    def read(self, value: str | None) -> str | None:
        """The key name in a well-signed, unexpired value; None otherwise."""
        if not value or len(value) > 256:
            return None
        parts = value.split(":")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        name, expires, signature = parts
        if not hmac.compare_digest(signature, self._signature(f"{name}:{expires}")):
            return None
        if int(expires) < self._clock():
            return None
        return name
