"""One real server for the client and MCP tests: `advisor serve` in its own process, with API keys configured."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from service.settings import hash_key
from tests.served import running_server

KEYS = {"reader": "read", "writer": "write", "boss": "admin"}


@dataclass(frozen=True)
class Served:
    """Where the server listens, the secrets of its keys by scope, and the environment it was started with."""

    url: str
    keys: dict[str, str]
    env: dict[str, str]


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Start the server with a read, a write and an admin key; always stop it afterwards."""
    secrets = {scope: f"secret-{name}-{scope}" for name, scope in KEYS.items()}
    keys = ",".join(f"{name}:{scope}:{hash_key(secrets[scope])}" for name, scope in KEYS.items())
    with running_server(tmp_path_factory.mktemp("client-served"), ADVISOR_API_KEYS=keys) as server:
        yield Served(server.url, secrets, server.env)
