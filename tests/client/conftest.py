"""One real server for the client and MCP tests: `advisor serve` in its own process, with API keys configured."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.settings import hash_key
from tests.e2e.test_served import ROOT, _free_port, _serve_command, _wait_until_ready

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
    workdir = tmp_path_factory.mktemp("client-served")
    port = _free_port()
    secrets = {scope: f"secret-{name}-{scope}" for name, scope in KEYS.items()}
    env = {
        **os.environ,
        "ADVISOR_CATALOGUE_DIR": str(ROOT / "catalogue"),
        "ADVISOR_RULES_DIR": str(ROOT / "rules"),
        "ADVISOR_DATABASE_URL": f"sqlite:///{workdir / 'advisor.db'}",
        "ADVISOR_LOG_LEVEL": "warning",
        "ADVISOR_API_KEYS": ",".join(f"{name}:{scope}:{hash_key(secrets[scope])}" for name, scope in KEYS.items()),
    }
    for name in ("ADVISOR_URL", "ADVISOR_API_KEY"):
        env.pop(name, None)
    url = f"http://127.0.0.1:{port}"
    log_path: Path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _serve_command(port), cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            _wait_until_ready(process, url, log_path)
            yield Served(url, secrets, env)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
