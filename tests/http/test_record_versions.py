"""Small records: a stored decision is rebuilt from its catalogue and rules versions, byte for byte, across a
catalogue change, a reload and a restart; a rebuild that differs is refused naming both digests; records
written before versions were kept are still served."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine

from service.domain.engine import Engine
from service.http.app import create_app
from service.settings import Settings
from service.storage import DecisionStore, answer_digest
from tests.conftest import CATALOGUE, RULES, TODAY
from tests.http.test_records import RECORDS, REQUEST, _without_record

MODEL_FILE = Path("models/Qwen/Qwen3-32B.toml")


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the shipped catalogue and rules that a test may change."""
    catalogue, rules = tmp_path / "catalogue", tmp_path / "rules"
    shutil.copytree(CATALOGUE, catalogue)
    shutil.copytree(RULES, rules)
    return catalogue, rules


AppOn = Callable[[], Litestar]


@pytest.fixture
def app_on(data: tuple[Path, Path], tmp_path: Path) -> AppOn:
    """A fresh app (as after a restart) that loads the data copy itself, on one database file."""
    settings = Settings(catalogue_dir=data[0], rules_dir=data[1], database_url=f"sqlite:///{tmp_path / 'advisor.db'}")
    return lambda: create_app(settings, clock=lambda: TODAY)


def _change_the_catalogue(catalogue: Path) -> None:
    path = catalogue / MODEL_FILE
    path.write_text(path.read_text(encoding="utf-8") + "# reviewed again\n", encoding="utf-8")


def _store_of(client: TestClient[Litestar]) -> DecisionStore:
    store: DecisionStore = client.app.state["records"]
    return store


def test_a_record_stores_no_answer_only_its_digest_and_is_served_byte_for_byte(app_on: AppOn) -> None:
    with TestClient(app_on()) as client:
        created = client.post(RECORDS, json=REQUEST)
        assert created.status_code == 200, created.text
        record = _store_of(client).get(created.json()["id"])
        fetched = client.get(f"{RECORDS}/{created.json()['id']}")
    assert record is not None and record.answer is None
    assert record.answer_digest == answer_digest(_without_record(created.content).decode())
    assert fetched.content == created.content


def test_a_decision_is_rebuilt_identically_after_the_catalogue_changes_by_reload_and_by_restart(
    app_on: AppOn, data: tuple[Path, Path]
) -> None:
    with TestClient(app_on()) as client:
        created = client.post(RECORDS, json=REQUEST)
        summary = client.post(RECORDS, json={**REQUEST, "limit": 2, "detail": "summary"})
        old_version = created.json()["catalogue_version"]
        _change_the_catalogue(data[0])
        reloaded = client.post("/v1/admin/reload")
        assert reloaded.json()["changed"] == {"catalogue": True, "rules": False}
        after_reload = client.get(f"{RECORDS}/{created.json()['id']}")
        newer = client.post(RECORDS, json=REQUEST)
    assert newer.json()["catalogue_version"] != old_version
    assert newer.json()["id"] != created.json()["id"]
    with TestClient(app_on()) as client:  # a restart: the old engine is gone, only the database has its files
        after_restart = client.get(f"{RECORDS}/{created.json()['id']}")
        summary_full = client.get(summary.json()["record"]["links"]["self"])
        report = client.get(f"{RECORDS}/{created.json()['id']}/report")
    for fetched in (after_reload, after_restart):
        assert fetched.status_code == 200, fetched.text
        assert _without_record(fetched.content) == _without_record(created.content)
        body = fetched.json()
        assert body["catalogue_version"] == old_version
        assert body["record"]["superseded"] is True
        assert body["record"]["superseded_because"] == ["catalogue changed"]
        assert body["record"]["current_catalogue_version"] == newer.json()["catalogue_version"]
    assert summary_full.status_code == 200
    assert summary_full.json()["catalogue_version"] == old_version
    assert report.status_code == 200
    assert old_version in report.text and "Superseded" in report.text


def test_a_rebuild_that_differs_from_the_stored_digest_is_refused_naming_both(app_on: AppOn, tmp_path: Path) -> None:
    with TestClient(app_on()) as client:
        created = client.post(RECORDS, json=REQUEST).json()
    forged = "sha256:" + "f" * 64
    with sqlite3.connect(tmp_path / "advisor.db") as conn:
        conn.execute("UPDATE decision_records SET answer_digest = ? WHERE id = ?", (forged, created["id"]))
    with TestClient(app_on()) as client:
        fetched = client.get(f"{RECORDS}/{created['id']}")
        report = client.get(f"{RECORDS}/{created['id']}/report", params={"format": "html"})
    for response in (fetched, report):
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["title"] == "Stored decision cannot be rebuilt"
        assert forged in problem["detail"]
        assert created["catalogue_version"] not in problem["detail"]
        assert "rebuilt one sha256:" in problem["detail"]
        assert [e["field"] for e in problem["errors"]] == ["record_id"]


