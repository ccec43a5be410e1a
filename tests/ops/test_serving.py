"""Several worker processes share one listening socket (each connection accepted on it has Nagle's algorithm off)
and one temporary directory (without one, they are refused before any starts)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from service.serving import TcpConfig, WorkersRefusedError, serve_workers
from tests.served import server_environment


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection accepted on ``listener`` by an asyncio server, as a uvicorn worker serves it
    (``loop.create_server(..., sock=...)``)."""

    async def run() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        try:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            value = await asyncio.wait_for(accepted, timeout=30)
            writer.close()
            return value
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(run())


def test_the_workers_socket_is_a_tcp_socket_that_can_be_passed_to_them() -> None:
    sock = TcpConfig("service.cli:create_app_from_environment", host="127.0.0.1", port=0, workers=2).bind_socket()
    try:
        assert sock.family == socket.AF_INET and sock.type == socket.SOCK_STREAM
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()
        assert sock.getsockname()[1] > 0  # bound
    finally:
        sock.close()


def test_a_connection_accepted_on_the_workers_socket_has_nagles_algorithm_off() -> None:
    sock = TcpConfig("service.cli:create_app_from_environment", host="127.0.0.1", port=0, workers=2).bind_socket()
    sock.listen()
    assert _accepted_nodelay(sock) != 0


def test_without_a_writable_temporary_directory_several_workers_are_refused_before_any_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unwritable(**_: object) -> str:
        raise PermissionError(13, "Permission denied", "/tmp/advisor-workers-x")

    monkeypatch.setattr(tempfile, "mkdtemp", unwritable)
    before = dict(os.environ)
    with pytest.raises(WorkersRefusedError) as refused:
        serve_workers("service.cli:create_app_from_environment", 2, host="127.0.0.1", port=0)
    assert "cannot make the directory the workers share" in str(refused.value)
    assert "Permission denied" in str(refused.value) and "set TMPDIR to a writable directory" in str(refused.value)
    assert dict(os.environ) == before  # nothing announced or named for workers that never started


def test_the_server_command_says_so_and_exits_2(tmp_path: Path) -> None:
    # A real `advisor serve` process whose temporary directories cannot be made.
    script = (
        "import sys, tempfile\n"
        "def unwritable(**_): raise PermissionError(13, 'Permission denied', '/tmp/advisor-workers-x')\n"
        "tempfile.mkdtemp = unwritable\n"
        "from service.cli import main\n"
        "sys.exit(main(['serve', '--host', '127.0.0.1', '--port', '0', '--workers', '2']))\n"
    )
    env = server_environment(f"sqlite:///{tmp_path / 'advisor.db'}")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "error: cannot make the directory the workers share" in done.stderr
    assert "Traceback" not in done.stderr
