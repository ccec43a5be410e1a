"""Shared fixtures: the shipped data and an engine built from it once per session."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from service.domain.engine import Engine
from service.loading.engine import build_engine
from tests.served import running_server

# CI runs a fixed sequence of examples (HYPOTHESIS_PROFILE=ci, set by .ci/run) so that a landing never
# depends on luck; local runs explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Tests that build an app without naming a database keep their decision records in memory, never in the
# user's data directory.
os.environ.setdefault("ADVISOR_DATABASE_URL", "sqlite://")
# ... and fit the capability model afresh rather than keeping it in the user's cache directory.
os.environ.setdefault("ADVISOR_CACHE_DIR", "")
# The test clients' hosts, no rate limit (the suite sends thousands of requests from one address), and a
# database deadline that a loaded test machine cannot miss; the tests of each of these set their own.
os.environ.setdefault("ADVISOR_ALLOWED_HOSTS", "testserver.local,testserver,127.0.0.1,localhost")
os.environ.setdefault("ADVISOR_RATE_LIMIT_PER_MINUTE", "0")
os.environ.setdefault("ADVISOR_DATABASE_DEADLINE_S", "60")

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "catalogue"
RULES = REPO / "rules"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine on the shipped catalogue and rules."""
    return build_engine(CATALOGUE, RULES)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of one real `advisor serve` (no API keys, its own database) shared by the session's tests."""
    with running_server(tmp_path_factory.mktemp("served")) as server:
        yield server.url
