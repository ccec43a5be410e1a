"""Decision records in SQL through SQLAlchemy Core: SQLite by default, PostgreSQL by URL, one code path.

SQLite files are created on first use (with their directory) and run in WAL mode, so readers never block
the writer and several processes can share one file. Times are stored as naive UTC, which both databases
order and compare the same way. The schema is made when a store is opened: a new database from the tables
defined here, stamped with the newest Alembic revision (Alembic's own recipe for a new database), and an
existing one upgraded by the Alembic migrations, imported only then.

A record holds its requirements, the digests of its catalogue and rules versions and of its answer; each
version's files are stored once in ``data_versions``. Records written before versions were kept hold their
answer (zlib-compressed, or plain in the oldest rows) and are read as before.

Writes go through one writer thread per store (group commit): every record waiting when the writer is free
goes into one transaction as one multi-row insert (on SQLite written straight through the driver, on PostgreSQL
one statement built once), and each waiting ``save`` returns only after that transaction has committed. So a
caller that got an answer has a durable record (SQLite ``synchronous=FULL``; PostgreSQL's default
``synchronous_commit``), and concurrent requests share one commit instead of queueing for the write lock.
Error messages never carry SQL parameters (the requirements of callers) or passwords.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert
from sqlalchemy.util import asbool

from service.storage.records import DecisionRecord, RecordSummary, StorageError
from service.storage.versions import DataVersion, VersionKind

__all__ = ["SqlDecisionStore", "is_in_memory", "migrate", "open_store", "redact_url"]

metadata = MetaData()

records = Table(
    "decision_records",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("stored_at", DateTime(timezone=False), nullable=False),
    Column("evaluated_on", Date, nullable=False),
    Column("catalogue_version", String(100), nullable=False),
    Column("rules_version", String(100), nullable=False),
    Column("profile", String(100), nullable=False),
    Column("top_models", Text, nullable=False),
    Column("rerun_of", String(64), nullable=True),
    Column("requirements", Text, nullable=False),
    Column("answer", Text, nullable=True),  # rows written before answers were compressed
    # In the order the migrations add them, so that a new database has the columns of an upgraded one.
    Column("created_by", String(64), nullable=True),
    Column("answer_zlib", LargeBinary, nullable=True),
    Column("answer_digest", String(100), nullable=True),  # null until the whole answer is first served
    Column("decision_digest", String(100), nullable=True),  # null in rows written before revision 0005
    Index("ix_decision_records_newest", "stored_at", "id"),
)

versions = Table(
    "data_versions",
    metadata,
    Column("digest", String(100), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("stored_at", DateTime(timezone=False), nullable=False),
    Column("files", Integer, nullable=False),
    Column("size", Integer, nullable=False),  # the files' total size, uncompressed
    Column("content", LargeBinary, nullable=False),  # DataVersion.pack()
)

probe = Table(
    "advisor_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("checked_at", DateTime(timezone=False), nullable=False),
)

_SUMMARY = (
    records.c.id,
    records.c.stored_at,
    records.c.evaluated_on,
    records.c.catalogue_version,
    records.c.rules_version,
    records.c.profile,
    records.c.top_models,
    records.c.rerun_of,
    records.c.created_by,
)


@dataclass
class _Pending:
    """A record waiting for the writer, and where its caller waits for the outcome."""

    record: DecisionRecord
    row: dict[str, Any]
    future: Future[tuple[DecisionRecord, bool]] = field(default_factory=Future)


#: While records keep coming, group commits start at most this often: a record submitted sooner after the last
#: commit started waits for the rest of the interval with every record submitted meanwhile, and they share one
#: transaction and one flush to disk (whose CPU cost, ~0.3-0.5 ms, is most of a small commit's). A record that
#: comes after a quiet interval is committed at once. Each caller still waits for its own record's commit.
COMMIT_INTERVAL_S = 0.01

#: How long a new connection keeps asking for WAL mode while another process holds the database's lock.
WAL_SWITCH_WAIT_S = 10.0


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout: wait for another process's write instead of failing at once. WAL: readers and the writer
    # do not block each other. FULL: a committed record survives a power cut, which matters more for evidence
    # than the write speed it costs.
    cursor.execute("PRAGMA busy_timeout=5000")
    # Switching a new database to WAL needs its lock for a moment and does not wait through busy_timeout: when
    # several processes open a new database at once, the ones that lose ask again until the switch is made.
    waited = 0.0
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or waited >= WAL_SWITCH_WAIT_S:
                raise
            time.sleep(0.05)
            waited += 0.05
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


_SECRET_PARAMETERS = re.compile(r"pass|secret|token|key", re.IGNORECASE)


def redact_url(url: URL | str) -> str:
    """A database URL safe to log: the password and any secret-looking query parameter replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "<unparseable database URL>"
    query = {key: ("***" if _SECRET_PARAMETERS.search(key) else value) for key, value in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True)


