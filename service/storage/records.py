"""What a decision record is, and the small interface every storage backend implements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["DecisionRecord", "DecisionStore", "RecordSummary", "StorageError"]


class StorageError(Exception):
    """The decision records database could not be opened or used."""


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class DecisionRecord(RecordSummary):
    """A stored decision: the summary plus the normalised requirements and the answer, both as JSON text.

    ``answer`` is the exact JSON the API returned, so a re-fetch serves the same bytes.
    """

    requirements: str
    answer: str


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class DecisionStore(Protocol):
    """Where decision records live. Backends: SQLite (default) and PostgreSQL, through one SQL module."""

    def save(self, record: DecisionRecord) -> tuple[DecisionRecord, bool]:
        """Store ``record`` unless its id is already stored; return the stored record and whether it is new.

        Ids are content hashes, so an existing id holds the same decision: saving it again changes nothing.
        """
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

    def close(self) -> None:
        """Release connections."""
        ...
