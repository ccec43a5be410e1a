"""One in-process engine measurement, run in its own process so that its peak memory is its own.

``python -m bench.engine_child CATALOGUE_DIR RULES_DIR CORPUS_JSON PASSES`` prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

from service.domain.citing import encode_full
from service.domain.requirements import Requirements
from service.loading.engine import build_engine


def main() -> None:
    catalogue_dir, rules_dir, corpus_path, passes = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    started, started_cpu = time.perf_counter(), time.process_time()
    engine = build_engine(catalogue_dir, rules_dir)  # cold: no kept capability fit
    load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - started_cpu
    corpus = [Requirements.model_validate(body) for body in json.loads(corpus_path.read_text())]
    day = dt.date(2026, 12, 1)
    engine.recommend(corpus[0], day)  # warm-up
    recommend_ms: list[float] = []
    recommend_cpu_ms: list[float] = []
    encode_ms: list[float] = []
    for _ in range(passes):
        for req in corpus:
            c0 = time.process_time()
            t0 = time.perf_counter()
            answer = engine.recommend(req, day)
            t1 = time.perf_counter()
            recommend_cpu_ms.append((time.process_time() - c0) * 1000)
            encode_full(answer, engine.rules.eligibility)
            t2 = time.perf_counter()
            recommend_ms.append((t1 - t0) * 1000)
            encode_ms.append((t2 - t1) * 1000)
    empty_ms = []
    empty_cpu_ms = []
    for k in range(max(20, passes * 10)):
        # Distinct requests (as the HTTP load sends them), so that nothing kept per request is reused.
        body = Requirements.model_validate({"workload": {"tokens_per_request": 4096 + k}})
        c0 = time.process_time()
        t0 = time.perf_counter()
        engine.recommend(body, day)
        empty_ms.append((time.perf_counter() - t0) * 1000)
        empty_cpu_ms.append((time.process_time() - c0) * 1000)

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)

    print(
        json.dumps(
            {
                "models": len(engine.features.ids),
                "load_s": round(load_s, 2),
                "load_cpu_s": round(load_cpu_s, 2),
                "calls": len(recommend_ms),
                "p50_ms": pct(recommend_ms, 50),
                "p50_cpu_ms": pct(recommend_cpu_ms, 50),
                "p99_ms": pct(recommend_ms, 99),
                "encode_p50_ms": pct(encode_ms, 50),
                "empty_p50_ms": pct(empty_ms, 50),
                "empty_p50_cpu_ms": pct(empty_cpu_ms, 50),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
