"""The rate limit: shared by the worker processes of one server (``advisor serve --workers N``), and one process's
ended windows purged.

Litestar's rate limit counts in the memory of the process that serves the request, so each of N worker processes
would admit the whole limit: a client could make N times the requests configured. With several workers,
``advisor serve`` names a file (the environment variable :data:`SHARED_ENV`, in a directory it makes and removes)
in which every worker counts: a SQLite database holding, per client (an API key's name, else an address), the
requests admitted in its window and when that window ends. One statement admits or refuses a request and counts
it; SQLite runs it as one transaction, so two workers never both admit the last request of a window.

The windows and headers are Litestar's (:class:`SharedRateLimitMiddleware` replaces only where the counts are
kept): a client's window starts at its first request and lasts the limit's unit; a request is refused (429) when
the window has admitted the limit already, and refused requests are not counted; every checked response carries
``RateLimit-Policy``, ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``.

The counts need no durability (they are minutes old at most and the file goes with the server), so SQLite writes
them without waiting for the disk. The workers take turns at the file through a lock the kernel hands on (a worker
waits only while another runs its one statement, and a worker that dies lets go of it). When the file cannot be
read or written (removed, disk full, held by another program longer than :data:`BUSY_TIMEOUT_S`), the request is
admitted and the fault logged: a broken counter must not stop the service.

One process (the default) keeps Litestar's own limit, its windows in the app's memory store. That store drops a
client's ended window only when the client comes back, so a server reached from many addresses would keep every
one it ever saw: :func:`ended_windows_purged` deletes the ended windows every :data:`PURGE_EVERY_S` seconds while
the app runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from time import time
from typing import TYPE_CHECKING, BinaryIO

import structlog
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "BUSY_TIMEOUT_S",
    "PURGE_EVERY_S",
    "SHARED_ENV",
    "SharedRateLimitConfig",
    "SharedRateLimitMiddleware",
    "SharedWindows",
    "ended_windows_purged",
    "shared_rate_limit_file",
]

log = structlog.get_logger("service.http.ratelimit")

#: The environment variable naming the file the workers of one ``advisor serve`` count in (set by it).
SHARED_ENV = "ADVISOR_RATE_LIMIT_SHARED_FILE"
#: How long SQLite waits for a file another program holds before the request is admitted uncounted.
BUSY_TIMEOUT_S = 2.0
#: Every this many counts, windows that have ended are deleted (the table holds about one row a recent client).
PRUNE_EVERY = 1024
#: Seconds between two purges of one process's ended windows (:func:`ended_windows_purged`).
PURGE_EVERY_S = 60.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS windows ("
    "client TEXT PRIMARY KEY, admitted INTEGER NOT NULL, ends INTEGER NOT NULL) WITHOUT ROWID"
)
# Admit and count one request: a new window when the client has none or its window has ended, else one more in the
# window unless it is full. No row returned: refused (the window is full).
_TAKE = (
    "INSERT INTO windows (client, admitted, ends) VALUES (:client, 1, :ends) "
    "ON CONFLICT (client) DO UPDATE SET "
    "admitted = CASE WHEN windows.ends <= :now THEN 1 ELSE windows.admitted + 1 END, "
    "ends = CASE WHEN windows.ends <= :now THEN :ends ELSE windows.ends END "
    "WHERE windows.ends <= :now OR windows.admitted < :limit "
    "RETURNING admitted, ends"
)
_WINDOW = "SELECT admitted, ends FROM windows WHERE client = :client"
_PRUNE = "DELETE FROM windows WHERE ends <= :now"


class SharedWindows:
    """The clients' windows in the SQLite file ``path``, shared by every process that opens it.

    Each process opens the file on first use (never a connection carried across a fork); calls from several threads
    of one process take turns. Processes take turns at the file through an exclusive lock on ``path + ".lock"``,
    waited for in the kernel (woken as soon as it is free): SQLite then never meets another writer, and its own wait
    for a busy file (sleeps of a millisecond and more) never holds up a worker's event loop.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._opened: tuple[int, BinaryIO, sqlite3.Connection | None] | None = None
        self._counted = 0

    @contextlib.contextmanager
    def _turn(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, while it holds the file (the caller holds ``_lock``)."""
        opened = self._opened
        if opened is None or opened[0] != os.getpid():
            # A lock taken through a descriptor inherited across a fork would be the parent's: open one's own.
            opened = self._opened = (os.getpid(), open(self.path + ".lock", "a+b"), None)  # noqa: SIM115 - kept
        pid, turns, connection = opened
        fcntl.flock(turns, fcntl.LOCK_EX)
        try:
            if connection is None:
                connection = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
                )
                connection.execute("PRAGMA journal_mode=WAL")  # appended, not rewritten, at each count
                connection.execute("PRAGMA synchronous=OFF")  # counts need no durability (see the module)
                connection.execute(_SCHEMA)
                self._opened = (pid, turns, connection)
            yield connection
        finally:
            fcntl.flock(turns, fcntl.LOCK_UN)

    def take(self, client: str, limit: int, window_s: int, now: int) -> tuple[bool, int, int]:
        """Admit one request of ``client`` at ``now`` (seconds) under ``limit`` requests a window of ``window_s``
        seconds, and count it: (admitted, requests admitted in the window, when the window ends).

        Raises :class:`OSError` or :class:`sqlite3.Error` when the file cannot be used (the caller decides what
        that means).
        """
        values = {"client": client, "now": now, "ends": now + window_s, "limit": limit}
        with self._lock, self._turn() as connection:
            row = connection.execute(_TAKE, values).fetchone()
            if row is None:
                refused = connection.execute(_WINDOW, values).fetchone()
                admitted, ends = refused if refused is not None else (limit, now + window_s)
                return False, int(admitted), int(ends)
            self._counted += 1
            if self._counted % PRUNE_EVERY == 0:
                connection.execute(_PRUNE, values)
            return True, int(row[0]), int(row[1])

    def close(self) -> None:
        """Close this process's connection and lock file (the next :meth:`take` opens them again)."""
        with self._lock:
            opened, self._opened = self._opened, None
            if opened is not None and opened[0] == os.getpid():
                if opened[2] is not None:
                    opened[2].close()
                opened[1].close()


@dataclass
class SharedRateLimitConfig(RateLimitConfig):
    """Litestar's :class:`RateLimitConfig`, counting in ``windows`` (see the module; the app closes them when it
    shuts down)."""

    windows: SharedWindows | None = None
    middleware_class: type[RateLimitMiddleware] = field(default_factory=lambda: SharedRateLimitMiddleware)


class SharedRateLimitMiddleware(RateLimitMiddleware):
    """Litestar's rate limit, its windows kept in a :class:`SharedWindows` file rather than the app's store."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        super().__init__(app, config)
        if not isinstance(config, SharedRateLimitConfig) or config.windows is None:
            raise ValueError("a shared rate limit needs a SharedRateLimitConfig with its windows")
        self.windows = config.windows
        self.window_s = DURATION_VALUES[self.unit]
        #: Requests admitted uncounted since the last warning, and when that was (a warning a minute at most).
        self._missed, self._warned = 0, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = scope["litestar_app"].request_class(scope)
        if await self.should_check_request(request=request):
            now = int(time())
            try:
                admitted, used, ends = self.windows.take(
                    self.cache_key_from_request(request), self.max_requests, self.window_s, now
                )
            except (OSError, sqlite3.Error) as error:
                self._uncounted(error, now)
            else:
                headers = self._headers(used, ends, now)
                if not admitted:
                    raise TooManyRequestsException(headers=headers if self.config.set_rate_limit_headers else None)
                if self.config.set_rate_limit_headers:
                    send = _with_headers(send, headers)
        await self.app(scope, receive, send)

    def _uncounted(self, error: Exception, now: int) -> None:
        self._missed += 1
        if now - self._warned >= 60:
            log.warning("rate limit not counted", reason=str(error), file=self.windows.path, requests=self._missed)
            self._missed, self._warned = 0, now

    def _headers(self, used: int, ends: int, now: int) -> dict[str, str]:
        config = self.config
        return {
            config.rate_limit_policy_header_key: f"{self.max_requests}; w={self.window_s}",
            config.rate_limit_limit_header_key: str(self.max_requests),
            config.rate_limit_remaining_header_key: str(max(0, self.max_requests - used)),
            config.rate_limit_reset_header_key: str(ends - now),
        }


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    """``send`` with ``headers`` added to the response's start."""
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *encoded]}
        await send(message)

    return sending


def shared_rate_limit_file() -> str | None:
    """The file named by :data:`SHARED_ENV`, or None when this process is not one of several workers."""
    return os.environ.get(SHARED_ENV) or None


def ended_windows_purged(
    store_name: str, every_s: float | None = None
) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan for an app whose rate limit keeps its windows in its store ``store_name`` (Litestar's in-memory
    limit): while the app runs, the windows that have ended are deleted every ``every_s`` seconds (default:
    :data:`PURGE_EVERY_S`; see the module). A purge that fails is logged and tried again at the next."""
    interval = PURGE_EVERY_S if every_s is None else every_s

    @contextlib.asynccontextmanager
    async def purging(app: Litestar) -> AsyncIterator[None]:
        # Litestar's memory and file stores delete ended entries when asked; a store without that ends them itself.
        delete_expired: Callable[[], Awaitable[None]] | None = getattr(
            app.stores.get(store_name), "delete_expired", None
        )
        if delete_expired is None:
            yield
            return

        async def purge() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    await delete_expired()
                except Exception as error:  # a store fault must not end the purges, nor the app
                    log.warning("ended rate-limit windows not purged", reason=str(error), store=store_name)

        task = asyncio.create_task(purge())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return purging
