"""The bench's HTTP load (wrk and ``bench/wrk.lua``) against a real HTTP server that records what it is sent: every
POST of a run is distinct, and realistic, whatever the rounds, phases and threads; and each phase starts once the
server has served what the last one left."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import WRK_THREADS, _idle, _rounds, _write_lua

CORPUS: list[dict[str, Any]] = [
    {"use_cases": ["coding"], "limit": 3},
    {"hardware": {"gpu": "h100-sxm", "gpu_count": 2}, "workload": {"concurrent_requests": 4}},
    {},
]


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive, as wrk's connections are
    seen: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.seen.append((self.path, body))
        self._answer()

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # wrk drops its connections as each phase ends


class _Served:
    """What the harness reads of a server: its base URL and its CPU time (not measured here: a thread of this
    process)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def cpu_s(self) -> float:
        return 0.0


@pytest.fixture
def served() -> Iterator[_Served]:
    _Recorder.seen = []
    server = _Server(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield _Served(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (Debian package wrk)")
def test_every_post_of_a_run_is_distinct_and_its_tokens_are_realistic(
    served: _Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    posts = {
        name: ("/v1/recommendations", _write_lua(tmp_path, CORPUS, detail, name))
        for name, detail in (("summary", "summary"), ("full", "full"))
    }
    rows = _rounds(served, tmp_path, posts, rounds=2, duration=1)  # type: ignore[arg-type]
    seen = _Recorder.seen
    assert len(seen) >= sum(r["requests"] for name in posts for r in rows[name]) > 100
    tokens = [body["workload"]["tokens_per_request"] for _, body in seen]
    assert len(set(tokens)) == len(tokens), "a POST was sent twice in one run"
    # From 4,096 up, densely (each thread's numbers spaced by the threads' count): realistic sizes of a request. The
    # range stated covers every number sent, and at most the requests still in flight when a phase ended beyond.
    (stated,) = re.findall(r"tokens_per_request of the POSTs: 4,096 to ([\d,]+)", capsys.readouterr().out)
    top = int(stated.replace(",", ""))
    assert 4096 <= min(tokens) < 4096 + WRK_THREADS * 32  # a connection's first request may be lost as wrk starts
    assert max(tokens) <= top <= 4096 + WRK_THREADS * (len(tokens) + 4 * 32)
    # The bodies are the corpus's own, with only the detail asked for and the tokens set.
    for _, body in seen:
        original = {k: v for k, v in body.items() if k != "detail"}
        workload = {k: v for k, v in original.pop("workload").items() if k != "tokens_per_request"}
        assert {**original, **({"workload": workload} if workload else {})} in CORPUS


class _Finishing:
    """A server still serving what an earlier phase left it for ``busy`` more polls of its CPU time."""

    def __init__(self, busy: int) -> None:
        self.busy, self.polls = busy, 0

    def cpu_s(self) -> float:
        self.polls += 1
        return float(min(self.polls, self.busy + 1))


def test_a_phase_waits_until_the_server_has_served_what_the_last_one_left() -> None:
    server = _Finishing(busy=3)
    _idle(server, timeout_s=10)  # type: ignore[arg-type]
    assert server.polls == 5  # the first reading, three that moved, one that stood still
    stuck = _Finishing(busy=10**9)
    started = time.monotonic()
    _idle(stuck, timeout_s=0.5)  # type: ignore[arg-type]
    assert time.monotonic() - started < 5  # gives up at the timeout rather than waiting forever
