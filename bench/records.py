"""``python -m bench.records``: the size of a decision record before and after versions were kept, the write
rate with group commit, and what a rebuild costs. Prints figures; it is never a timed test.

Every corpus request is decided on the shipped data and stored twice, in two fresh SQLite files: as records
were stored before (the full answer, zlib level 6) and as they are now (requirements, versions and the
answer's digest; each version's files stored once).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import tempfile
import threading
import time
import zlib
from pathlib import Path

from bench.corpus import build_corpus
from service.domain.requirements import Requirements
from service.loading.engine import build_engine
from service.settings import default_data_dir
from service.storage import DataVersion, DecisionArchive, DecisionRecord, open_store
from service.storage.archive import encode_answer

DAY = dt.date(2026, 12, 1)


def _row_bytes(record: DecisionRecord, answer_zlib: bytes | None) -> int:
    """The bytes a row holds in its columns (what the database stores, before its own page overhead)."""
    texts = [
        record.id,
        record.catalogue_version,
        record.rules_version,
        record.profile,
        ",".join(record.top_models),
        record.requirements,
        record.answer_digest or "",
        record.decision_digest or "",
        record.created_by or "",
    ]
    return sum(len(t.encode()) for t in texts) + 8 + 4 + (len(answer_zlib) if answer_zlib else 0)


def main() -> None:
    catalogue_dir, rules_dir = default_data_dir("catalogue"), default_data_dir("rules")
    engine = build_engine(catalogue_dir, rules_dir)
    versions = DataVersion.read("catalogue", catalogue_dir), DataVersion.read("rules", rules_dir)
    corpus = build_corpus(engine)
    print(f"# Decision records, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; corpus: {len(corpus)} requests")
    with tempfile.TemporaryDirectory(prefix="advisor-bench-records-") as tmp:
        before_store = open_store(f"sqlite:///{tmp}/before.db")
        after_store = open_store(f"sqlite:///{tmp}/after.db")
        archive = DecisionArchive(after_store, lambda: engine, build_engine)
        archive.register(*versions)
        before_rows, after_rows, answers = [], [], []
        now = dt.datetime.now(dt.UTC)
        for n, body in enumerate(corpus * 4):
            detail = "full" if n % 2 else "summary"
            request = Requirements.model_validate(
                {**body, "detail": detail, "workload": {"tokens_per_request": 4096 + n}}
            )
            decision = engine.decide(request, DAY)
            text = encode_answer(decision)
            answers.append(len(text))
            small = archive.record(decision, text if detail == "full" else None, stored_at=now)
            legacy = dataclasses.replace(small, answer=text.decode(), answer_digest=None, decision_digest=None)
            before_store.save(legacy)
            after_store.save(small)
            before_rows.append(_row_bytes(legacy, zlib.compress(text, 6)))
            after_rows.append(_row_bytes(small, None))
        count = len(answers)
        before_store.close()
        after_store.close()
        before_file = Path(f"{tmp}/before.db").stat().st_size
        after_file = Path(f"{tmp}/after.db").stat().st_size
        packed = sum(len(v.pack()) for v in versions)
        print(f"records: {count} (full answers: median {statistics.median(answers):,.0f} B, max {max(answers):,} B)")
        print("| | per record, median | per record, max | database file for all |")
        print("|---|---|---|---|")
        print(
            f"| before (answer zlib-compressed) | {statistics.median(before_rows):,.0f} B | {max(before_rows):,} B | "
            f"{before_file / 1e6:.2f} MB |"
        )
        print(
            f"| after (versions + digest) | {statistics.median(after_rows):,.0f} B | {max(after_rows):,} B | "
            f"{after_file / 1e6:.2f} MB (of which the two versions, once: {packed / 1e3:.0f} KB) |"
        )
        _write_rate(tmp, versions)
        _rebuild_cost(tmp, engine, versions)


def _write_rate(tmp: str, versions: tuple[DataVersion, DataVersion]) -> None:
    """Small records saved by 1 and by 32 threads at once (each save returns only once committed)."""
    for threads in (1, 32):
        store = open_store(f"sqlite:///{tmp}/rate-{threads}.db")
        for version in versions:
            store.register_version(version)
        each = 40 if threads > 1 else 300
        template = DecisionRecord(
            id="",
            stored_at=dt.datetime.now(dt.UTC),
            evaluated_on=DAY,
            catalogue_version=versions[0].digest,
            rules_version=versions[1].digest,
            profile="balanced",
            top_models=("a/b",),
            rerun_of=None,
            requirements="{}",
            answer_digest="sha256:" + "0" * 64,
        )
        store.save(dataclasses.replace(template, id="rec_warm"))
        batches = [
            [dataclasses.replace(template, id=f"rec_{t:04d}{i:028d}") for i in range(each)] for t in range(threads)
        ]

        started = time.perf_counter()
        workers = [threading.Thread(target=lambda b=batch, s=store: [s.save(r) for r in b]) for batch in batches]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        store.close()
        print(f"write rate, {threads} thread(s) saving at once: {threads * each / elapsed:,.0f} records/s")


def _rebuild_cost(tmp: str, engine: object, versions: tuple[DataVersion, DataVersion]) -> None:
    """GET of a stored decision: rebuilt on the serving engine, and on an old version not built yet."""
    from service.domain.engine import Engine

    assert isinstance(engine, Engine)
    store = open_store(f"sqlite:///{tmp}/rebuild.db")
    archive = DecisionArchive(store, lambda: engine, build_engine)
    archive.register(*versions)
    decision = engine.decide(Requirements(), DAY)
    text = encode_answer(decision)
    record, _ = store.save(archive.record(decision, text, stored_at=dt.datetime.now(dt.UTC)))
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        archive.answer_text(record)
        timings.append(time.perf_counter() - started)
    print(f"rebuild on the serving engine (`{{}}`): p50 {statistics.median(timings) * 1e3:.1f} ms")
    cold = DecisionArchive(open_store(f"sqlite:///{tmp}/rebuild.db"), lambda: None, build_engine)
    started = time.perf_counter()
    cold.answer_text(record)
    elapsed = time.perf_counter() - started
    print(f"rebuild on a version not built yet (read from the database, engine built): {elapsed:.1f} s")
    started = time.perf_counter()
    cold.answer_text(record)
    print(f"the same again (engine kept): {(time.perf_counter() - started) * 1e3:.1f} ms")
    store.close()


if __name__ == "__main__":
    main()
