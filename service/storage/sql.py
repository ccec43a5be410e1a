"""Decision records in SQL through SQLAlchemy Core: SQLite by default, PostgreSQL by URL, one code path.

SQLite files are created on first use (with their directory) and run in WAL mode, so readers never block
the writer and several processes can share one file. Times are stored as naive UTC, which both databases
order and compare the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from service.storage.records import DecisionRecord, RecordSummary, StorageError

__all__ = ["SqlDecisionStore", "open_store"]

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
    Column("answer", Text, nullable=False),
    Index("ix_decision_records_newest", "stored_at", "id"),
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
)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers and the writer do not block each other. FULL: a committed record survives a power cut,
    # which matters more for evidence than the write speed it costs. busy_timeout: wait for another
    # process's write instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _redacted(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("stored_at must be timezone-aware")
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


class SqlDecisionStore:
    """A :class:`~service.storage.records.DecisionStore` on any SQLAlchemy database URL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = _redacted(engine.url)
        try:
            metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot open the decision records database {self.url}: {exc}") from exc

    # ------------------------------------------------------------------------------------------ writes
    def save(self, record: DecisionRecord) -> tuple[DecisionRecord, bool]:
        """Store ``record`` unless its id exists; return the stored record and whether it is new."""
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
            "answer": record.answer,
        }
        try:
            with self.engine.begin() as conn:
                created = self._insert(conn, row)
                if created:
                    return record, True
                existing = self._get(conn, record.id)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store decision record {record.id}: {exc}") from exc
        if existing is None:  # pragma: no cover - a conflicting row vanished inside one transaction
            raise StorageError(f"decision record {record.id} conflicted but cannot be read")
        return existing, False

    def _insert(self, conn: Connection, row: dict[str, Any]) -> bool:
        # Both SQLite and PostgreSQL have INSERT ... ON CONFLICT DO NOTHING, so concurrent saves of one id
        # (two replicas answering the same request) cannot fail; other databases fall back to a savepoint.
        # RETURNING says whether a row went in (drivers differ on rowcount for this statement).
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects import sqlite

            lite = sqlite.insert(records).values(**row).on_conflict_do_nothing(index_elements=["id"])
            return conn.execute(lite.returning(records.c.id)).first() is not None
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            pg = postgresql.insert(records).values(**row).on_conflict_do_nothing(index_elements=["id"])
            return conn.execute(pg.returning(records.c.id)).first() is not None
        try:
            with conn.begin_nested():
                conn.execute(insert(records).values(**row))
        except IntegrityError:
            return False
        return True

    # ------------------------------------------------------------------------------------------- reads
    def get(self, record_id: str) -> DecisionRecord | None:
        """The record with this id, or None."""
        try:
            with self.engine.connect() as conn:
                return self._get(conn, record_id)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read decision record {record_id}: {exc}") from exc

    def _get(self, conn: Connection, record_id: str) -> DecisionRecord | None:
        row = conn.execute(
            select(*_SUMMARY, records.c.requirements, records.c.answer).where(records.c.id == record_id)
        ).first()
        if row is None:
            return None
        return DecisionRecord(**_summary_fields(row._mapping), requirements=row.requirements, answer=row.answer)

    def list_recent(self, limit: int, offset: int = 0) -> list[RecordSummary]:
        """Up to ``limit`` records, newest first (ties by id, descending), skipping ``offset``."""
        statement = (
            select(*_SUMMARY)
            .order_by(records.c.stored_at.desc(), records.c.id.desc())
            .limit(max(limit, 0))
            .offset(max(offset, 0))
        )
        try:
            with self.engine.connect() as conn:
                return [RecordSummary(**_summary_fields(row._mapping)) for row in conn.execute(statement)]
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot list decision records: {exc}") from exc

    def count(self) -> int:
        """How many records are stored."""
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(records)).scalar_one())
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot count decision records: {exc}") from exc

    def close(self) -> None:
        """Release pooled connections."""
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
    }


def open_store(database_url: str) -> SqlDecisionStore:
    """Open (creating on first use) the decision records database at ``database_url``.

    ``sqlite:///relative.db``, ``sqlite:////absolute/path.db`` and ``sqlite://`` (in memory, for tests) work
    out of the box; ``postgresql+psycopg://user@host/db`` works once a PostgreSQL driver is installed.
    """
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise StorageError(f"ADVISOR_DATABASE_URL is not a database URL: {exc}") from exc
    options: dict[str, Any] = {}
    is_sqlite = url.get_backend_name() == "sqlite"
    if is_sqlite:
        if url.database in (None, "", ":memory:"):
            # One shared connection, or every pooled connection would see its own empty database.
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the directory of {_redacted(url)}: {exc}") from exc
            # Handlers run in worker threads; each checks out its own connection, so sharing is safe.
            options.update(connect_args={"check_same_thread": False})
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"cannot use {_redacted(url)}: {exc}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return SqlDecisionStore(engine)
