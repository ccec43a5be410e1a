"""What a crash keeps, and the in-memory database under concurrency, on the real server in its own process.

The promise: an answer (and so its decision id) is sent only after its record has committed, so every
acknowledged id is readable after the process is killed outright (SIGKILL, no shutdown at all).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.storage import open_store
from tests.http.test_records import _without_record
from tests.served import (
    free_port,
    serve_command,
    server_environment,
    start_server,
    stop_server,
    wait_until_answering,
)

THREADS = 6


def _request(n: int) -> dict[str, Any]:
    """A distinct request for each n (the workload makes every decision id different)."""
    return {
        "use_cases": [["coding"], ["chat"], ["reasoning", "math"]][n % 3],
        "limit": 1 + n % 5,
        "workload": {"tokens_per_request": 4096 + n},
        # A full answer with every exclusion is the stored decision's bytes (a longer list is trimmed otherwise).
        **({"detail": "full", "exclusions": "all"} if n % 2 else {"detail": "summary"}),
    }


def _load(url: str, start: int, acknowledged: dict[str, bytes], stop: threading.Event, failures: list[str]) -> None:
    """POST distinct requests until stopped or the server goes away; keep every acknowledged id."""
    with httpx.Client(base_url=url, timeout=60.0) as client:
        n = start
        while not stop.is_set():
            try:
                response = client.post("/v1/recommendations", json=_request(n))
            except httpx.TransportError:
                return  # the server was killed: this request was never acknowledged
            if response.status_code != 200:
                failures.append(f"{response.status_code}: {response.text[:200]}")
                return
            full = _request(n)["detail"] == "full"
            acknowledged[response.json()["record"]["id"]] = response.content if full else b""
            n += THREADS


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_acknowledged_decision_survives_a_sigkill_mid_load(tmp_path: Path, database: str) -> None:
    database_url = f"sqlite:///{tmp_path / 'advisor.db'}"
    if database == "postgresql":
        database_url = os.environ.get("ADVISOR_TEST_POSTGRESQL_URL", "")
        if not database_url:
            pytest.skip("set ADVISOR_TEST_POSTGRESQL_URL to a disposable PostgreSQL database to run this")
        emptied = open_store(database_url)
        with emptied.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM decision_records")
        emptied.close()
    env = server_environment(database_url)
    server = start_server(env, tmp_path / "server.log")
    acknowledged: dict[str, bytes] = {}
    failures: list[str] = []
    stop = threading.Event()
    try:
        wait_until_answering(server, "/ready")
        threads = [
            threading.Thread(target=_load, args=(server.url, i, acknowledged, stop, failures)) for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        while len(acknowledged) < 30 and not failures and any(t.is_alive() for t in threads):
            threading.Event().wait(0.05)  # waiting for load to build up; nothing is timed
        server.process.send_signal(signal.SIGKILL)  # mid-load: requests are in flight on every thread
        server.process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(60)
    finally:
        stop.set()
        stop_server(server)
    assert failures == []
    assert len(acknowledged) >= 30
    restarted = start_server(env, tmp_path / "restarted.log")
    try:
        wait_until_answering(restarted, "/ready")
        with httpx.Client(base_url=restarted.url, timeout=60.0) as client:
            for record_id, first in acknowledged.items():
                fetched = client.get(f"/v1/recommendations/{record_id}")
                assert fetched.status_code == 200, (record_id, fetched.text[:300])
                if first:
                    assert _without_record(fetched.content) == _without_record(first)
            assert client.get("/v1/recommendations?limit=1").json()["count"] >= len(acknowledged)
    finally:
        stop_server(restarted)


def test_the_in_memory_database_takes_concurrent_requests_on_a_real_server(tmp_path: Path) -> None:
    server = start_server(server_environment("sqlite://"), tmp_path / "server.log")
    outcomes: list[tuple[str, int]] = []
    ids: set[str] = set()

    def work(start: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120.0) as client:
            for n in range(start, start + 4 * THREADS, THREADS):
                created = client.post("/v1/recommendations", json=_request(n))
                outcomes.append(("post", created.status_code))
                if created.status_code == 200:
                    ids.add(created.json()["record"]["id"])
                    outcomes.append(("get", client.get(created.json()["record"]["links"]["self"]).status_code))
                outcomes.append(("list", client.get("/v1/recommendations?limit=5").status_code))

    try:
        wait_until_answering(server, "/ready")
        threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            count = client.get("/v1/recommendations?limit=1").json()["count"]
        assert server.process.poll() is None, server.log()
    finally:
        stop_server(server)
    assert [o for o in outcomes if o[1] != 200] == []
    assert len(outcomes) == THREADS * 4 * 3
    assert count == len(ids) == THREADS * 4


def test_the_in_memory_database_with_several_workers_is_refused_at_start() -> None:
    command = serve_command(free_port(), "--workers", "2")
    finished = subprocess.run(
        command, env=server_environment("sqlite://"), capture_output=True, text=True, timeout=120, check=False
    )
    assert finished.returncode == 2
    assert "sqlite://" in finished.stderr and "one worker" in finished.stderr
