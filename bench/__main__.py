"""``./dev bench`` (``python -m bench``): measure the service and print the figures.

Measures, on this machine, in one run:
1. HTTP load with wrk (32 connections, one server process): ``GET /health`` and ``POST /v1/recommendations``
   in alternating phases, several rounds, over a corpus of distinct realistic requests, every request sent
   distinct; requests per second, p50, p99 and the POST/health ratio per round and ``detail``, and the server's
   CPU time per request (less sensitive to other work on the machine than requests per second).
2. Start-up to the first ``GET /ready`` 200, the server's peak memory (VmHWM), answer sizes per ``detail``.
3. The engine in process on the shipped catalogue and on synthetic ones (perturbed copies of real entries),
   p50 and p99 per request, and how the cost grows with the catalogue.
4. A profile (pyinstrument) of the in-process hot path of a POST: engine, encoding, decision record.
5. The framework's ceiling: the same app with an echo route (``bench/ceiling.py``) under the same load, the
   echo's share of ``/health`` throughput: what a POST would cost with no deciding, explaining or recording.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.ceiling import ECHO
from bench.corpus import build_corpus
from bench.synthetic import synthetic_catalogue
from service.domain.requirements import Requirements
from service.loading.engine import build_engine
from service.settings import default_data_dir

HERE = Path(__file__).resolve().parent
#: wrk's threads (``bench/wrk.lua`` spaces their requests' numbers by it).
WRK_THREADS = 2
DAY = dt.date(2026, 12, 1)
#: The echo's row in the framework ceiling's table.
ECHO_ROUTE = "echo (summary bodies)"
#: The #13 targets: the share of ``/health`` throughput each kind of POST must reach (one server process).
TARGET_SHARES = {"summary": 0.3, "full": 0.1}
WRK_MISSING = (
    "wrk is not installed, so the HTTP load figures are SKIPPED. Install it (Debian/Ubuntu package `wrk`, "
    "e.g. `sudo apt-get install wrk`) and run ./dev bench again."
)


def _details() -> list[str | None]:
    return ["summary", "full"] if "detail" in Requirements.model_fields else [None]


def _with_detail(body: dict[str, Any], detail: str | None) -> dict[str, Any]:
    return body if detail is None else {**body, "detail": detail}


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``advisor serve`` process (one worker) on a free port with its own records database.

    ``cache_dir`` is where it keeps the fitted capability model (empty at a cold start, filled by it);
    ``command``, when given, runs instead of ``advisor serve`` (with ``--port`` added).
    """

    def __init__(
        self,
        workdir: Path,
        catalogue_dir: Path | None = None,
        cache_dir: Path | None = None,
        command: list[str] | None = None,
    ) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "ADVISOR_DATABASE_URL": f"sqlite:///{workdir / f'records-{self.port}.db'}",
            "ADVISOR_RATE_LIMIT_PER_MINUTE": "0",
            "ADVISOR_CACHE_DIR": str(cache_dir or workdir / "fits"),
        }
        if catalogue_dir is not None:
            env["ADVISOR_CATALOGUE_DIR"] = str(catalogue_dir)
        command = command or [str(Path(sys.executable).with_name("advisor")), "serve"]
        self.log = (workdir / f"server-{self.port}.log").open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            self.startup_s = self._wait_ready(started)
            self.startup_cpu_s = self.cpu_s()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, started: float) -> float:
        while time.perf_counter() - started < 600:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.base + "/ready", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise SystemExit("the server was not ready within 600 s")

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far: start-up cost apart from the load."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def startup(self) -> str:
        """Start-up to first /ready as wall and CPU seconds, with the load average."""
        return f"{self.startup_s:.2f} s wall, {self.startup_cpu_s:.2f} s CPU (load average {_load()})"

    def peak_memory_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _write_lua(workdir: Path, corpus: list[dict[str, Any]], detail: str | None, name: str) -> Path:
    """A wrk script cycling through the corpus; each request gets its own ``workload.tokens_per_request``."""
    templates = []
    for original in corpus:
        body = _with_detail(original, detail)
        workload = {**body.get("workload", {}), "tokens_per_request": 123456789}
        text = json.dumps({**body, "workload": workload}, separators=(",", ":"))
        templates.append(_lua_string(text.replace("%", "%%").replace("123456789", "%d")))
    script = (HERE / "wrk.lua").read_text().replace("--BODIES--", ",\n  ".join(templates))
    path = workdir / f"{name}.lua"
    path.write_text(script)
    return path


