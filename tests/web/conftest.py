"""Fixtures for the web pages: an app on the shipped data with a fixed date, with and without API keys."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.domain.engine import Engine
from service.http.app import create_app
from service.settings import ApiKey, Settings, hash_key

TODAY = dt.date(2026, 11, 25)
#: Secrets of the keys configured by ``keyed_client``: name -> (secret, scope).
KEYS = {"reader": ("reader-secret-0123456789", "read"), "writer": ("writer-secret-0123456789", "write")}


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient[Litestar]]:
    """The app without API keys (pages are open), decision records in memory."""
    settings = Settings(database_url="sqlite://")
    with TestClient(create_app(settings, engine=engine, clock=lambda: TODAY)) as test_client:
        yield test_client


@pytest.fixture
def keyed_client(engine: Engine) -> Iterator[TestClient[Litestar]]:
    """The app with a read key and a write key configured."""
    keys = [ApiKey(name=name, scope=scope, sha256=hash_key(secret)) for name, (secret, scope) in KEYS.items()]  # type: ignore[arg-type]
    settings = Settings(database_url="sqlite://", api_keys=keys, session_secret="s" * 40)
    with TestClient(create_app(settings, engine=engine, clock=lambda: TODAY)) as test_client:
        yield test_client
