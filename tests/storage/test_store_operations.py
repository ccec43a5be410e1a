"""Retention, deletion, compact rows, migrations, readiness writes and secrets kept out of messages."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from service.storage import SqlDecisionStore, StorageError, open_store, redact_url
from tests.storage.test_sql_store import STORED_AT, record, store  # noqa: F401 - the parametrised fixture

BIG_ANSWER = json.dumps({"id": "x", "recommendations": [{"reasons": ["the same long sentence " * 40] * 50}] * 50})


def test_prune_deletes_by_age_and_by_count_newest_kept(store: SqlDecisionStore) -> None:  # noqa: F811
    for i in range(6):
        store.save(record(f"rec_{i:032d}", STORED_AT + dt.timedelta(days=i)))
    assert store.prune(older_than=STORED_AT + dt.timedelta(days=2)) == 2
    assert store.count() == 4
    assert store.prune(keep_newest=3) == 1
    assert [r.id for r in store.list_recent(10)] == [f"rec_{i:032d}" for i in (5, 4, 3)]
    assert store.prune(keep_newest=3) == 0


def test_delete_removes_one_record_and_says_whether_it_existed(store: SqlDecisionStore) -> None:  # noqa: F811
    store.save(record())
    assert store.delete(record().id) is True
    assert store.get(record().id) is None
    assert store.delete(record().id) is False


def test_a_stored_answer_is_compressed_and_read_back_byte_identical(store: SqlDecisionStore) -> None:  # noqa: F811
    store.save(record(answer=BIG_ANSWER, created_by="ci"))
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT answer, answer_zlib FROM decision_records")).one()
    assert row.answer is None
    assert len(row.answer_zlib) < len(BIG_ANSWER) / 20
    fetched = store.get(record().id)
    assert fetched is not None and fetched.answer == BIG_ANSWER and fetched.created_by == "ci"


def test_readiness_writes_succeed_on_a_working_database(store: SqlDecisionStore) -> None:  # noqa: F811
    store.check_writable()
    store.check_writable()


def test_a_read_only_database_is_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "db" / "advisor.db"
    open_store(f"sqlite:///{path}").close()
    monkeypatch.chdir(tmp_path)
    read_only = open_store(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StorageError, match="cannot write"):
        read_only.check_writable()
    # The URI names the file: no folder called "file:" is made where the service runs.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]


def test_a_sqlite_uri_names_its_file_not_a_folder_called_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "new folder" / "advisor.db"
    opened = open_store(f"sqlite:///file:{target.as_posix().replace(' ', '%20')}?uri=true")
    opened.save(record())
    assert opened.count() == 1
    opened.close()
    assert target.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["new folder"]


def test_a_database_made_before_migrations_existed_is_upgraded_and_its_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the schema as the first release created it, without Alembic
        conn.execute(
            "CREATE TABLE decision_records (id VARCHAR(64) PRIMARY KEY, stored_at DATETIME NOT NULL, "
            "evaluated_on DATE NOT NULL, catalogue_version VARCHAR(100) NOT NULL, rules_version VARCHAR(100) "
            "NOT NULL, profile VARCHAR(100) NOT NULL, top_models TEXT NOT NULL, rerun_of VARCHAR(64), "
            "requirements TEXT NOT NULL, answer TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO decision_records VALUES ('rec_old', '2026-11-01 10:00:00.000000', '2026-11-01', 'c', 'r', "
            "'balanced', '[]', NULL, '{}', '{\"id\":\"rec_old\"}')"
        )
    upgraded = open_store(f"sqlite:///{path}")
    old = upgraded.get("rec_old")
    assert old is not None and old.answer == '{"id":"rec_old"}' and old.created_by is None
    upgraded.save(record())
    assert upgraded.count() == 2


def test_a_failed_write_names_no_sql_parameters(tmp_path: Path) -> None:
    opened = open_store(f"sqlite:///{tmp_path / 'advisor.db'}")
    with opened.engine.begin() as conn:
        conn.execute(text("DROP TABLE decision_records"))
    secret_requirements = '{"use_cases":["coding"],"note":"confidential-project-name"}'
    with pytest.raises(StorageError) as failed:
        opened.save(record(requirements=secret_requirements))
    assert "confidential-project-name" not in str(failed.value)
    assert "INSERT" not in str(failed.value)


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("postgresql+psycopg://advisor:hunter2@db.internal/advisor", "hunter2"),
        ("postgresql+psycopg://advisor@db.internal/advisor?password=hunter2", "hunter2"),
        ("postgresql+psycopg://advisor@db.internal/advisor?sslpassword=hunter2&sslmode=require", "hunter2"),
    ],
)
def test_database_urls_are_redacted_in_every_form(url: str, hidden: str) -> None:
    shown = redact_url(url)
    assert hidden not in shown
    assert "db.internal" in shown


def test_an_in_memory_database_takes_concurrent_writes_without_errors() -> None:
    opened = open_store("sqlite://")
    failures: list[BaseException] = []

    def write(start: int) -> None:
        try:
            for i in range(start, start + 25):
                opened.save(record(f"rec_{i:032d}"))
                opened.get(f"rec_{i:032d}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert opened.count() == 200


def _open_and_count(url: str) -> None:
    opened = open_store(url)
    opened.count()
    opened.close()


def test_several_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / 'fresh.db'}"]
    if os.environ.get("ADVISOR_TEST_POSTGRESQL_URL"):
        urls.append(os.environ["ADVISOR_TEST_POSTGRESQL_URL"])
    context = multiprocessing.get_context("spawn")
    for url in urls:
        if url.startswith("postgresql"):
            existing = open_store(url)
            with existing.engine.begin() as conn:  # start from an empty schema, as a new database does
                conn.execute(
                    text("DROP TABLE IF EXISTS decision_records, data_versions, advisor_probe, alembic_version")
                )
            existing.close()
        processes = [context.Process(target=_open_and_count, args=(url,)) for _ in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(120)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0], url


def test_a_record_needs_a_digest_or_its_answer(store: SqlDecisionStore) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="decision digest"):
        store.save(record(answer=None, answer_digest=None, decision_digest=None))
