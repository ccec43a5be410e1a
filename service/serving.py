"""Serving several worker processes (``advisor serve --workers N``) on one listening socket.

Four things differ from uvicorn's own ``uvicorn.run(..., workers=N)``: each connection has Nagle's algorithm off
(below); the workers count their metrics in one shared directory (:mod:`service.http.metrics`) and their clients'
requests against one rate limit (:mod:`service.http.ratelimit`); and they know their supervisor, which a data
reload asks to replace them all (:mod:`service.supervisor`).

uvicorn (0.54) binds the workers' shared socket with ``socket.socket(family)``, whose protocol number is 0. Every
connection accepted on it inherits that, and asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on
sockets whose protocol is ``IPPROTO_TCP``. A response written in two parts (its head, then its body) then waited
for the client's delayed acknowledgement of the first: with ``--workers 2``, every request after the first on a
kept-alive connection took about 44 ms, ``GET /health`` included (uvicorn issue 3149, open). One worker is not
affected: uvicorn lets asyncio bind that socket, from ``getaddrinfo``, which states the protocol.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from service.http.metrics import MULTIPROCESS_ENV
from service.http.ratelimit import SHARED_ENV
from service.supervisor import announce_supervisor

__all__ = ["TcpConfig", "WorkersRefusedError", "serve_workers"]


class WorkersRefusedError(Exception):
    """Several workers cannot be started here; the message says why and what to change."""


class TcpConfig(uvicorn.Config):
    """uvicorn's configuration, its listening socket bound as uvicorn binds it and then stated to be TCP."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
            return sock
        # The same socket (its descriptor handed over, not closed), its protocol now stated.
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)  # passed to the worker processes, as uvicorn's own socket is
        return tcp


def serve_workers(app: str, workers: int, **options: Any) -> None:
    """What ``uvicorn.run(app, factory=True, workers=workers, **options)`` does, on :class:`TcpConfig`'s socket:
    ``app`` names the factory each worker process calls. The workers share one new directory (removed when they
    have stopped): they count their metrics in it, unless the environment names a directory for them
    (``PROMETHEUS_MULTIPROC_DIR``: it must then be emptied before each start, or the counts of the last run are
    added in), and their clients' requests against the rate limit (:mod:`service.http.ratelimit`).

    Raises :class:`WorkersRefusedError`, before any worker starts, when that directory cannot be made."""
    config = TcpConfig(app, factory=True, workers=workers, **options)
    try:
        shared = Path(tempfile.mkdtemp(prefix="advisor-workers-"))
    except OSError as exc:
        raise WorkersRefusedError(
            f"cannot make the directory the workers share: {exc}; set TMPDIR to a writable directory"
        ) from exc
    announce_supervisor()  # a worker's data reload asks this process to replace every worker
    named = {SHARED_ENV: str(shared / "rate-limit.sqlite")}
    if not os.environ.get(MULTIPROCESS_ENV):
        (shared / "metrics").mkdir()
        named[MULTIPROCESS_ENV] = str(shared / "metrics")
    os.environ.update(named)  # the workers inherit this process's environment
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C in a terminal: the workers have stopped
            Multiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        for name in named:
            os.environ.pop(name, None)
        shutil.rmtree(shared, ignore_errors=True)