_redacted = redact_url


def _redact_text(message: str) -> str:
    """Mask ``password=...`` style fragments in a driver's message (some drivers echo the connection string)."""
    return re.sub(r"(?i)((?:pass(?:word)?|secret|token|key)\s*=\s*)('[^']*'|\S+)", r"\1***", message)


def _reason(exc: Exception) -> str:
    """The driver's own message without SQL text or parameters (``hide_parameters`` drops the latter)."""
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    return _redact_text(f"{type(original).__name__}: {first_line}")


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("stored_at must be timezone-aware")
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _insert_new(table: Table, dialect: str) -> Insert | None:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key`` into ``table`` for ``dialect`` (SQLite and
    PostgreSQL have it; None for other databases). Built once per store: building and keying a statement with
    its values costs far more than executing a cached one with parameters."""
    key = next(iter(table.primary_key.columns))
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key.name]).returning(key)
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key.name]).returning(key)
    return None


class _SqliteInsertNew:
    """``INSERT ... VALUES (...), (...) ON CONFLICT (key) DO NOTHING RETURNING key`` of a whole batch into a
    SQLite table, straight through the driver: one call into SQLite per batch, and the values converted by the
    columns' own SQLAlchemy types (dates and times stored exactly as SQLAlchemy stores and reads them).

    The writer thread shares the interpreter with the event loop: every call into SQLite lets the loop's thread
    take the interpreter lock and hand it back, and each hand-over costs both threads; SQLAlchemy's execution
    path (events, contexts, result objects) adds thousands of bytecodes per statement besides.
    """

    #: Rows per statement: SQLite allows 32,766 parameters in one statement from version 3.32.
    ROWS = 500

    def __init__(self, table: Table, dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        columns = list(table.columns)
        key = quote(next(iter(table.primary_key.columns)).name)
        self._names = [column.name for column in columns]
        self._convert = [
            (index, process)
            for index, column in enumerate(columns)
            if (process := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        self._head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in self._names)}) VALUES "
        self._row = "(" + ", ".join("?" * len(columns)) + ")"
        self._tail = f" ON CONFLICT ({key}) DO NOTHING RETURNING {key}"

    def __call__(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """Insert ``rows`` (on ``conn``, in its transaction) unless their key is stored; return the keys inserted."""
        inserted: set[str] = set()
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), self.ROWS):
                chunk = rows[start : start + self.ROWS]
                parameters: list[Any] = []
                for row in chunk:
                    values = [row[name] for name in self._names]
                    for index, process in self._convert:
                        values[index] = process(values[index])
                    parameters += values
                statement = self._head + ", ".join([self._row] * len(chunk)) + self._tail
                inserted.update(key for (key,) in cursor.execute(statement, parameters))
        finally:
            cursor.close()
        return inserted


class SqlDecisionStore:
    """A :class:`~service.storage.records.DecisionStore` on any SQLAlchemy database URL."""

    def __init__(self, engine: Engine, *, commit_interval_s: float = COMMIT_INTERVAL_S) -> None:
        self.engine = engine
        self.url = redact_url(engine.url)
        # An in-memory SQLite database is one shared connection (StaticPool): every use of it, from the
        # writer thread or a reader, holds this lock for the whole transaction, so calls take turns.
        self._turns: AbstractContextManager[Any] = (
            threading.Lock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )
        self._queue: list[_Pending] = []
        self._wake = threading.Condition()
        self._commit_interval_s = commit_interval_s
        self._listening = False  # the writer is waiting for a first record (submit wakes it)
        self._writer: threading.Thread | None = None
        self._closing = False
        # Versions registered and not stored yet, with their stored form being compressed off the request path;
        # both are let go once the version is stored (it is then read back from the database when needed).
        self._registered: dict[str, DataVersion] = {}
        self._packing: dict[str, Future[bytes]] = {}
        self._packer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="versions-pack")
        self._stored_versions: set[str] = set()
        self._insert_new = _insert_new(records, engine.dialect.name)
        self._insert_sqlite = _SqliteInsertNew(records, engine.dialect) if engine.dialect.name == "sqlite" else None
        # Used by the writer thread only (and by close() once the writer has stopped).
        self._keep_writer_connection = engine.dialect.name == "sqlite" and not isinstance(engine.pool, StaticPool)
        self._writer_connection: Connection | None = None
        try:
            migrate(engine)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot open the decision records database {self.url}: {_reason(exc)}") from exc

    # ------------------------------------------------------------------------------------------ writes
    def save(self, record: DecisionRecord) -> tuple[DecisionRecord, bool]:
        """Store ``record`` unless its id exists; return the stored record and whether it is new.

        Returns once the transaction holding the record has committed (see the module docstring).
        """
        return self.submit(record).result()

    def submit(self, record: DecisionRecord) -> Future[tuple[DecisionRecord, bool]]:
        """Queue ``record`` for the next group commit; the future completes once it is committed (or failed)."""
        row = {
            "id": record.id,
            "stored_at": _utc_naive(record.stored_at),
            "evaluated_on": record.evaluated_on,
            "catalogue_version": record.catalogue_version,
            "rules_version": record.rules_version,
            "profile": record.profile,
            "top_models": json.dumps(list(record.top_models)),
            "rerun_of": record.rerun_of,
            "requirements": record.requirements,
            "answer": None,
            # Level 6 (zlib's default): within 2 % of level 9's size here, at three quarters of its time.
            "answer_zlib": zlib.compress(record.answer.encode(), 6) if record.answer is not None else None,
            "answer_digest": record.answer_digest,
            "decision_digest": record.decision_digest,
            "created_by": record.created_by,
        }
        if record.answer is None and record.answer_digest is None and record.decision_digest is None:
            raise ValueError("a decision record needs its decision digest (or, for a legacy record, its answer)")
        pending = _Pending(record, row)
        with self._wake:
            if self._closing:
                raise StorageError(f"cannot store decision record {record.id}: the store is closed")
            self._queue.append(pending)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="records-writer", daemon=True)
                self._writer.start()
            if self._listening:
                self._wake.notify()
        return pending.future

    def _write_loop(self) -> None:
        started = -float("inf")  # when the last group commit started
        while True:
            with self._wake:
                self._listening = True
                while not self._queue and not self._closing:
                    self._wake.wait()
                # Records keep coming: the rest of the interval since the last commit started collects more of them
                # (submit does not wake the writer meanwhile; closing does).
                self._listening = False
                while not self._closing:
                    remaining = started + self._commit_interval_s - time.monotonic()
                    if remaining <= 0:
                        break
                    self._wake.wait(remaining)
                if not self._queue:  # closing, and nothing left to write
                    return
                batch, self._queue = self._queue, []
            started = time.monotonic()
            self._write(batch)

    def _write(self, batch: list[_Pending]) -> None:
        """One transaction for the whole batch; each caller learns its outcome only after the commit."""
        outcomes: list[tuple[_Pending, tuple[DecisionRecord, bool] | BaseException]] = []
        try:
            with self._turns, self._writer_transaction() as conn:
                named, missing = self._store_versions(conn, batch)
                storable: list[_Pending] = []
                for pending in batch:
                    record = pending.record
                    absent = [v for v in (record.catalogue_version, record.rules_version) if v in missing]
                    if record.answer is None and absent:
                        problem = f"cannot store decision record {record.id}: data version {absent[0]} is not stored"
                        outcomes.append((pending, StorageError(problem)))
                    else:
                        storable.append(pending)
                inserted = self._insert_records(conn, [pending.row for pending in storable])
                for pending in storable:
                    record = pending.record
                    if record.id in inserted:
                        inserted.discard(record.id)  # a second request for the same id in this batch finds it stored
                        outcomes.append((pending, (record, True)))
                        continue
                    existing = self._get(conn, record.id)
                    if existing is None:  # pragma: no cover - a conflicting row vanished inside one transaction
                        outcomes.append(
                            (pending, StorageError(f"decision record {record.id} conflicted but cannot be read"))
                        )
                    else:
                        outcomes.append((pending, (existing, False)))
        except (SQLAlchemyError, sqlite3.Error) as exc:  # the latter from SQLite's driver, called directly
            for pending in batch:
                pending.future.set_exception(
                    StorageError(f"cannot store decision record {pending.record.id}: {_reason(exc)}")
                )
            return
        except BaseException as exc:  # a waiting caller must learn of any failure, whatever it is
            for pending in batch:
                pending.future.set_exception(exc)
            return
        with self._wake:
            self._stored_versions |= named - missing
            for digest in named - missing:
                self._registered.pop(digest, None)
                self._packing.pop(digest, None)
        for pending, outcome in outcomes:
            if isinstance(outcome, BaseException):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)

    @contextmanager
    def _writer_transaction(self) -> Iterator[Connection]:
        """A transaction for the writer thread: on a SQLite file, on a connection the writer keeps (taking one from
        the pool and handing it back costs as much as a small insert); elsewhere on a pooled connection, which
        PostgreSQL pings when it is taken (a server restarted since then is reconnected to, not failed on)."""
        if not self._keep_writer_connection:
            with self.engine.begin() as conn:
                yield conn
            return
        if self._writer_connection is None:
            self._writer_connection = self.engine.connect()
        conn = self._writer_connection
        try:
            with conn.begin():
                yield conn
        except BaseException:
            # A connection whose transaction failed is not reused: the next batch takes a fresh one.
            self._writer_connection = None
            conn.close()
            raise

    def _store_versions(self, conn: Connection, batch: list[_Pending]) -> tuple[set[str], set[str]]:
        """Insert the registered versions the batch names that are not stored yet; return (named, absent)."""
        named = {
            v
            for p in batch
            if p.record.answer is None  # a record that holds its answer needs no version to be read
            for v in (p.record.catalogue_version, p.record.rules_version)
        } - self._stored_versions
        if not named:
            return named, set()
        # Versions registered here are inserted (a concurrent writer may have done so: no conflict then); only
        # a version this process does not hold is looked up. Versions are never deleted, so "known" stays true.
        unregistered = {digest for digest in named if digest not in self._registered}
        missing: set[str] = set()
        if unregistered:
            statement = select(versions.c.digest).where(versions.c.digest.in_(unregistered))
            missing = unregistered - {row.digest for row in conn.execute(statement)}
        for digest in sorted(named - unregistered):
            with self._wake:
                version, packing = self._registered[digest], self._packing.get(digest)
            row = {
                "digest": digest,
                "kind": version.kind,
                "stored_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "files": len(version.files),
                "size": version.size,
                "content": packing.result() if packing is not None else version.pack(),
            }
            self._insert(conn, versions, row)
        return named, missing

    def seal(self, record_id: str, answer_digest: str) -> str | None:
        """Set the record's answer digest unless it has one; return the one it holds (None: no such record)."""
        try:
            with self._turns, self.engine.begin() as conn:
                conn.execute(
                    records.update()
                    .where(records.c.id == record_id, records.c.answer_digest.is_(None))
                    .values(answer_digest=answer_digest)
                )
                row = conn.execute(select(records.c.answer_digest).where(records.c.id == record_id)).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot seal decision record {record_id}: {_reason(exc)}") from exc
        return None if row is None else row.answer_digest

    def unfrozen(self, after: str = "", limit: int = 500) -> list[str]:
        """Up to ``limit`` ids, ascending and greater than ``after``, of records that hold no answer text."""
        statement = (
            select(records.c.id)
            .where(records.c.id > after, records.c.answer.is_(None), records.c.answer_zlib.is_(None))
            .order_by(records.c.id)
            .limit(limit)
        )
        try:
            with self._turns, self.engine.connect() as conn:
                return [row.id for row in conn.execute(statement)]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot list decision records: {_reason(exc)}") from exc

    def freeze(self, record_id: str, text: str) -> bool:
        """Keep ``text`` compressed in the record unless it holds an answer; True when stored."""
        try:
            with self._turns, self.engine.begin() as conn:
                stored = conn.execute(
                    records.update()
                    .where(records.c.id == record_id, records.c.answer.is_(None), records.c.answer_zlib.is_(None))
                    .values(answer_zlib=zlib.compress(text.encode(), 6))
                )
                return stored.rowcount > 0
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot keep the answer of decision record {record_id}: {_reason(exc)}") from exc

    def register_version(self, version: DataVersion) -> None:
        """Keep ``version`` to be stored with the first record that names it (no I/O here).

        Its stored form is compressed at once on a background thread, so the first record naming it waits at
        most for what is left of that; once stored, the version is let go (it is read back from the database).
        """
        with self._wake:
            if version.digest in self._stored_versions or version.digest in self._registered:
                return
            self._registered[version.digest] = version
            self._packing[version.digest] = self._packer.submit(version.pack)

    def get_version(self, digest: str) -> DataVersion | None:
        """The data version with this digest: registered in this process, else read from the database."""
        registered = self._registered.get(digest)
        if registered is not None:
            return registered
        try:
            with self._turns, self.engine.connect() as conn:
                row = conn.execute(
                    select(versions.c.kind, versions.c.content).where(versions.c.digest == digest)
                ).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read data version {digest}: {_reason(exc)}") from exc
        if row is None:
            return None
        try:
            return DataVersion.unpack(cast(VersionKind, row.kind), digest, row.content)
        except ValueError as exc:
            raise StorageError(str(exc)) from exc

    def _insert_records(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """Insert the record ``rows`` whose ids are not stored yet; return the ids inserted.

        One multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` for the whole batch: on SQLite through the
        driver (:class:`_SqliteInsertNew`), on PostgreSQL a statement built once. Other databases: row by row.
        """
        if not rows:
            return set()
        if self._insert_sqlite is not None:
            return self._insert_sqlite(conn, rows)
        if self._insert_new is None:
            return {row["id"] for row in rows if self._insert(conn, records, row)}
        return {row.id for row in conn.execute(self._insert_new, rows)}

    def _insert(self, conn: Connection, table: Table, row: dict[str, Any]) -> bool:
        # Both SQLite and PostgreSQL have INSERT ... ON CONFLICT DO NOTHING, so concurrent saves of one id
        # (two replicas answering the same request) cannot fail; other databases fall back to a savepoint.
        # RETURNING says whether a row went in (drivers differ on rowcount for this statement).
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects import sqlite

            key = next(iter(table.primary_key.columns))
            lite = sqlite.insert(table).values(**row).on_conflict_do_nothing(index_elements=[key.name])
            return conn.execute(lite.returning(key)).first() is not None
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            key = next(iter(table.primary_key.columns))
            pg = postgresql.insert(table).values(**row).on_conflict_do_nothing(index_elements=[key.name])
            return conn.execute(pg.returning(key)).first() is not None
        try:
            with conn.begin_nested():
                conn.execute(insert(table).values(**row))
        except IntegrityError:
            return False
        return True

    # ------------------------------------------------------------------------------------------- reads
    def get(self, record_id: str) -> DecisionRecord | None:
        """The record with this id, or None."""
        try:
            with self._turns, self.engine.connect() as conn:
                return self._get(conn, record_id)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read decision record {record_id}: {_reason(exc)}") from exc

    def _get(self, conn: Connection, record_id: str) -> DecisionRecord | None:
        row = conn.execute(
            select(
                *_SUMMARY,
                records.c.requirements,
                records.c.answer,
                records.c.answer_zlib,
                records.c.answer_digest,
                records.c.decision_digest,
            ).where(records.c.id == record_id)
        ).first()
        if row is None:
            return None
        answer = zlib.decompress(row.answer_zlib).decode() if row.answer_zlib is not None else row.answer
        return DecisionRecord(
            **_summary_fields(row._mapping),
            requirements=row.requirements,
            answer_digest=row.answer_digest,
            answer=answer,
            decision_digest=row.decision_digest,
        )

    def list_recent(self, limit: int, offset: int = 0) -> list[RecordSummary]:
        """Up to ``limit`` records, newest first (ties by id, descending), skipping ``offset``."""
        statement = (
            select(*_SUMMARY)
            .order_by(records.c.stored_at.desc(), records.c.id.desc())
            .limit(max(limit, 0))
            .offset(max(offset, 0))
        )
        try:
            with self._turns, self.engine.connect() as conn:
                return [RecordSummary(**_summary_fields(row._mapping)) for row in conn.execute(statement)]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot list decision records: {_reason(exc)}") from exc

    def count(self) -> int:
        """How many records are stored."""
        try:
            with self._turns, self.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(records)).scalar_one())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot count decision records: {_reason(exc)}") from exc

    def delete(self, record_id: str) -> bool:
        """Delete one record; True when it existed."""
        try:
            with self._turns, self.engine.begin() as conn:
                return conn.execute(delete(records).where(records.c.id == record_id)).rowcount > 0
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot delete decision record {record_id}: {_reason(exc)}") from exc

    def prune(self, *, older_than: dt.datetime | None = None, keep_newest: int | None = None) -> int:
        """Delete records stored before ``older_than`` and beyond the ``keep_newest`` newest; return how many."""
        removed = 0
        try:
            with self._turns, self.engine.begin() as conn:
                if older_than is not None:
                    statement = delete(records).where(records.c.stored_at < _utc_naive(older_than))
                    removed += conn.execute(statement).rowcount
                if keep_newest is not None:
                    newest = (
                        select(records.c.id)
                        .order_by(records.c.stored_at.desc(), records.c.id.desc())
                        .limit(max(keep_newest, 0))
                    )
                    kept = {row.id for row in conn.execute(newest)}
                    doomed = [row.id for row in conn.execute(select(records.c.id)) if row.id not in kept]
                    for start in range(0, len(doomed), 500):
                        chunk = doomed[start : start + 500]
                        removed += conn.execute(delete(records).where(records.c.id.in_(chunk))).rowcount
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot prune decision records: {_reason(exc)}") from exc
        return removed

    def check_writable(self) -> None:
        """Commit a write to the one-row probe table; raise :class:`StorageError` when that cannot be done."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        try:
            with self._turns, self.engine.begin() as conn:
                if conn.execute(probe.update().where(probe.c.id == 1).values(checked_at=now)).rowcount == 0:
                    conn.execute(insert(probe).values(id=1, checked_at=now))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot write to the decision records database: {_reason(exc)}") from exc

    def close(self) -> None:
        """Finish the writes already queued (their callers are waiting), then release pooled connections."""
        with self._wake:
            self._closing = True
            writer = self._writer
            self._wake.notify_all()
        if writer is not None:
            writer.join()
        self._packer.shutdown(wait=False, cancel_futures=True)
        if self._writer_connection is not None:
            self._writer_connection.close()
            self._writer_connection = None
        with self._turns:  # an in-memory database's one connection may be in use by a reader until then
            self.engine.dispose()


def _summary_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "stored_at": row["stored_at"].replace(tzinfo=dt.UTC),
        "evaluated_on": row["evaluated_on"],
        "catalogue_version": row["catalogue_version"],
        "rules_version": row["rules_version"],
        "profile": row["profile"],
        "top_models": tuple(json.loads(row["top_models"])),
        "rerun_of": row["rerun_of"],
        "created_by": row["created_by"],
    }


#: The newest migration's revision (a test checks it against the migrations directory).
HEAD_REVISION = "0005"


def _at_head(conn: Connection) -> bool:
    """Whether the schema is already at :data:`HEAD_REVISION` (then Alembic, slow to import, is not needed)."""
    if not inspect(conn).has_table("alembic_version"):
        return False
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]


#: Alembic's table of the schema's revision, as Alembic makes it (written here for a new database).
alembic_version = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _is_new(conn: Connection) -> bool:
    """Whether the database holds none of the service's tables, nor Alembic's."""
    return not {*metadata.tables, alembic_version.name} & set(inspect(conn).get_table_names())


def _create(conn: Connection) -> None:
    """Make a new database's schema at :data:`HEAD_REVISION` without Alembic: the tables defined here (the
    schema the migrations make, a test holds it), then the revision, as Alembic's ``stamp`` writes it."""
    metadata.create_all(conn)
    # The revision last: SQLite commits each table at once, so a process that opens the database meanwhile sees
    # tables without a revision, fails to upgrade them and tries again (see migrate), by when this one is done.
    alembic_version.create(conn)
    conn.execute(insert(alembic_version).values(version_num=HEAD_REVISION))


