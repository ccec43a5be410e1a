"""The rate limit: shared by several worker processes (one file, one count at a time); one process purges its own."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.memory import MemoryStore
from litestar.testing import TestClient
from structlog.testing import capture_logs

from service.domain.engine import Engine
from service.http import ratelimit
from service.http.app import create_app
from service.http.ratelimit import SHARED_ENV, SharedWindows, ended_windows_purged
from tests.ops.test_access import bearer, settings
from tests.served import server_environment, start_server, stop_server, wait_until_answering

NOW = 1_800_000_000


@pytest.fixture
def windows(tmp_path: Path) -> Iterator[SharedWindows]:
    opened = SharedWindows(tmp_path / "rate.sqlite")
    yield opened
    opened.close()


def test_a_window_admits_the_limit_then_refuses_without_counting_until_it_ends(windows: SharedWindows) -> None:
    taken = [windows.take("key:a", 3, 60, NOW + second) for second in range(5)]
    assert taken == [
        (True, 1, NOW + 60),
        (True, 2, NOW + 60),
        (True, 3, NOW + 60),
        (False, 3, NOW + 60),  # refused requests are not counted
        (False, 3, NOW + 60),
    ]
    assert windows.take("key:b", 3, 60, NOW + 5) == (True, 1, NOW + 65)  # each client has its own window
    assert windows.take("key:a", 3, 60, NOW + 60) == (True, 1, NOW + 120)  # a new window once the last has ended


def _take_many(path: str, times: int, admitted: multiprocessing.Queue[int]) -> None:
    windows = SharedWindows(path)
    admitted.put(sum(windows.take("address:10.0.0.1", 150, 60, NOW)[0] for _ in range(times)))
    windows.close()


def test_processes_counting_at_once_admit_exactly_the_limit(tmp_path: Path) -> None:
    path = str(tmp_path / "rate.sqlite")
    first = SharedWindows(path)
    first.take("address:10.0.0.9", 1, 60, NOW)  # the file exists before the processes race
    first.close()
    context = multiprocessing.get_context("spawn")
    admitted: multiprocessing.Queue[int] = context.Queue()
    processes = [context.Process(target=_take_many, args=(path, 100, admitted)) for _ in range(4)]
    for process in processes:
        process.start()
    counts = [admitted.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sum(counts) == 150  # 400 asked, at once, from four processes


def test_old_windows_are_pruned(windows: SharedWindows, tmp_path: Path) -> None:
    for n in range(1023):
        windows.take(f"address:{n}", 5, 60, NOW)
    windows.take("address:late", 5, 60, NOW + 61)  # the 1,024th count: every ended window goes
    connection = sqlite3.connect(tmp_path / "rate.sqlite")
    try:
        assert connection.execute("SELECT client FROM windows").fetchall() == [("address:late",)]
    finally:
        connection.close()


def test_two_apps_counting_in_one_file_share_the_limit(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "rate.sqlite"))
    first = create_app(settings(rate_limit_per_minute=4), engine=engine)
    second = create_app(settings(rate_limit_per_minute=4), engine=engine)
    with TestClient(first) as one, TestClient(second) as other:
        statuses = [client.get("/v1/licences", headers=bearer("read")) for client in (one, other) * 3]
        assert [answer.status_code for answer in statuses] == [200, 200, 200, 200, 429, 429]
        assert [answer.headers["ratelimit-remaining"] for answer in statuses] == ["3", "2", "1", "0", "0", "0"]
        assert statuses[0].headers["ratelimit-policy"] == "4; w=60"
        limited = statuses[-1]
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["errors"][0]["field"] == "(rate)"
        # Another key has its own budget; health is never limited.
        assert other.get("/v1/licences", headers=bearer("admin")).status_code == 200
        assert one.get("/health").status_code == 200


def test_a_counter_that_cannot_be_used_admits_the_request_and_says_so_once_a_minute(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_ENV, str(tmp_path / "removed" / "rate.sqlite"))  # its directory does not exist
    with (
        TestClient(create_app(settings(rate_limit_per_minute=1), engine=engine)) as client,
        capture_logs() as logged,
    ):
        answers = [client.get("/v1/licences", headers=bearer("read")) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert "ratelimit-remaining" not in answers[0].headers
    warnings = [entry for entry in logged if entry["event"] == "rate limit not counted"]
    assert len(warnings) == 1 and "No such file" in warnings[0]["reason"]


def test_the_workers_of_one_server_admit_the_limit_between_them(tmp_path: Path) -> None:
    env = server_environment(f"sqlite:///{tmp_path / 'advisor.db'}", ADVISOR_RATE_LIMIT_PER_MINUTE="5")
    server = start_server(env, tmp_path / "server.log", "--workers", "2")
    try:
        wait_until_answering(server, "/ready")
        # A new connection each time, whichever worker accepts it: five admitted in all, not five a worker.
        statuses = [httpx.get(f"{server.url}/v1/licences", timeout=30).status_code for _ in range(24)]
        assert statuses == [200] * 5 + [429] * 19, server.log()
    finally:
        stop_server(server)


def test_one_process_deletes_its_ended_windows_while_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # One process counts in Litestar's memory store, which drops an ended window only when its client comes back.
    monkeypatch.setattr(ratelimit, "PURGE_EVERY_S", 0.05)
    app = create_app(settings(rate_limit_per_minute=5))
    with TestClient(app=app, base_url="http://127.0.0.1") as client:
        assert client.get("/v1/licences", headers=bearer("read")).status_code == 200
        store = app.stores.get(RateLimitConfig(rate_limit=("minute", 5)).store)
        portal = client.blocking_portal
        (live,) = _keys(store)  # the window of the request above: a minute long
        portal.call(store.set, "address:10.0.0.7", b"[]", dt.timedelta(milliseconds=1))  # a window that has ended
        assert portal.call(store.exists, "address:10.0.0.7")
        deadline = time.monotonic() + 10
        while portal.call(store.exists, "address:10.0.0.7") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not portal.call(store.exists, "address:10.0.0.7"), "the ended window was kept"
        assert _keys(store) == [live]  # the window still open is kept
        statuses = [client.get("/v1/licences", headers=bearer("read")).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]  # and still counts


def _keys(store: Any) -> list[str]:
    return sorted(store._store)  # Litestar's MemoryStore lists no keys of its own


class _FailingOnce(MemoryStore):
    """A memory store whose first purge fails."""

    def __init__(self) -> None:
        super().__init__()
        self.purges = 0

    async def delete_expired(self) -> None:
        self.purges += 1
        if self.purges == 1:
            raise OSError("store unavailable")
        await super().delete_expired()


def test_a_purge_that_fails_is_logged_and_the_next_one_runs() -> None:
    store = _FailingOnce()
    app = Litestar(route_handlers=[], stores={"rate_limit": store}, lifespan=[ended_windows_purged("rate_limit", 0.02)])
    with capture_logs() as logs, TestClient(app=app) as client:
        client.blocking_portal.call(store.set, "address:10.0.0.8", b"[]", dt.timedelta(milliseconds=1))
        deadline = time.monotonic() + 10
        while client.blocking_portal.call(store.exists, "address:10.0.0.8") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not client.blocking_portal.call(store.exists, "address:10.0.0.8")
    assert store.purges >= 2
    warned = [e["reason"] for e in logs if e["event"] == "ended rate-limit windows not purged"]
    assert warned == ["store unavailable"]
