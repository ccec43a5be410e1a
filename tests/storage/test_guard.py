"""The guarded store: a database that hangs or fails cannot hold callers beyond the deadline."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from service.storage import (
    DecisionRecord,
    DecisionStore,
    GuardedStore,
    StorageError,
    StorageUnavailableError,
    open_store,
)
from tests.storage.test_sql_store import record


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_hanging_database_trips_the_circuit_and_later_calls_fail_at_once_until_the_retry_time() -> None:
    release = threading.Event()
    opened: list[int] = []
    healthy = open_store("sqlite://")

    def hanging_opener() -> DecisionStore:
        opened.append(1)
        if len(opened) > 1:  # the database is back
            return healthy
        release.wait(30)
        raise StorageError("cannot connect")

    clock = Clock()
    guarded = GuardedStore(hanging_opener, deadline_s=0.2, retry_after_s=10, clock=clock)
    with pytest.raises(StorageUnavailableError, match=r"no answer within 0\.2 s"):
        guarded.count()
    with pytest.raises(StorageUnavailableError) as refused:
        guarded.count()
    assert refused.value.retry_after_s == pytest.approx(10)
    assert len(opened) == 1  # the second call never reached the database
    assert guarded.unavailable_reason == "no answer within 0.2 s"
    release.set()
    clock.now = 11
    assert guarded.count() == 0
    assert guarded.unavailable_reason is None
    guarded.close()


def test_a_failing_database_is_retried_only_after_the_retry_time() -> None:
    attempts: list[int] = []

    def failing() -> DecisionStore:
        attempts.append(1)
        raise StorageError("refused")

    clock = Clock()
    guarded = GuardedStore(failing, deadline_s=5, retry_after_s=10, clock=clock)
    assert guarded.open_now() is False
    for _ in range(3):
        with pytest.raises(StorageUnavailableError):
            guarded.save(record())
    assert len(attempts) == 1
    clock.now = 10.5
    with pytest.raises(StorageError, match="refused"):
        guarded.save(record())
    assert len(attempts) == 2


def test_a_store_given_by_the_caller_is_not_closed_by_the_guard() -> None:
    given = open_store("sqlite://")
    guarded = GuardedStore(lambda: given, owns_store=False)
    guarded.save(record())
    guarded.close()
    assert given.count() == 1


def test_a_busy_database_that_keeps_answering_times_out_single_calls_without_opening_the_circuit() -> None:
    class SlowStore:
        """A real in-memory store whose calls each take a while, as on a loaded machine."""

        def __init__(self) -> None:
            self.inner = open_store("sqlite://")

        def count(self) -> int:
            time.sleep(0.15)
            return self.inner.count()

    slow = SlowStore()
    guarded = GuardedStore(lambda: slow, deadline_s=0.5, retry_after_s=60, owns_store=False)  # type: ignore[arg-type, return-value]
    outcomes: list[str] = []

    def call() -> None:
        try:
            guarded.count()
            outcomes.append("ok")
        except StorageUnavailableError:
            outcomes.append("busy")

    threads = [threading.Thread(target=call) for _ in range(40)]  # 40 calls queue for 16 worker threads
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "ok" in outcomes
    assert guarded.unavailable_reason is None  # work kept completing: overload, not an outage
    assert guarded.count() == 0
    guarded.close()


def test_a_caller_on_the_event_loop_awaits_the_group_commit_and_gets_what_save_gives(tmp_path: Path) -> None:
    guarded = GuardedStore(lambda: open_store(f"sqlite:///{tmp_path / 'records.db'}"))
    assert guarded.open_now()

    async def save_many() -> list[tuple[DecisionRecord, bool]]:
        # Concurrent callers on one loop: none holds a thread while its record waits for the commit.
        return await asyncio.gather(*(guarded.save_async(record(f"rec_{n:032x}")) for n in range(20)))

    saved = asyncio.run(save_many())
    assert [created for _, created in saved] == [True] * 20
    assert guarded.count() == 20
    again = asyncio.run(guarded.save_async(record("rec_" + f"{3:032x}")))
    assert again[1] is False and again[0].id == "rec_" + f"{3:032x}"
    assert again == guarded.save(record("rec_" + f"{3:032x}"))
    guarded.close()


def test_an_awaited_commit_that_never_comes_times_out_like_save_and_trips_the_circuit() -> None:
    class Stuck:
        """A store whose group commit never completes (a database that stopped answering)."""

        def __init__(self) -> None:
            self.pending: list[Future[tuple[DecisionRecord, bool]]] = []

        def submit(self, _: DecisionRecord) -> Future[tuple[DecisionRecord, bool]]:
            future: Future[tuple[DecisionRecord, bool]] = Future()
            self.pending.append(future)
            return future

    stuck = Stuck()
    clock = Clock()
    guarded = GuardedStore(lambda: stuck, deadline_s=0.2, retry_after_s=10, clock=clock, owns_store=False)  # type: ignore[arg-type, return-value]
    assert guarded.open_now()
    with pytest.raises(StorageUnavailableError, match=r"no answer within 0\.2 s"):
        asyncio.run(guarded.save_async(record()))
    assert not stuck.pending[0].cancelled()  # the queued write is left to commit later (saving is idempotent)
    with pytest.raises(StorageUnavailableError) as refused:
        asyncio.run(guarded.save_async(record()))
    assert refused.value.retry_after_s == pytest.approx(10)
    assert len(stuck.pending) == 1  # refused at once, never queued


def test_a_failed_awaited_commit_raises_the_storage_error_and_opens_the_circuit() -> None:
    class Failing:
        def submit(self, _: DecisionRecord) -> Future[tuple[DecisionRecord, bool]]:
            future: Future[tuple[DecisionRecord, bool]] = Future()
            future.set_exception(StorageError("disk full"))
            return future

    guarded = GuardedStore(Failing, deadline_s=1, retry_after_s=10, owns_store=False)  # type: ignore[arg-type, return-value]
    assert guarded.open_now()
    with pytest.raises(StorageError, match="disk full"):
        asyncio.run(guarded.save_async(record()))
    assert guarded.unavailable_reason == "disk full"


def test_a_store_without_a_group_commit_is_saved_to_on_a_worker_thread_when_awaited() -> None:
    class Plain:
        """A store with only ``save`` (no ``submit``), recording the thread each save ran on."""

        def __init__(self) -> None:
            self.inner = open_store("sqlite://")
            self.threads: list[int] = []

        def save(self, saved: DecisionRecord) -> tuple[DecisionRecord, bool]:
            self.threads.append(threading.get_ident())
            return self.inner.save(saved)

    plain = Plain()
    guarded = GuardedStore(lambda: plain, owns_store=False)  # type: ignore[arg-type, return-value]
    stored, created = asyncio.run(guarded.save_async(record()))
    assert created and stored.id == record().id
    assert plain.threads and plain.threads[0] != threading.get_ident()