def test_a_record_whose_catalogue_version_is_missing_is_refused_naming_it(app_on: AppOn, tmp_path: Path) -> None:
    with TestClient(app_on()) as client:
        created = client.post(RECORDS, json=REQUEST).json()
    missing = "sha256:" + "e" * 64
    with sqlite3.connect(tmp_path / "advisor.db") as conn:
        conn.execute("UPDATE decision_records SET catalogue_version = ? WHERE id = ?", (missing, created["id"]))
    with TestClient(app_on()) as client:
        fetched = client.get(f"{RECORDS}/{created['id']}")
    assert fetched.status_code == 409
    assert f"catalogue version {missing}, which is not stored" in fetched.json()["detail"]


def test_a_database_with_records_from_before_versions_is_upgraded_and_its_answers_served(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "old.db"
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parents[2] / "service/storage/migrations"))
    old = create_engine(f"sqlite:///{path}")
    with old.begin() as conn:  # the schema as release 0003 left it, with a record holding its answer
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        answer = '{"id":"rec_old","catalogue_version":"sha256:old","recommendations":[]}'
        conn.exec_driver_sql(
            "INSERT INTO decision_records (id, stored_at, evaluated_on, catalogue_version, rules_version, profile, "
            "top_models, requirements, answer_zlib) VALUES ('rec_old', '2026-11-01 10:00:00.000000', '2026-11-01', "
            "'sha256:old', 'sha256:old', 'balanced', '[]', '{}', ?)",
            (zlib.compress(answer.encode()),),
        )
    old.dispose()
    settings = Settings(catalogue_dir=CATALOGUE, rules_dir=RULES, database_url=f"sqlite:///{path}")
    with TestClient(create_app(settings, engine=engine, clock=lambda: TODAY)) as client:
        fetched = client.get(f"{RECORDS}/rec_old")
        created = client.post(RECORDS, json=REQUEST)
        listed = client.get(RECORDS).json()
    assert fetched.status_code == 200
    assert _without_record(fetched.content) == answer.encode()
    assert fetched.json()["record"]["superseded"] is True
    assert created.status_code == 200
    assert listed["count"] == 2
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT answer_zlib IS NULL, answer_digest FROM decision_records WHERE id != 'rec_old'")
        assert stored.fetchall() == [(1, answer_digest(_without_record(created.content).decode()))]


def test_the_same_request_on_another_day_rebuilds_with_its_own_date(data: tuple[Path, Path]) -> None:
    settings = Settings(catalogue_dir=data[0], rules_dir=data[1], database_url=f"sqlite:///{data[0].parent / 'a.db'}")
    ids = []
    for day in (TODAY, TODAY + dt.timedelta(days=40)):
        with TestClient(create_app(settings, clock=lambda day=day: day)) as client:
            ids.append(client.post(RECORDS, json=REQUEST).content)
    with TestClient(create_app(settings, clock=lambda: TODAY)) as client:
        for created in ids:
            answer_id = _without_record(created).split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
            assert _without_record(client.get(f"{RECORDS}/{answer_id}").content) == _without_record(created)


def _digests(path: Path, record_id: str) -> tuple[str | None, str | None]:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT decision_digest, answer_digest FROM decision_records WHERE id = ?", (record_id,)
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_a_summary_fixes_the_decision_at_once_and_the_answer_bytes_at_its_first_fetch(
    app_on: AppOn, tmp_path: Path
) -> None:
    brief = {**REQUEST, "detail": "summary", "exclusions": "by_rule"}
    with TestClient(app_on()) as client:
        summary = client.post(RECORDS, json=brief)
        assert summary.status_code == 200, summary.text
        record_id = summary.json()["id"]
        decided, sealed = _digests(tmp_path / "advisor.db", record_id)
        # The summary built no whole answer: the decision is fixed, the answer's bytes are not yet.
        assert decided is not None and decided.startswith("sha256:") and sealed is None
        first = client.get(f"{RECORDS}/{record_id}")
        assert first.status_code == 200, first.text
        assert _digests(tmp_path / "advisor.db", record_id) == (
            decided,
            answer_digest(_without_record(first.content).decode()),
        )
        again = client.post(RECORDS, json=REQUEST)  # the whole answer asked for: the same record, the same bytes
        assert again.status_code == 200 and again.json()["id"] == record_id
    with TestClient(app_on()) as client:  # after a restart
        later = client.get(f"{RECORDS}/{record_id}")
    assert _without_record(again.content) == _without_record(first.content) == _without_record(later.content)
    assert _digests(tmp_path / "advisor.db", record_id)[1] == answer_digest(_without_record(first.content).decode())


