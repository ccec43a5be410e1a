"""Data versions stored once by digest, small records that name them, and group commit."""

from __future__ import annotations

import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from service.loading.files import content_hash
from service.storage import DataVersion, DecisionRecord, SqlDecisionStore, StorageError, open_store, sql
from tests.conftest import CATALOGUE, RULES
from tests.storage.test_sql_store import record, store  # noqa: F401 - the parametrised fixture

CATALOGUE_V = DataVersion.of("catalogue", [("models/a/b.toml", b'name = "B"\n'), ("models/a-b/c.toml", b"")])
RULES_V = DataVersion.of("rules", [("policy.toml", b"x = 1\n"), ("licences/mit.toml", "caf\u00e9".encode())])


def small(record_id: str = "rec_" + "1" * 32, **changes: Any) -> DecisionRecord:
    """A record as the service now writes it: versions and the answer's digest, no answer."""
    fields: dict[str, Any] = {
        "catalogue_version": CATALOGUE_V.digest,
        "rules_version": RULES_V.digest,
        "answer": None,
        "answer_digest": "sha256:" + "a" * 64,
    }
    return record(record_id, **(fields | changes))


@pytest.mark.parametrize("directory", [CATALOGUE, RULES], ids=["catalogue", "rules"])
def test_a_version_read_from_a_directory_has_the_digest_the_engine_reports(directory: Path) -> None:
    version = DataVersion.read("catalogue", directory)
    assert version.digest == content_hash(directory)
    assert DataVersion.unpack("catalogue", version.digest, version.pack()) == version


def test_a_damaged_or_mislabelled_version_is_refused() -> None:
    packed = CATALOGUE_V.pack()
    with pytest.raises(ValueError, match="holds files whose digest is"):
        DataVersion.unpack("catalogue", RULES_V.digest, packed)
    with pytest.raises(ValueError, match="damaged"):
        DataVersion.unpack("catalogue", CATALOGUE_V.digest, packed[:-3])
    raw = zlib.decompress(packed)
    with pytest.raises(ValueError, match="truncated"):
        DataVersion.unpack("catalogue", CATALOGUE_V.digest, zlib.compress(raw[:-2]))


def test_a_version_whose_path_leaves_its_directory_is_not_written(tmp_path: Path) -> None:
    escaping = DataVersion.of("rules", [("../outside.toml", b"")])
    with pytest.raises(ValueError, match="outside its directory"):
        escaping.write_to(tmp_path / "rules")
    assert not (tmp_path / "outside.toml").exists()


def test_a_small_record_stores_its_versions_once_and_no_answer(store: SqlDecisionStore) -> None:  # noqa: F811
    store.register_version(CATALOGUE_V)
    store.register_version(RULES_V)
    assert store.save(small())[1] is True
    assert store.save(small("rec_" + "2" * 32))[1] is True
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT answer, answer_zlib, answer_digest FROM decision_records")).all()
        kinds = conn.execute(text("SELECT kind, digest, files, size FROM data_versions ORDER BY kind")).all()
    assert [tuple(row) for row in rows] == [(None, None, "sha256:" + "a" * 64)] * 2
    assert [tuple(row) for row in kinds] == [
        ("catalogue", CATALOGUE_V.digest, 2, CATALOGUE_V.size),
        ("rules", RULES_V.digest, 2, RULES_V.size),
    ]
    assert store.get(small().id) == small()
    # Another process (a fresh store) reads the versions back from the database, byte for byte.
    reopened = open_store(store.engine.url.render_as_string(hide_password=False))
    try:
        assert reopened.get_version(RULES_V.digest) == RULES_V
        assert reopened.get_version("sha256:" + "0" * 64) is None
    finally:
        reopened.close()


def test_a_small_record_naming_a_version_nobody_stored_is_refused(store: SqlDecisionStore) -> None:  # noqa: F811
    store.register_version(CATALOGUE_V)  # the rules version is neither registered nor stored
    with pytest.raises(StorageError, match=f"data version {RULES_V.digest} is not stored"):
        store.save(small())
    assert store.get(small().id) is None
    # A record that holds its answer needs no version.
    assert store.save(record())[1] is True


