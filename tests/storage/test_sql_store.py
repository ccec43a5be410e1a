"""Decision records in SQL: a real SQLite file (and PostgreSQL when a server is given)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.storage import DecisionRecord, SqlDecisionStore, StorageError, open_store

STORED_AT = dt.datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=dt.UTC)


def record(record_id: str = "rec_" + "0" * 32, stored_at: dt.datetime = STORED_AT, **changes: object) -> DecisionRecord:
    fields: dict[str, object] = {
        "id": record_id,
        "stored_at": stored_at,
        "evaluated_on": dt.date(2026, 11, 25),
        "catalogue_version": "sha256:" + "c" * 64,
        "rules_version": "sha256:" + "r" * 64,
        "profile": "balanced",
        "top_models": ("google/gemma-4-31B-it", "Qwen/Qwen3-32B"),
        "rerun_of": None,
        "requirements": '{"use_cases":["coding"]}',
        "answer": '{"id":"' + record_id + '","note":"caf\\u00e9 ✓"}',
    }
    fields.update(changes)
    return DecisionRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlDecisionStore]:
    if request.param == "postgresql":
        url = os.environ.get("ADVISOR_TEST_POSTGRESQL_URL")
        if not url:
            pytest.skip("set ADVISOR_TEST_POSTGRESQL_URL to a disposable PostgreSQL database to run this")
    else:
        url = f"sqlite:///{tmp_path / 'records' / 'advisor.db'}"
    opened = open_store(url)
    if request.param == "postgresql":
        with opened.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM decision_records")
            conn.exec_driver_sql("DELETE FROM data_versions")
    yield opened
    opened.close()


def test_a_saved_record_reads_back_field_for_field(store: SqlDecisionStore) -> None:
    saved, created = store.save(record())
    assert created
    assert saved == record()
    assert store.get(record().id) == record()
    assert store.get("rec_unknown") is None


def test_saving_an_existing_id_again_changes_nothing(store: SqlDecisionStore) -> None:
    store.save(record())
    again, created = store.save(record(stored_at=STORED_AT + dt.timedelta(hours=1), profile="other"))
    assert not created
    assert again == record()  # the first one stays, with its time
    assert store.count() == 1


def test_listing_is_newest_first_and_paginated(store: SqlDecisionStore) -> None:
    for i in range(5):
        store.save(record(f"rec_{i:032d}", STORED_AT + dt.timedelta(minutes=i)))
    store.save(record(f"rec_{9:032d}", STORED_AT + dt.timedelta(minutes=4)))  # same time: ties by id, descending
    page = store.list_recent(limit=3)
    assert [r.id for r in page] == [f"rec_{9:032d}", f"rec_{4:032d}", f"rec_{3:032d}"]
    assert [r.id for r in store.list_recent(limit=3, offset=3)] == [f"rec_{i:032d}" for i in (2, 1, 0)]
    assert store.list_recent(limit=3, offset=6) == []
    assert store.count() == 6
    assert page[0].top_models == ("google/gemma-4-31B-it", "Qwen/Qwen3-32B")
    assert page[0].stored_at.tzinfo is not None


def test_records_survive_closing_and_reopening_the_database_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    first = open_store(url)
    first.save(record(rerun_of="rec_" + "1" * 32))
    first.close()
    second = open_store(url)
    assert second.get(record().id) == record(rerun_of="rec_" + "1" * 32)
    second.close()


def test_the_database_and_its_directory_are_created_on_first_use_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "advisor.db"
    store = open_store(f"sqlite:///{path}")
    store.save(record())
    store.close()
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_in_memory_database_keeps_its_records_across_connections() -> None:
    store = open_store("sqlite://")
    store.save(record())
    assert store.get(record().id) == record()
    assert store.count() == 1
    store.close()


@pytest.mark.parametrize("url", ["not a url", "nosuchdialect://host/db"])
def test_an_unusable_database_url_is_refused_with_a_storage_error(url: str) -> None:
    with pytest.raises(StorageError):
        open_store(url)


def test_a_database_that_cannot_be_created_is_refused_with_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot"):
        open_store(f"sqlite:///{blocker / 'advisor.db'}")


def test_a_naive_time_is_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'advisor.db'}")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.save(record(stored_at=dt.datetime(2026, 11, 25, 9, 30)))  # naive on purpose
    store.close()
