"""The real server for tests: `advisor serve` (uvicorn) in its own process on a free port, called over the network.

One helper for every test that needs the service as it is deployed (the e2e, client, MCP and browser tests):
`running_server` starts it with the shipped catalogue and rules and a database of its own, waits until it
answers, yields a `Server` and always stops it. `start_server`, `wait_until_answering` and `stop_server` are
its parts, for the operations tests that start a server in an unusual state (a silent or read-only
database, several workers, a SIGTERM mid-request).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 60.0
"""How long a starting server may take before the test fails with its log (generous on a loaded machine)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(port: int, *extra: str) -> list[str]:
    """`advisor serve` on 127.0.0.1:port: the console script next to this interpreter, else the module."""
    script = shutil.which("advisor", path=str(Path(sys.executable).parent))
    base = [script] if script else [sys.executable, "-m", "service.cli"]
    return [*base, "serve", "--host", "127.0.0.1", "--port", str(port), *extra]


def server_environment(database_url: str, **extra: str) -> dict[str, str]:
    """This process's environment with the shipped data, the given database and `extra` settings on top.

    A client setting inherited from the caller (``ADVISOR_URL``, ``ADVISOR_API_KEY``) is dropped so that the
    server and any client started from this environment see only what the test states.
    """
    env = {
        **os.environ,
        "ADVISOR_CATALOGUE_DIR": str(ROOT / "catalogue"),
        "ADVISOR_RULES_DIR": str(ROOT / "rules"),
        "ADVISOR_DATABASE_URL": database_url,
        "ADVISOR_LOG_LEVEL": "warning",
        # Generous on a loaded test machine; the silent-database test sets the real default of 1 s.
        "ADVISOR_DATABASE_DEADLINE_S": "60",
    }
    for name in ("ADVISOR_URL", "ADVISOR_API_KEY"):
        env.pop(name, None)
    env.update(extra)
    return env


@dataclass(frozen=True)
class Server:
    """A started server: where it listens, its process, where it logs, and the environment it was started with."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        """What the server has written so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")


def start_server(env: dict[str, str], log_path: Path, *extra: str, cwd: Path | None = None) -> Server:
    """Start `advisor serve` on a free port with `env`; it writes its output to `log_path`. Does not wait."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serve_command(port, *extra),
            cwd=cwd or log_path.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Server(f"http://127.0.0.1:{port}", port, process, log_path, env)


def wait_until_answering(server: Server, path: str = "/ready", *, status: int | None = 200) -> None:
    """Poll `path` until it answers (with `status`, or with anything when `status` is None); fail with the log."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=server.url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(f"the server exited with {server.process.returncode}:\n{server.log()}")
            try:
                answer = client.get(path)
                if status is None or answer.status_code == status:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling interval while the server starts; nothing is timed
    pytest.fail(f"the server did not answer {path} within {READY_TIMEOUT_S:.0f} s:\n{server.log()}")


def stop_server(server: Server) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if server.process.poll() is not None:
        return
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=15)


@contextmanager
def running_server(workdir: Path, **settings: str) -> Iterator[Server]:
    """A server with its own SQLite database in `workdir` and `settings` (environment variables), ready.

    Yields once ``/ready`` answers 200; stops the server on the way out, whatever happened.
    """
    env = server_environment(f"sqlite:///{workdir / 'advisor.db'}", **settings)
    server = start_server(env, workdir / "server.log", cwd=workdir)
    try:
        wait_until_answering(server, "/ready")
        yield server
    finally:
        stop_server(server)