def test_a_whole_answer_first_asked_for_after_a_summary_is_sealed_by_that_response(
    app_on: AppOn, tmp_path: Path
) -> None:
    with TestClient(app_on()) as client:
        record_id = client.post(RECORDS, json={**REQUEST, "detail": "summary"}).json()["id"]
        full = client.post(RECORDS, json=REQUEST)
        assert full.status_code == 200, full.text
        assert _digests(tmp_path / "advisor.db", record_id)[1] == answer_digest(_without_record(full.content).decode())
        assert _without_record(client.get(f"{RECORDS}/{record_id}").content) == _without_record(full.content)


def test_a_rebuilt_decision_that_differs_from_the_stored_decision_digest_is_refused_and_nothing_sealed(
    app_on: AppOn, tmp_path: Path
) -> None:
    with TestClient(app_on()) as client:
        record_id = client.post(RECORDS, json={**REQUEST, "detail": "summary"}).json()["id"]
    forged = "sha256:" + "d" * 64
    with sqlite3.connect(tmp_path / "advisor.db") as conn:
        conn.execute("UPDATE decision_records SET decision_digest = ? WHERE id = ?", (forged, record_id))
    with TestClient(app_on()) as client:
        fetched = client.get(f"{RECORDS}/{record_id}")
        page = client.get(f"/decisions/{record_id}")
        posted = client.post(RECORDS, json=REQUEST)
    for response in (fetched, posted):
        assert response.status_code == 409, response.text
        assert forged in response.json()["detail"]
        assert "decision digest" in response.json()["detail"]
    assert page.status_code == 409
    assert _digests(tmp_path / "advisor.db", record_id) == (forged, None)


def test_frozen_records_are_served_as_stored_by_a_release_that_words_answers_differently(
    app_on: AppOn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from service.cli import main
    from service.settings import get_settings
    from service.storage import archive

    database = tmp_path / "advisor.db"
    with TestClient(app_on()) as client:
        brief = client.post(RECORDS, json={**REQUEST, "detail": "summary"}).json()["id"]  # not sealed yet
        whole = client.post(RECORDS, json={**REQUEST, "limit": 2}).json()["id"]  # sealed by its response
        served = {record_id: client.get(f"{RECORDS}/{record_id}").content for record_id in (brief, whole)}
    with sqlite3.connect(database) as conn:  # the first fetch sealed the summary's record: unseal it again
        conn.execute("UPDATE decision_records SET answer_digest = NULL WHERE id = ?", (brief,))
    monkeypatch.setenv("ADVISOR_DATABASE_URL", f"sqlite:///{database}")
    get_settings.cache_clear()
    try:
        assert main(["records", "freeze"]) == 0
        assert "froze 2 decision records" in capsys.readouterr().out
        assert main(["records", "freeze"]) == 0
        assert "froze 0 decision records" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    with sqlite3.connect(database) as conn:
        rows = dict(
            conn.execute("SELECT id, answer_zlib IS NOT NULL AND answer_digest IS NOT NULL FROM decision_records")
        )
    assert rows == {brief: 1, whole: 1}

    with TestClient(app_on()) as client:  # a record stored and first served after the freeze: not frozen
        unfrozen = client.post(RECORDS, json={**REQUEST, "limit": 4, "detail": "summary"}).json()["id"]
        assert client.get(f"{RECORDS}/{unfrozen}").status_code == 200

    # A later release whose answers read differently: frozen records are served as stored, others are refused.
    original = archive.encode_answer
    monkeypatch.setattr(archive, "encode_answer", lambda decision: original(decision).replace(b"}", b" }", 1))
    with TestClient(app_on()) as client:
        later = {record_id: client.get(f"{RECORDS}/{record_id}") for record_id in (brief, whole)}
        refused = client.get(f"{RECORDS}/{unfrozen}")
    for record_id, response in later.items():
        assert response.status_code == 200, response.text
        assert _without_record(response.content) == _without_record(served[record_id])
    assert refused.status_code == 409

    # Frozen text is checked against the record's answer digest: damaged text is refused, never served.
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE decision_records SET answer_zlib = ? WHERE id = ?", (zlib.compress(b'{"id":"x"}'), whole))
    with TestClient(app_on()) as client:
        damaged = client.get(f"{RECORDS}/{whole}")
    assert damaged.status_code == 409
    assert "answer digest" in damaged.json()["detail"]