def test_records_waiting_together_share_one_commit(tmp_path: Path) -> None:
    opened = open_store(f"sqlite:///{tmp_path / 'advisor.db'}")
    opened.register_version(CATALOGUE_V)
    opened.register_version(RULES_V)
    commits: list[int] = []
    first_commit_may_finish = threading.Event()

    @event.listens_for(opened.engine, "commit")
    def hold_the_first_commit(_: Any) -> None:
        commits.append(1)
        if len(commits) == 1:  # the writer is busy: every save from now on waits for the next commit
            first_commit_may_finish.wait(30)

    first = threading.Thread(target=opened.save, args=(small("rec_" + "0" * 32),))
    first.start()
    while not commits:  # the first record's commit is under way (ordering, not timing, is what is tested)
        threading.Event().wait(0.01)
    futures = [opened.submit(small(f"rec_{i:032d}")) for i in range(1, 11)]
    first_commit_may_finish.set()
    outcomes = [future.result(30) for future in futures]
    first.join(30)
    assert all(created for _, created in outcomes)
    assert len(commits) == 2  # the first record's, then one for the ten that waited
    assert opened.count() == 11
    opened.close()


def test_a_batch_goes_in_as_one_insert_and_each_caller_gets_its_own_outcome(store: SqlDecisionStore) -> None:  # noqa: F811
    store.register_version(CATALOGUE_V)
    store.register_version(RULES_V)
    statements: list[str] = []
    if store.engine.dialect.name == "sqlite":  # SQLite's own trace: the writer calls the driver directly

        @event.listens_for(store.engine, "checkout")
        def trace(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.set_trace_callback(statements.append)
    else:

        @event.listens_for(store.engine, "before_cursor_execute")
        def through_sqlalchemy(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

    stored_before = store.save(small("rec_" + "9" * 32, profile="stored before"))[0]
    commits: list[int] = []
    first_commit_may_finish = threading.Event()

    @event.listens_for(store.engine, "commit")
    def hold_the_first_commit(_: Any) -> None:
        commits.append(1)
        if len(commits) == 1:
            first_commit_may_finish.wait(30)

    first = threading.Thread(target=store.save, args=(small("rec_" + "0" * 32),))
    first.start()
    while not commits:  # the writer is committing the first record: what is submitted now waits as one batch
        threading.Event().wait(0.01)
    batch = [
        small("rec_" + "1" * 32),
        small("rec_" + "9" * 32, profile="sent again"),  # stored before this batch
        small("rec_" + "2" * 32),
        small("rec_" + "1" * 32, profile="sent twice"),  # the same id as the batch's first record
        small("rec_" + "3" * 32, rules_version="sha256:" + "f" * 64),  # names a version nobody stored
    ]
    futures = [store.submit(one) for one in batch]
    statements.clear()
    first_commit_may_finish.set()
    first.join(30)
    assert futures[0].result(30) == (batch[0], True)
    assert futures[1].result(30) == (stored_before, False)
    assert futures[2].result(30) == (batch[2], True)
    assert futures[3].result(30) == (batch[0], False)  # the record stored by the first of the two
    with pytest.raises(StorageError, match="is not stored"):
        futures[4].result(30)
    inserts = [one for one in statements if one.lstrip().upper().startswith("INSERT INTO DECISION_RECORDS")]
    assert len(inserts) == 1  # the four storable records went in as one statement
    assert len(commits) == 2
    assert store.count() == 4


def test_a_broken_writer_connection_fails_its_batch_and_the_next_batch_takes_a_fresh_one(tmp_path: Path) -> None:
    opened = open_store(f"sqlite:///{tmp_path / 'advisor.db'}")
    assert opened.save(record("rec_" + "0" * 32))[1] is True
    kept = opened._writer_connection  # the connection the writer keeps between batches on a SQLite file
    assert kept is not None
    kept.connection.driver_connection.close()  # type: ignore[union-attr]  # as if the database file were lost
    with pytest.raises(StorageError, match="cannot store decision record"):
        opened.save(record("rec_" + "1" * 32))
    assert opened.save(record("rec_" + "2" * 32))[1] is True
    assert opened._writer_connection is not kept
    assert opened.count() == 2
    opened.close()


def test_records_that_keep_coming_share_a_commit_per_interval_and_one_after_a_quiet_interval_commits_at_once(
    tmp_path: Path,
) -> None:
    opened = open_store(f"sqlite:///{tmp_path / 'advisor.db'}", commit_interval_s=2.0)
    commits: list[float] = []
    event.listen(opened.engine, "commit", lambda _: commits.append(time.monotonic()))
    opened.save(record("rec_" + "0" * 32))  # the first record: committed at once
    first = opened.submit(record("rec_" + "1" * 32))
    time.sleep(0.1)  # the writer has long been free: without an interval, this record would go alone
    rest = [opened.submit(record(f"rec_{i:032d}")) for i in range(2, 6)]
    assert all(future.result(30)[1] for future in [first, *rest])
    assert len(commits) == 2  # the five records submitted within the interval shared the second commit
    # The writer times the interval from the start of a batch's writes; the listener sees each commit at their end,
    # so the gap seen is the interval less the difference of the two batches' write times (milliseconds, but the
    # first batch may take longer). Without the interval the next commit would follow within milliseconds.
    assert commits[1] - commits[0] > 1.5
    time.sleep(2.1)  # quiet for a whole interval
    asked = time.monotonic()
    opened.save(record("rec_" + "6" * 32))
    assert time.monotonic() - asked < 1.0  # committed at once, not held for an interval
    assert len(commits) == 3
    opened.close()


def test_closing_the_store_finishes_the_writes_already_queued(tmp_path: Path) -> None:
    opened = open_store(f"sqlite:///{tmp_path / 'advisor.db'}")
    futures = [opened.submit(record(f"rec_{i:032d}")) for i in range(20)]
    opened.close()
    assert all(future.result(0)[1] for future in futures)
    with pytest.raises(StorageError, match="closed"):
        opened.submit(record("rec_late"))
    assert open_store(f"sqlite:///{tmp_path / 'advisor.db'}").count() == 20


def test_the_head_revision_the_store_checks_at_start_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from service.storage.sql import HEAD_REVISION

    config = Config()
    config.set_main_option("script_location", str(Path(sql.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_the_first_seal_fixes_the_answer_digest_and_a_later_one_cannot_change_it(
    store: SqlDecisionStore,  # noqa: F811
) -> None:
    store.register_version(CATALOGUE_V)
    store.register_version(RULES_V)
    decided = "sha256:" + "d" * 64
    store.save(small(answer_digest=None, decision_digest=decided))
    first, other = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    assert store.seal(small().id, first) == first
    assert store.seal(small().id, other) == first
    fetched = store.get(small().id)
    assert fetched is not None and fetched.answer_digest == first and fetched.decision_digest == decided
    assert store.seal("rec_" + "9" * 32, first) is None


def test_a_record_keeps_a_frozen_answer_once_and_is_no_longer_listed_unfrozen(
    store: SqlDecisionStore,  # noqa: F811
) -> None:
    store.register_version(CATALOGUE_V)
    store.register_version(RULES_V)
    ids = ["rec_" + str(n) * 32 for n in range(1, 4)]
    for record_id in ids:
        store.save(small(record_id))
    store.save(record("rec_" + "4" * 32))  # holds its answer: never unfrozen
    assert store.unfrozen() == ids
    assert store.unfrozen(ids[0], limit=1) == [ids[1]]
    assert store.freeze(ids[1], '{"id":"frozen"}') is True
    assert store.freeze(ids[1], '{"id":"again"}') is False
    assert store.unfrozen() == [ids[0], ids[2]]
    fetched = store.get(ids[1])
    assert fetched is not None and fetched.answer == '{"id":"frozen"}'


def test_a_registered_version_is_let_go_once_stored_and_read_back_from_the_database(
    store: SqlDecisionStore,  # noqa: F811
) -> None:
    store.register_version(CATALOGUE_V)
    store.register_version(RULES_V)
    assert store.get_version(RULES_V.digest) == RULES_V  # registered, not stored yet
    store.save(small())
    assert CATALOGUE_V.digest not in store._registered and RULES_V.digest not in store._registered
    assert store.get_version(CATALOGUE_V.digest) == CATALOGUE_V
    assert store.get_version(RULES_V.digest) == RULES_V
    store.register_version(CATALOGUE_V)  # registering a stored version again keeps nothing
    assert CATALOGUE_V.digest not in store._registered
    store.save(small("rec_" + "2" * 32))
