"""One in-process engine measurement, run in its own process so that its peak memory is its own.

``python -m bench.engine_child CATALOGUE_DIR RULES_DIR CORPUS_JSON PASSES [--post-parts]`` prints one JSON line.
For every corpus request it times, separately: the decision core (``Engine.decide``: eligibility, criteria,
scores, order, weight-only trade-offs), the same plus the ``summary`` answer written to JSON bytes (what a summary
POST computes), and the same plus the whole answer encoded (what a record's first fetch, or a ``full`` POST
listing every exclusion, computes). Each request's three timings follow one another, so each decision starts
after the previous request's whole answer has passed through the processor's caches; a further pass times the
decision core alone, request after request (the figure of a loop of decisions, as a server deciding summaries
comes closer to).

With ``--post-parts``, a last pass measures, as mean CPU per request, the parts of a POST's work under HTTP load,
on requests as the load sends them (each the corpus's request with its own ``workload.tokens_per_request``, from
4,096 up, so that nothing kept for one request's figures serves another), in the order the load's phases send
them: for each ``summary`` POST the decision core and the summary written; then for each ``full`` POST (a request
of its own) the decision core, the evidence pass and the whole answer written (``./dev bench`` sets them beside the
server's CPU per POST: ``cost_breakdown``).
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from service.domain.engine import Decision, Engine
from service.domain.requirements import Requirements
from service.loading.engine import build_engine
from service.storage.archive import encode_answer


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)


def _distinct(req: Requirements, tokens: int, detail: str) -> Requirements:
    """``req`` as the HTTP load sends it: its own ``workload.tokens_per_request`` and the ``detail`` of the phase."""
    workload = req.workload.model_copy(update={"tokens_per_request": tokens})
    return req.model_copy(update={"workload": workload, "detail": detail})


#: What each kind of POST computes after its decision, step by step, each step's figure named: the ``summary``
#: written; the evidence pass (run when the trade-offs are first read), then the ``full`` answer written.
_STEPS: dict[str, tuple[tuple[str, Callable[[Decision, Requirements], object]], ...]] = {
    "summary": (("summary_write", lambda decision, req: decision.summary_bytes(req.exclusions)),),
    "full": (
        ("evidence", lambda decision, req: decision.tradeoffs),
        ("full_write", lambda decision, req: decision.full_bytes(req.exclusions)),
    ),
}


def _post_parts(engine: Engine, corpus: list[Requirements], day: dt.date, passes: int) -> dict[str, float]:
    """Mean CPU ms per request of the parts of a POST's work (see the module), in the order the load's phases send
    the requests (a pass's ``summary`` POSTs one after another, then its ``full`` ones): each kind's decision core
    (``summary_decide``, ``full_decide``) and its steps (:data:`_STEPS`)."""
    cpu: dict[str, list[float]] = {}
    tokens = 4096
    clock = time.process_time
    for _ in range(passes):
        for kind, steps in _STEPS.items():
            for base in corpus:
                req = _distinct(base, tokens, kind)
                tokens += 1
                started = clock()
                decision = engine.decide(req, day)
                spent = [(f"{kind}_decide", clock() - started)]
                for name, step in steps:
                    started = clock()
                    step(decision, req)
                    spent.append((name, clock() - started))
                for name, seconds in spent:
                    cpu.setdefault(name, []).append(seconds * 1000)
    return {f"post_{name}_mean_cpu_ms": round(statistics.fmean(values), 3) for name, values in cpu.items()}


def main() -> None:
    catalogue_dir, rules_dir, corpus_path, passes = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    parts = sys.argv[5:] == ["--post-parts"]
    started, started_cpu = time.perf_counter(), time.process_time()
    engine = build_engine(catalogue_dir, rules_dir)  # cold: no kept capability fit
    load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
    corpus = [Requirements.model_validate(body) for body in json.loads(corpus_path.read_text())]
    day = dt.date(2026, 12, 1)
    engine.decide(corpus[0], day).summary_bytes()  # warm-up

    tasks: dict[str, Callable[[Requirements], object]] = {
        "decide": lambda req: engine.decide(req, day),
        "summary": lambda req: engine.decide(req, day).summary_bytes(req.exclusions),
        "whole": lambda req: encode_answer(engine.decide(req, day)),
    }
    wall: dict[str, list[float]] = {name: [] for name in tasks}
    cpu: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(passes):
        for req in corpus:
            for name, task in tasks.items():
                c0, t0 = time.process_time(), time.perf_counter()
                task(req)
                wall[name].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((time.process_time() - c0) * 1000)
    alone: dict[str, list[float]] = {"wall": [], "cpu": []}
    for _ in range(passes):
        for req in corpus:
            c0, t0 = time.process_time(), time.perf_counter()
            engine.decide(req, day)
            alone["wall"].append((time.perf_counter() - t0) * 1000)
            alone["cpu"].append((time.process_time() - c0) * 1000)
    empty: dict[str, list[float]] = {"decide": [], "decide_cpu": [], "summary": [], "summary_cpu": []}
    for k in range(max(20, passes * 10)):
        # Distinct requests (as the HTTP load sends them), so that nothing kept per request is reused.
        body = Requirements.model_validate({"workload": {"tokens_per_request": 4096 + k}})
        for name in ("decide", "summary"):
            c0, t0 = time.process_time(), time.perf_counter()
            tasks[name](body)
            empty[name].append((time.perf_counter() - t0) * 1000)
            empty[f"{name}_cpu"].append((time.process_time() - c0) * 1000)
    figures: dict[str, object] = {
        "models": len(engine.features.ids),
        "load_s": round(load_s, 2),
        "load_cpu_s": round(load_cpu_s, 2),
        "calls": len(wall["decide"]),
    }
    for name in tasks:
        figures[f"{name}_p50_ms"] = _pct(wall[name], 50)
        figures[f"{name}_p99_ms"] = _pct(wall[name], 99)
        figures[f"{name}_p50_cpu_ms"] = _pct(cpu[name], 50)
    figures["alone_decide_p50_ms"] = _pct(alone["wall"], 50)
    figures["alone_decide_p99_ms"] = _pct(alone["wall"], 99)
    figures["alone_decide_p50_cpu_ms"] = _pct(alone["cpu"], 50)
    for name, values in empty.items():
        figures[f"empty_{name}_p50_ms"] = _pct(values, 50)
    if parts:
        figures.update(_post_parts(engine, corpus, day, passes))
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