def _wrk(base: str, path: str, script: Path, connections: int, duration: int) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "-s", str(script), base + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result: dict[str, Any] = json.loads(line[len("BENCH ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def _idle(server: Server, timeout_s: float = 15.0) -> None:
    """Wait until ``server`` has served what an earlier phase left it: wrk stops with up to one request a connection
    in flight, which the server still serves (32 ``full`` POSTs are about a quarter of a second of its CPU), and they
    would be counted in the next phase's time and CPU. Idle: its CPU time stands still for 0.2 s (at most
    ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    last = server.cpu_s()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = server.cpu_s()
        if now == last:
            return
        last = now


def _phase(server: Server, path: str, script: Path, duration: int) -> dict[str, Any]:
    """One wrk phase against ``server`` once it is idle, with the server's CPU milliseconds per request served in
    it."""
    _idle(server)
    before = server.cpu_s()
    result = _wrk(server.base, path, script, 32, duration)
    result["cpu_ms"] = 1000 * (server.cpu_s() - before) / max(1, result["requests"])
    return result


def _health_script(workdir: Path) -> Path:
    health = workdir / "health.lua"
    health.write_text((HERE / "wrk.lua").read_text().replace("--BODIES--", "").replace('MODE = "post"', 'MODE = "get"'))
    return health


def _rounds(
    server: Server, workdir: Path, posts: dict[str, tuple[str, Path]], rounds: int, duration: int
) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` rounds of a ``/health`` phase then one phase per entry of ``posts`` (name: path and wrk script);
    the wrk figures per phase. Every POST of the run is distinct from every other (its own
    ``workload.tokens_per_request``, see ``bench/wrk.lua``): a phase starts where the numbers of the last ended."""
    health = _health_script(workdir)
    rows: dict[str, list[dict[str, Any]]] = {"health": [], **{name: [] for name in posts}}
    print(f"load average before: {_load()}")
    start = 0
    for r in range(1, rounds + 1):
        rows["health"].append(_phase(server, "/health", health, duration))
        for name, (path, script) in posts.items():
            phase_script = workdir / f"round{r}-{script.name}"
            phase_script.write_text(
                script.read_text()
                .replace("START = 0", f"START = {start}")
                .replace("THREADS = 2", f"THREADS = {WRK_THREADS}")
            )
            result = _phase(server, path, phase_script, duration)
            start += WRK_THREADS * result["generated"]
            rows[name].append(result)
        line = "  ".join(f"{k}: {v[-1]['rps']:.0f}/s" for k, v in rows.items())
        print(f"round {r}: {line}  (load {_load()})")
    print(f"workload.tokens_per_request of the POSTs: 4,096 to {4096 + start - 1:,}, each number once")
    return rows


def _table(rows: dict[str, list[dict[str, Any]]], rounds: int) -> dict[str, float]:
    """Print the rounds' figures per route; return each route's server CPU ms per request (median of the rounds)."""
    health_rps = statistics.median(x["rps"] for x in rows["health"])
    health_cpu = statistics.median(x["cpu_ms"] for x in rows["health"])
    # Server CPU per request: what each request cost the server, much less sensitive than req/s to other work on
    # the machine (wrk itself shares the cores); its ratio to /health's is the share /health throughput would
    # give on a machine where the server had a core to itself.
    print(
        f"\n| route | req/s (median of {rounds}) | p50 ms | p99 ms | non-2xx/errors | share of /health "
        "| server CPU ms/request | /health CPU / this |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, results in rows.items():
        rps = statistics.median(x["rps"] for x in results)
        p50 = statistics.median(x["p50_us"] for x in results) / 1000
        p99 = statistics.median(x["p99_us"] for x in results) / 1000
        errors = sum(x["errors"] + x["status_errors"] for x in results)
        cpu = statistics.median(x["cpu_ms"] for x in results)
        print(
            f"| {name} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {errors} | {rps / health_rps:.3f} | {cpu:.3f} "
            f"| {health_cpu / cpu:.3f} |"
        )
    print(f"load average after: {_load()}")
    return {name: statistics.median(x["cpu_ms"] for x in results) for name, results in rows.items()}


def http_load(
    server: Server, workdir: Path, corpus: list[dict[str, Any]], rounds: int, duration: int
) -> dict[str, float]:
    """The HTTP load's table; returns each route's server CPU ms per request (none without wrk)."""
    print(f"\n## HTTP load: wrk -t{WRK_THREADS} -c32, {rounds} rounds of {duration} s phases, one server process")
    if shutil.which("wrk") is None:
        print(WRK_MISSING)
        return {}
    posts = {
        f"post {d or 'default'}": ("/v1/recommendations", _write_lua(workdir, corpus, d, f"post-{d}"))
        for d in _details()
    }
    return _table(_rounds(server, workdir, posts, rounds, duration), rounds)


def framework_ceiling(workdir: Path, corpus: list[dict[str, Any]], rounds: int, duration: int) -> dict[str, float]:
    """The echo route of ``bench/ceiling.py`` (the same app, the same bodies, no decision) against ``/health``;
    returns each route's server CPU ms per request (none without wrk)."""
    print(
        f"\n## Framework ceiling: the same app with an echo route ({ECHO}: the body validated into requirements and "
        f"sent back, nothing decided or recorded), wrk -t{WRK_THREADS} -c32, {rounds} rounds of {duration} s phases"
    )
    if shutil.which("wrk") is None:
        print(WRK_MISSING)
        return {}
    server = Server(workdir, cache_dir=workdir / "fits-shipped", command=[sys.executable, "-m", "bench.ceiling"])
    try:
        posts = {ECHO_ROUTE: (ECHO, _write_lua(workdir, corpus, _details()[0], "echo"))}
        return _table(_rounds(server, workdir, posts, rounds, duration), rounds)
    finally:
        server.stop()


def answer_sizes(server: Server, corpus: list[dict[str, Any]]) -> None:
    print("\n## Answer sizes (bytes of the POST response body)")
    print("| detail | `{}` | corpus median | corpus max |")
    print("|---|---|---|---|")
    with httpx.Client(base_url=server.base, timeout=120) as client:
        for d in _details():
            response = client.post("/v1/recommendations", json=_with_detail({}, d))
            if response.status_code != 200:
                print(f"POST {{}} answered {response.status_code}: {response.text[:200]}")
            empty = len(response.content)
            sizes = sorted(len(client.post("/v1/recommendations", json=_with_detail(b, d)).content) for b in corpus)
            print(f"| {d or 'default'} | {empty:,} | {statistics.median(sizes):,.0f} | {sizes[-1]:,} |")


def engine_figures(workdir: Path, corpus_path: Path, sizes: list[int]) -> dict[str, Any]:
    """The in-process table; returns the shipped catalogue's figures (see ``bench/engine_child.py``)."""
    print("\n## Engine in process, over the corpus (each request timed three ways, see bench/engine_child.py)")
    print(
        "decide = the decision core (Engine.decide: eligibility, criteria, scores, order, weight-only "
        "trade-offs); summary = decide + the summary answer written to JSON bytes (a summary POST's work); whole = "
        "decide + the whole answer encoded (a record's first fetch), each request timed those three ways in turn; "
        "decide alone = the decision core in a pass of its own, request after request (no whole answer between "
        "two decisions to empty the processor's caches). ms wall (CPU ms: the process's own CPU time, less "
        "sensitive to other work)."
    )
    print(
        "| models | load s (CPU s), cold | calls | decide p50 (CPU) | decide p99 | decide alone p50 (CPU) "
        "| decide alone p99 | summary p50 (CPU) | summary p99 | whole p50 (CPU) | `{}` decide p50 (CPU) "
        "| `{}` summary p50 (CPU) | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rules = default_data_dir("rules")
    previous: dict[str, Any] | None = None
    shipped: dict[str, Any] = {}
    for size in [0, *sizes]:
        catalogue = default_data_dir("catalogue") if size == 0 else workdir / f"catalogue-{size}"
        if size and not catalogue.exists():
            synthetic_catalogue(default_data_dir("catalogue"), catalogue, size)
        passes = 5 if size == 0 else max(1, 2000 // size)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.engine_child",
                *(str(catalogue), str(rules), str(corpus_path), str(passes)),
                *(["--post-parts"] if size == 0 else []),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE.parent,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        growth = ""
        if previous is not None:
            ratio = r["decide_p50_cpu_ms"] / previous["decide_p50_cpu_ms"]
            growth = f" x{ratio:.1f} for x{r['models'] / previous['models']:.1f} models"
        print(
            f"| {r['models']} | {r['load_s']} ({r['load_cpu_s']}) | {r['calls']} | {r['decide_p50_ms']} "
            f"({r['decide_p50_cpu_ms']}{growth}) | {r['decide_p99_ms']} | {r['alone_decide_p50_ms']} "
            f"({r['alone_decide_p50_cpu_ms']}) | {r['alone_decide_p99_ms']} | {r['summary_p50_ms']} "
            f"({r['summary_p50_cpu_ms']}) | {r['summary_p99_ms']} | {r['whole_p50_ms']} ({r['whole_p50_cpu_ms']}) "
            f"| {r['empty_decide_p50_ms']} ({r['empty_decide_cpu_p50_ms']}) | {r['empty_summary_p50_ms']} "
            f"({r['empty_summary_cpu_p50_ms']}) | {r['peak_rss_mb']} |"
        )
        previous = r
        shipped = shipped or r
    return shipped


def cost_breakdown(server_cpu: dict[str, float], echo_cpu: dict[str, float], engine: dict[str, Any]) -> list[str]:
    """Where a POST's server CPU goes, as table lines: the run's measured parts beside each kind of POST's
    server CPU (``server_cpu``: ms per request by route, from the HTTP load; ``echo_cpu``: the framework ceiling's;
    ``engine``: the shipped catalogue's in-process figures) and its budget at the target share of ``/health``.
    No lines when a part they need was skipped."""
    health, echo = server_cpu.get("health"), echo_cpu.get(ECHO_ROUTE)
    if health is None or echo is None or "post_summary_decide_mean_cpu_ms" not in engine:
        return []
    decide = {kind: engine[f"post_{kind}_decide_mean_cpu_ms"] for kind in TARGET_SHARES}
    written = {kind: engine[f"post_{kind}_write_mean_cpu_ms"] for kind in TARGET_SHARES}
    evidence = {"summary": 0.0, "full": engine["post_evidence_mean_cpu_ms"]}
    kinds = [kind for kind in TARGET_SHARES if f"post {kind}" in server_cpu]
    measured = {kind: server_cpu[f"post {kind}"] for kind in kinds}
    core = {kind: echo + decide[kind] + evidence[kind] for kind in kinds}
    rest = {kind: measured[kind] - core[kind] - written[kind] for kind in kinds}
    budget = {kind: health / TARGET_SHARES[kind] for kind in kinds}

    def row(label: str, values: dict[str, float], how: str) -> str:
        return f"| {label} | " + " | ".join(f"{values[kind]:.3f}" for kind in kinds) + f" | {how} |"

    return [
        "| part (mean ms of server CPU a request) | "
        + " | ".join(f"`{kind}` POST" for kind in kinds)
        + " | measured |",
        "|---|" + "---|" * len(kinds) + "---|",
        row("framework: body in, validated, a body out", dict.fromkeys(kinds, echo), "the echo, under HTTP load"),
        row("decision core", decide, "in process, requests as the load sends them, in its order"),
        row("evidence pass (the sensitivity's evidence figures)", evidence, "in process, likewise"),
        row("answer written", written, "in process, likewise"),
        row("rest: the record and its commit, the envelope, HTTP beyond the echo", rest, "the difference"),
        row("**server CPU a POST**", measured, "the HTTP load"),
        row(
            "budget at the target share of `/health`",
            budget,
            "`/health`'s CPU / " + ", ".join(f"{TARGET_SHARES[kind]} ({kind})" for kind in kinds),
        ),
        row(
            "framework + decision core (+ evidence pass), share of the budget",
            {kind: core[kind] / budget[kind] for kind in kinds},
            "at 1 or more no answer writing, however cheap, meets the target",
        ),
    ]


def profile(corpus: list[dict[str, Any]], workdir: Path) -> None:
    print("\n## Profile of the in-process hot path of a POST (engine, encoding, decision record), pyinstrument")
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed (it is a dev dependency: ./dev bench installs it); SKIPPED")
        return
    from service.http.metrics import Metrics
    from service.http.records import answer_response, decide
    from service.storage import DataVersion, DecisionArchive, open_store

    engine = build_engine(default_data_dir("catalogue"), default_data_dir("rules"))
    store = open_store(f"sqlite:///{workdir / 'profile.db'}")
    archive = DecisionArchive(store, lambda: engine, build_engine)
    archive.register(
        DataVersion.read("catalogue", default_data_dir("catalogue")),
        DataVersion.read("rules", default_data_dir("rules")),
    )
    details = _details()
    requests = [Requirements.model_validate(_with_detail(b, details[0])) for b in corpus]
    metrics = Metrics()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for n, base in enumerate(requests * 3):
        req = base.model_copy(update={"workload": base.workload.model_copy(update={"tokens_per_request": 4096 + n})})
        # What POST /v1/recommendations does, minus the framework: decide, store, build the response body.
        decision, decided = decide(engine, req, DAY, store, archive, metrics)
        answer_response(decision, decided, req.detail, req.exclusions)
    profiler.stop()
    store.close()
    print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=True))


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds (each: /health, then each POST kind)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk phase")
    parser.add_argument("--sizes", default="1000,10000", help="synthetic catalogue sizes for the engine figures")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: http,ceiling,startup,engine,profile")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    sizes = [int(s) for s in args.sizes.split(",") if s]

    print(f"# Benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {_machine()}")
    print(f"load average (1, 5, 15 min) at start: {_load()}")
    engine = build_engine(default_data_dir("catalogue"), default_data_dir("rules"))
    corpus = build_corpus(engine)
    print(f"corpus: {len(corpus)} distinct requests; shipped catalogue: {len(engine.features.ids)} models")
    server_cpu: dict[str, float] = {}
    echo_cpu: dict[str, float] = {}
    shipped: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        workdir = Path(tmp)
        corpus_path = workdir / "corpus.json"
        corpus_path.write_text(json.dumps([_with_detail(b, _details()[0]) for b in corpus]))
        if not {"http", "startup"} <= skip:
            cold = Server(workdir, cache_dir=workdir / "fits-shipped")
            cold.stop()
            server = Server(workdir, cache_dir=workdir / "fits-shipped")
            try:
                print("\n## Start-up to first /ready (shipped catalogue)")
                print(f"cold (capability model fitted, no kept fit): {cold.startup()}")
                print(f"warm (the fit kept by the cold start, re-checked): {server.startup()}")
                if "http" not in skip:
                    # Sizes first: under load the records store may refuse for a while (503), see the table.
                    answer_sizes(server, corpus)
                    server_cpu = http_load(server, workdir, corpus, args.rounds, args.duration)
                print(f"\n## Server peak memory (VmHWM): {server.peak_memory_mb():.0f} MB")
            finally:
                server.stop()
        if "ceiling" not in skip:
            echo_cpu = framework_ceiling(workdir, corpus, args.rounds, args.duration)
        if "engine" not in skip:
            shipped = engine_figures(workdir, corpus_path, sizes)
        if "startup" not in skip and sizes:
            big = workdir / f"catalogue-{max(sizes)}"
            if not big.exists():
                synthetic_catalogue(default_data_dir("catalogue"), big, max(sizes))
            fits = workdir / f"fits-{max(sizes)}"
            for kind in ("cold (capability model fitted)", "warm (kept fit, re-checked)"):
                server = Server(workdir, big, fits)
                try:
                    print(f"\n## Start-up to first /ready at {max(sizes)} models, {kind}: {server.startup()}")
                    print(f"peak memory (VmHWM) after start-up: {server.peak_memory_mb():.0f} MB")
                finally:
                    server.stop()
        if "profile" not in skip:
            profile(corpus, workdir)
        breakdown = cost_breakdown(server_cpu, echo_cpu, shipped)
        if breakdown:
            print("\n## Where a POST's server CPU goes, beside its budget (this run's figures)")
            print("\n".join(breakdown))
    print(f"\nload average (1, 5, 15 min) at the end: {_load()}")


if __name__ == "__main__":
    main()
