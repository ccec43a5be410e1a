"""What a decision record is, and the small interface every storage backend implements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from service.storage.versions import DataVersion

__all__ = ["DecisionRecord", "DecisionStore", "RecordSummary", "StorageError", "StorageUnavailableError"]


class StorageError(Exception):
    """The decision records database could not be opened or used."""


class StorageUnavailableError(StorageError):
    """The database failed recently or did not answer in time: calls fail fast until ``retry_after_s`` passes."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, kw_only=True)
class RecordSummary:
    """The cheap columns of a record: enough to list records without reading their answers."""

    id: str
    stored_at: dt.datetime  # UTC, timezone-aware
    evaluated_on: dt.date
    catalogue_version: str
    rules_version: str
    profile: str
    top_models: tuple[str, ...]  # the recommended model ids, best first
    rerun_of: str | None  # the record this one re-ran on a newer catalogue, if any
    created_by: str | None = None  # the API key name that created it (None when no keys are configured)


@dataclass(frozen=True, kw_only=True)
class DecisionRecord(RecordSummary):
    """A stored decision: the summary, the normalised requirements (JSON text) and what identifies the answer.

    A record stores ``decision_digest``, the SHA-256 of what was decided (order, scores, verdicts, trade-offs:
    :meth:`~service.domain.engine.Decision.digest`), when it is decided, and ``answer_digest``, the SHA-256 of
    the exact bytes of the whole answer, from the moment that answer is first served (at once when the response
    was that answer, else when it is first fetched: it is then sealed). The answer itself is rebuilt from the
    requirements, the stored catalogue and rules versions and ``evaluated_on``
    (:class:`~service.storage.archive.DecisionArchive`) and checked against both digests. ``answer`` holds the
    answer text only for records stored before versions were kept (or whose data could not be archived).
    """

    requirements: str
    answer_digest: str | None = None
    answer: str | None = None
    decision_digest: str | None = None


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class DecisionStore(Protocol):
    """Where decision records live. Backends: SQLite (default) and PostgreSQL, through one SQL module."""

    def save(self, record: DecisionRecord) -> tuple[DecisionRecord, bool]:
        """Store ``record`` unless its id is already stored; return the stored record and whether it is new.

        Ids are content hashes, so an existing id holds the same decision: saving it again changes nothing.
        Returns only once the record is committed (durable); concurrent saves share one commit. A record with
        an ``answer_digest`` needs its catalogue and rules versions stored or registered with
        :meth:`register_version`; they are written in the same transaction as the first record naming them.
        """
        ...

    def seal(self, record_id: str, answer_digest: str) -> str | None:
        """Fix the record's answer digest if it has none yet; return the digest it holds now (None: no record).

        The first answer served for a record fixes its bytes: a concurrent or later seal with another digest
        leaves the first one in place (the caller compares what is returned with what it would serve).
        """
        ...

    def unfrozen(self, after: str = "", limit: int = 500) -> list[str]:
        """Up to ``limit`` ids, ascending and greater than ``after``, of records that hold no answer text."""
        ...

    def freeze(self, record_id: str, text: str) -> bool:
        """Keep ``text`` (the record's whole answer, already checked) in the record unless it holds an answer;
        True when it was stored. A record that holds its answer is served from it, whatever the engine."""
        ...

    def register_version(self, version: DataVersion) -> None:
        """Make a data version known, to be stored (once) with the first record that names it. No I/O."""
        ...

    def get_version(self, digest: str) -> DataVersion | None:
        """The stored (or registered) data version with this digest, or None."""
        ...

    def get(self, record_id: str) -> DecisionRecord | None:
        """The record with this id, or None."""
        ...

    def list_recent(self, limit: int, offset: int = 0) -> list[RecordSummary]:
        """Up to ``limit`` records, newest first (ties by id, descending), skipping ``offset``."""
        ...

    def count(self) -> int:
        """How many records are stored."""
        ...

    def delete(self, record_id: str) -> bool:
        """Delete one record; True when it existed."""
        ...

    def prune(self, *, older_than: dt.datetime | None = None, keep_newest: int | None = None) -> int:
        """Delete records stored before ``older_than`` and beyond the ``keep_newest`` newest; return how many."""
        ...

    def check_writable(self) -> None:
        """Raise :class:`StorageError` unless a write can be committed now (used by readiness)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
