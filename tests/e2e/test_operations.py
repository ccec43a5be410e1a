"""The real server in its own process: a silent database, an unwritable one, a refused bind, several workers (and
their data reloaded)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.storage import open_store
from tests.served import (
    ROOT,
    free_port,
    serve_command,
    server_environment,
    start_server,
    stop_server,
    wait_until_answering,
)


@pytest.fixture
def silent_database() -> Iterator[int]:
    """A real listening socket that completes TCP handshakes and then never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                try:
                    accepted.append(server.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield int(server.getsockname()[1])
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()


def test_a_silent_postgresql_gives_503_at_the_deadline_not_the_drivers_timeout_and_health_keeps_answering(
    silent_database: int, tmp_path: Path
) -> None:
    env = server_environment(
        f"postgresql+psycopg://advisor:secret-in-url@127.0.0.1:{silent_database}/advisor?password=secret-in-query",
        ADVISOR_DATABASE_DEADLINE_S="1",
        # The driver would wait 10 s for the silent server; the guard answers at its 1 s deadline. The bound
        # checked below (5 s) leaves a loaded test machine room; on an idle one the answer takes about 1 s.
        ADVISOR_DATABASE_CONNECT_TIMEOUT_S="10",
        ADVISOR_DATABASE_RETRY_AFTER_S="0.5",  # so that later requests try the database again, and wait on it
        ADVISOR_LOG_LEVEL="info",
    )
    server = start_server(env, tmp_path / "server.log")
    url = server.url
    try:
        wait_until_answering(server, "/health", status=None)
        health: list[int] = []
        stop = threading.Event()

        def probe() -> None:
            with httpx.Client(base_url=url, timeout=5.0) as client:
                while not stop.is_set():
                    health.append(client.get("/health").status_code)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            with httpx.Client(base_url=url, timeout=30.0) as client:
                for _ in range(3):
                    time.sleep(0.6)  # past the retry time: the next request waits on the silent server again
                    started = time.monotonic()
                    answer = client.post("/v1/recommendations", json={"limit": 1})
                    elapsed = time.monotonic() - started
                    assert answer.status_code == 503, answer.text
                    assert answer.headers["retry-after"]
                    assert answer.json()["errors"][0]["field"] == "(storage)"
                    assert elapsed < 5.0, f"a silent database held a request for {elapsed:.2f} s"
                ready = client.get("/ready")
                assert ready.status_code == 503
                assert "127.0.0.1" not in ready.text and str(silent_database) not in ready.text
                assert client.get("/v1/models?limit=1").status_code == 200  # reads that need no database
        finally:
            stop.set()
            prober.join()
        assert health and set(health) == {200}
    finally:
        stop_server(server)
    logged = server.log()
    assert "secret-in-url" not in logged and "secret-in-query" not in logged


def test_ready_is_503_when_the_database_cannot_be_written(tmp_path: Path) -> None:
    path = tmp_path / "advisor.db"
    open_store(f"sqlite:///{path}").close()
    server = start_server(server_environment(f"sqlite:///file:{path}?mode=ro&uri=true"), tmp_path / "server.log")
    try:
        wait_until_answering(server, "/health", status=None)
        ready = httpx.get(f"{server.url}/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["database"].startswith("unavailable")
        assert str(path) not in ready.text
    finally:
        stop_server(server)


def test_without_keys_the_server_refuses_to_listen_on_every_interface(tmp_path: Path) -> None:
    command = serve_command(free_port())
    command[command.index("--host") + 1] = "0.0.0.0"
    env = server_environment(f"sqlite:///{tmp_path / 'advisor.db'}", ADVISOR_API_KEYS="")
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == 2
    assert "ADVISOR_API_KEYS" in finished.stderr


def test_several_worker_processes_serve_one_database(tmp_path: Path) -> None:
    server = start_server(
        server_environment(f"sqlite:///{tmp_path / 'advisor.db'}"), tmp_path / "server.log", "--workers", "2"
    )
    try:
        wait_until_answering(server, "/health", status=None)
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            answers = [client.post("/v1/recommendations", json={"limit": n}) for n in range(1, 7)]
            assert [a.status_code for a in answers] == [200] * 6, [a.text[:300] for a in answers]
            assert len({a.json()["id"] for a in answers}) == 6
            assert client.get("/v1/recommendations?limit=100").json()["count"] == 6
    finally:
        stop_server(server)


def test_sigterm_lets_a_request_in_flight_finish_before_the_server_exits(tmp_path: Path) -> None:
    server = start_server(server_environment(f"sqlite:///{tmp_path / 'advisor.db'}"), tmp_path / "server.log")
    process = server.process
    try:
        wait_until_answering(server, "/ready", status=None)
        body = b'{"limit": 3, "use_cases": ["coding"]}'
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
            head = (
                f"POST /v1/recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            connection.sendall(head + body[:10])  # the request is now in flight: its body is half sent
            time.sleep(0.5)  # let the server read what was sent (ordering, not timing, is what is tested)
            process.terminate()
            time.sleep(0.5)  # the server is now shutting down with the request unfinished
            connection.sendall(body[10:])
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
        assert received.startswith(b"HTTP/1.1 200"), received[:300]
        assert received.rstrip().endswith(b"}")  # the whole answer, not a cut-off body
        # The server exits after the answer; uvicorn re-raises the SIGTERM it caught once it has shut down.
        assert process.wait(timeout=60) in {0, -signal.SIGTERM}
    finally:
        stop_server(server)


def _workers(pid: int) -> set[int]:
    """The worker processes of the supervisor ``pid`` (read from /proc): its children started by multiprocessing's
    spawn (not its resource tracker, also a child)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:  # exited meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in command:
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the worker processes from /proc (Linux)")
def test_a_reload_with_several_workers_replaces_every_worker_with_one_on_the_new_data(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(ROOT / "catalogue", catalogue)
    env = server_environment(f"sqlite:///{tmp_path / 'advisor.db'}", ADVISOR_CATALOGUE_DIR=str(catalogue))
    server = start_server(env, tmp_path / "server.log", "--workers", "2")
    try:
        wait_until_answering(server, "/ready")
        before = httpx.get(f"{server.url}/ready", timeout=30).json()["catalogue_version"]
        workers = _workers(server.process.pid)
        assert len(workers) == 2, server.log()
        model = next(iter(sorted((catalogue / "models").rglob("*.toml"))))
        model.write_text(model.read_text() + "\n# edited: the same facts, other bytes\n")

        reloaded = httpx.post(f"{server.url}/v1/admin/reload", timeout=120)
        assert reloaded.status_code == 200, reloaded.text
        after = reloaded.json()
        assert after["catalogue_version"] != before and after["changed"]["catalogue"] is True
        assert after["restarting_workers"] is True

        # The supervisor replaces the workers one at a time; each new one loads the edited files when it starts.
        deadline = time.monotonic() + 180
        while workers & _workers(server.process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)  # polling while the workers are replaced; nothing is timed
        assert not workers & _workers(server.process.pid), f"old workers still serving:\n{server.log()}"
        for _ in range(10):  # a fresh connection each time, whichever worker accepts it
            ready = httpx.get(f"{server.url}/ready", timeout=30)
            assert ready.json()["catalogue_version"] == after["catalogue_version"]
    finally:
        stop_server(server)


def test_a_reload_with_one_server_process_swaps_the_data_in_place(tmp_path: Path) -> None:
    server = start_server(server_environment(f"sqlite:///{tmp_path / 'advisor.db'}"), tmp_path / "server.log")
    try:
        wait_until_answering(server, "/ready")
        reloaded = httpx.post(f"{server.url}/v1/admin/reload", timeout=120)
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["restarting_workers"] is False
        assert reloaded.json()["changed"] == {"catalogue": False, "rules": False}
        assert server.process.poll() is None
    finally:
        stop_server(server)


def _count(metrics: str, name: str, **labels: str) -> float:
    """The value of sample ``name`` with exactly ``labels`` in a text exposition (0 when absent)."""
    wanted = name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in metrics.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the worker processes from /proc (Linux)")
def test_with_several_workers_every_scrape_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"  # where the server makes the directory its workers count in
    temporary.mkdir()
    env = server_environment(f"sqlite:///{tmp_path / 'advisor.db'}", TMPDIR=str(temporary))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = start_server(env, tmp_path / "server.log", "--workers", "2")
    try:
        wait_until_answering(server, "/ready")
        assert len(_workers(server.process.pid)) == 2, server.log()
        assert [p.name[:16] for p in temporary.iterdir()] == ["advisor-workers-"]
        for _ in range(40):  # a new connection each time: either worker may take it
            assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
        for _ in range(6):
            metrics = httpx.get(f"{server.url}/metrics", timeout=30).text
            served = _count(metrics, "advisor_http_requests_total", method="GET", route="/health", status="200")
            assert served == 40, metrics[:2000]
            assert "advisor_data_info{" in metrics  # the answering worker's versions
    finally:
        stop_server(server)
    assert server.process.returncode is not None and not list(temporary.iterdir())  # removed once stopped