def _upgrade(conn: Connection) -> None:
    """Upgrade an existing database to the newest revision with the Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision (a database made before Alembic is kept).

    A new database is created at once from the tables defined here; Alembic (slow to import, and 10 MB of a
    server's memory) runs only for a database at an older revision.
    """
    with engine.connect() as conn:
        if _at_head(conn):
            return
    # Several processes may start at once on one database (workers, replicas). PostgreSQL: an advisory lock
    # makes them migrate one after another. SQLite has no such lock: a process that loses the race sees the
    # winner's tables, fails, and tries again, by when the winner has committed (each revision checks first).
    attempts = 1 if engine.dialect.name == "postgresql" else 5
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7240117)")
                if _is_new(conn):
                    _create(conn)
                elif not _at_head(conn):  # another process may have upgraded it meanwhile
                    _upgrade(conn)
            return
        except SQLAlchemyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def is_in_memory(database_url: str) -> bool:
    """Whether ``database_url`` is an in-memory SQLite database (private to one process)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return False
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_file(url: URL) -> Path:
    """The file a SQLite URL's database names: its path, or, with ``uri=true``, the path of its ``file:`` URI
    (``sqlite:///file:/data/advisor.db?mode=ro&uri=true`` names /data/advisor.db, not a folder called ``file:``)."""
    database = url.database or ""
    if asbool(url.query.get("uri", False)) and database.startswith("file:"):
        return Path(urllib.parse.unquote(urllib.parse.urlsplit(database).path))
    return Path(database)


def open_store(
    database_url: str,
    *,
    connect_timeout_s: float = 3.0,
    statement_timeout_s: float = 5.0,
    commit_interval_s: float = COMMIT_INTERVAL_S,
) -> SqlDecisionStore:
    """Open (creating or migrating on first use) the decision records database at ``database_url``.

    ``sqlite:///relative.db``, ``sqlite:////absolute/path.db`` and ``sqlite://`` (in memory, for tests) work
    out of the box; ``postgresql+psycopg://user@host/db`` works once a PostgreSQL driver is installed.
    Connecting gives up after ``connect_timeout_s`` and a PostgreSQL statement after ``statement_timeout_s``;
    SQLite waits at most ``statement_timeout_s`` for another writer's lock. While records keep coming, group
    commits start at most every ``commit_interval_s`` (see :data:`COMMIT_INTERVAL_S`).
    """
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise StorageError(f"ADVISOR_DATABASE_URL is not a database URL: {exc}") from exc
    # hide_parameters: a failed statement's message must not carry the requirements or answer it wrote.
    options: dict[str, Any] = {"hide_parameters": True, "pool_pre_ping": True}
    is_sqlite = url.get_backend_name() == "sqlite"
    if url.get_backend_name() == "postgresql":
        options.update(
            pool_timeout=connect_timeout_s,
            connect_args={
                "connect_timeout": max(1, round(connect_timeout_s)),
                "options": f"-c statement_timeout={round(statement_timeout_s * 1000)}",
                # Notice a server that stopped answering on an open connection.
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 2,
            },
        )
    if is_sqlite:
        options.pop("pool_pre_ping")
        if url.database in (None, "", ":memory:"):  # as is_in_memory() says
            # One shared connection, or every pooled connection would see its own empty database.
            options.update(
                poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": statement_timeout_s}
            )
        else:
            try:
                _sqlite_file(url).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the directory of {_redacted(url)}: {exc}") from exc
            # Handlers run in worker threads; each checks out its own connection, so sharing is safe.
            options.update(connect_args={"check_same_thread": False, "timeout": statement_timeout_s})
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"cannot use {_redacted(url)}: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return SqlDecisionStore(engine, commit_interval_s=commit_interval_s)
