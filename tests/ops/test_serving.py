"""Several worker processes share one listening socket: each connection accepted on it has Nagle's algorithm off."""

from __future__ import annotations

import asyncio
import socket

from service.serving import TcpConfig


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
