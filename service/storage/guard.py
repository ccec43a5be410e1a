"""A store that cannot freeze its caller: every call has a deadline, and a failing database is left alone.

The database is opened (and migrated) on first use inside a worker thread, never on the caller's thread.
Each call waits at most ``deadline_s`` for an answer. A failure or a timeout opens the circuit: for
``retry_after_s`` every call fails at once with :class:`StorageUnavailableError` (the HTTP layer answers 503 with
``Retry-After``), then one call is let through to try again. A thread stuck on a silent server stays stuck
until the driver's own connect or statement timeout, but no new caller waits behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

import structlog

from service.storage.records import DecisionRecord, DecisionStore, RecordSummary, StorageError, StorageUnavailableError
from service.storage.versions import DataVersion

__all__ = ["GuardedStore"]

T = TypeVar("T")
log = structlog.get_logger("advisor.storage")


def _hand_back(loop: asyncio.AbstractEventLoop, done: Future[T], outcome: asyncio.Future[T]) -> None:
    """On the writer's thread: have ``loop`` copy ``done``'s outcome to ``outcome`` (nothing when it has closed)."""
    with contextlib.suppress(RuntimeError):  # the loop has closed (shutdown): nobody is waiting any more
        loop.call_soon_threadsafe(_copy_outcome, done, outcome)


def _copy_outcome(done: Future[T], outcome: asyncio.Future[T]) -> None:
    """Give ``outcome`` (a future of the event loop) what ``done`` ended with, unless its waiter has gone."""
    if outcome.cancelled():
        return
    error = done.exception()
    if error is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(done.result())


class GuardedStore:
    """A :class:`DecisionStore` wrapping another one, opened lazily, with deadlines and a circuit breaker."""

    def __init__(
        self,
        opener: Callable[[], DecisionStore],
        *,
        deadline_s: float = 1.0,
        retry_after_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_failure: Callable[[str], None] | None = None,
        owns_store: bool = True,
    ) -> None:
        self._opener = opener
        self._owns_store = owns_store
        self._deadline_s = deadline_s
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._on_failure = on_failure
        self._store: DecisionStore | None = None
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._last_success = -float("inf")
        self._reason = ""
        self._versions: dict[str, DataVersion] = {}
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="records")

    # ----------------------------------------------------------------------------------- the breaker
    def _refuse_if_open(self) -> None:
        with self._lock:
            remaining = self._open_until - self._clock()
            if remaining > 0:
                raise StorageUnavailableError(f"decision records unavailable: {self._reason}", remaining)

    def _trip(self, reason: str) -> None:
        with self._lock:
            self._open_until = self._clock() + self._retry_after_s
            self._reason = reason
        log.error("decision records database failed; failing fast", reason=reason, retry_after_s=self._retry_after_s)
        if self._on_failure is not None:
            self._on_failure(reason)

    def _opened(self) -> DecisionStore:
        with self._lock:
            store = self._store
        if store is None:
            store = self._opener()
            with self._lock:
                if self._store is None:
                    for version in self._versions.values():
                        store.register_version(version)
                    self._versions.clear()  # the store keeps them until they are stored
                    self._store = store
                else:  # another thread opened it meanwhile
                    store.close()
                    store = self._store
        return store

    def _run(self, operation: Callable[[DecisionStore], T]) -> T:
        result = operation(self._opened())
        with self._lock:
            self._last_success = self._clock()
        return result

    def _call(self, operation: Callable[[DecisionStore], T]) -> T:
        self._refuse_if_open()
        return self._wait(self._pool.submit(self._run, operation))

    def _succeeded(self, future: Future[T]) -> None:
        if not future.cancelled() and future.exception() is None:
            with self._lock:
                self._last_success = self._clock()

    def _wait(self, future: Future[T]) -> T:
        try:
            return future.result(timeout=self._deadline_s)
        except FutureTimeout:
            raise self._timed_out() from None
        except StorageError as exc:
            self._trip(str(exc))
            raise

    def _timed_out(self) -> StorageUnavailableError:
        """The error for a call that had no answer within the deadline; the circuit opens unless the store is
        still committing other calls (busy, not failing)."""
        reason = f"no answer within {self._deadline_s:g} s"
        with self._lock:
            progressing = self._clock() - self._last_success < self._deadline_s
        if not progressing:
            self._trip(reason)
        return StorageUnavailableError(
            f"decision records unavailable: {reason}" + (" (busy)" if progressing else ""),
            min(self._retry_after_s, 1.0) if progressing else self._retry_after_s,
        )

    def open_now(self) -> bool:
        """Open the store on the calling thread (at start-up, before serving); on failure open the circuit.

        Returns whether the store is open. Opening waits at most for the driver's connect timeout.
        """
        try:
            self._opened()
        except StorageError as exc:
            self._trip(str(exc))
            return False
        return True

    @property
    def unavailable_reason(self) -> str | None:
        """Why calls fail fast now, or None when the circuit is closed."""
        with self._lock:
            return self._reason if self._open_until > self._clock() else None

    # ------------------------------------------------------------------------------ DecisionStore
    def save(self, record: DecisionRecord) -> tuple[DecisionRecord, bool]:
        """Store ``record`` unless its id exists (see :meth:`DecisionStore.save`).

        With a store that queues writes for a group commit (``submit``), the caller waits on the commit itself
        rather than holding a worker thread; either way it waits at most the deadline. A caller that timed out
        was not told the record is stored; the queued write may still commit (saving is idempotent).
        """
        future = self._submit(record)
        if future is None:
            return self._call(lambda opened: opened.save(record))
        return self._wait(future)

    def _submit(self, record: DecisionRecord) -> Future[tuple[DecisionRecord, bool]] | None:
        """Queue ``record`` for the open store's group commit; None when the store is not open yet or has none."""
        self._refuse_if_open()
        with self._lock:
            store = self._store
        submit: Callable[[DecisionRecord], Future[tuple[DecisionRecord, bool]]] | None = getattr(store, "submit", None)
        if submit is None:
            return None
        try:
            future = submit(record)
        except StorageError as exc:
            self._trip(str(exc))
            raise
        future.add_done_callback(self._succeeded)
        return future

    async def save_async(self, record: DecisionRecord) -> tuple[DecisionRecord, bool]:
        """:meth:`save` for a caller on the event loop: it awaits the group commit without holding a thread.

        The same deadline, circuit breaker and outcome as :meth:`save`. With a store that has no group commit,
        :meth:`save` runs on a worker thread.
        """
        future = self._submit(record)
        if future is None:
            return await asyncio.to_thread(self.save, record)
        # The commit's outcome is copied to a future of this loop; a caller that stops waiting (the deadline, or
        # its request cancelled) cancels only that copy, never the queued write (saving is idempotent).
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[tuple[DecisionRecord, bool]] = loop.create_future()
        future.add_done_callback(lambda done: _hand_back(loop, done, outcome))
        try:
            async with asyncio.timeout(self._deadline_s):
                return await outcome
        except TimeoutError:
            raise self._timed_out() from None
        except StorageError as exc:
            self._trip(str(exc))
            raise

    def seal(self, record_id: str, answer_digest: str) -> str | None:
        """Fix the record's answer digest unless it has one (see :meth:`DecisionStore.seal`)."""
        return self._call(lambda store: store.seal(record_id, answer_digest))

    def unfrozen(self, after: str = "", limit: int = 500) -> list[str]:
        """Ids of records that hold no answer text (see :meth:`DecisionStore.unfrozen`)."""
        return self._call(lambda store: store.unfrozen(after, limit))

    def freeze(self, record_id: str, text: str) -> bool:
        """Keep the record's whole answer in it (see :meth:`DecisionStore.freeze`)."""
        return self._call(lambda store: store.freeze(record_id, text))

    def register_version(self, version: DataVersion) -> None:
        """Give ``version`` to the store (now, or when it is opened); no I/O."""
        with self._lock:
            store = self._store
            if store is None:  # kept for the store until it is opened
                self._versions.setdefault(version.digest, version)
        if store is not None:
            store.register_version(version)

    def get_version(self, digest: str) -> DataVersion | None:
        """The stored (or registered) data version with this digest, or None."""
        with self._lock:
            registered = self._versions.get(digest)
        if registered is not None:
            return registered
        return self._call(lambda store: store.get_version(digest))

    def get(self, record_id: str) -> DecisionRecord | None:
        """The record with this id, or None."""
        return self._call(lambda store: store.get(record_id))

    def list_recent(self, limit: int, offset: int = 0) -> list[RecordSummary]:
        """Up to ``limit`` records, newest first, skipping ``offset``."""
        return self._call(lambda store: store.list_recent(limit, offset))

    def count(self) -> int:
        """How many records are stored."""
        return self._call(lambda store: store.count())

    def delete(self, record_id: str) -> bool:
        """Delete one record; True when it existed."""
        return self._call(lambda store: store.delete(record_id))

    def prune(self, *, older_than: dt.datetime | None = None, keep_newest: int | None = None) -> int:
        """Delete records by age and count (see :meth:`DecisionStore.prune`)."""
        return self._call(lambda store: store.prune(older_than=older_than, keep_newest=keep_newest))

    def check_writable(self) -> None:
        """Raise :class:`StorageError` (or :class:`StorageUnavailableError`) unless a write can be committed now."""
        self._call(lambda store: store.check_writable())

    def close(self) -> None:
        """Close the wrapped store (if it was opened) and stop the worker threads without waiting for stuck ones."""
        with self._lock:
            store, self._store = self._store, None
        self._pool.shutdown(wait=False, cancel_futures=True)
        if store is not None and self._owns_store:
            store.close()
