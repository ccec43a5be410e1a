"""Decision records: every decision recorded by its requirements, data versions, date and digests.

The HTTP layer and the CLI use the :class:`DecisionStore` protocol and :class:`DecisionArchive` (which makes
records of answers and rebuilds a record's answer, verified by digest); :func:`open_store` picks the backend
from ``ADVISOR_DATABASE_URL`` (SQLite by default, PostgreSQL by URL). The domain never imports this.

Exception tree::

    StorageError            the database could not be opened, read or written (message names the redacted URL)
    └── StorageUnavailableError  it failed recently or did not answer in time; calls fail fast until retry_after_s
    RebuildError            a stored decision cannot be rebuilt (a version is missing or no longer loads)
    ├── DecisionMismatchError  the rebuilt decision's digest differs from the stored one (both are named)
    └── AnswerMismatchError  the rebuilt answer's digest differs from the stored one (both are named)
"""

from service.storage.archive import (
    AnswerMismatchError,
    DecisionArchive,
    DecisionMismatchError,
    RebuildError,
    answer_digest,
    encode_answer,
)
from service.storage.guard import GuardedStore
from service.storage.records import DecisionRecord, DecisionStore, RecordSummary, StorageError, StorageUnavailableError
from service.storage.sql import SqlDecisionStore, is_in_memory, open_store, redact_url
from service.storage.versions import DataVersion

__all__ = [
    "AnswerMismatchError",
    "DataVersion",
    "DecisionArchive",
    "DecisionMismatchError",
    "DecisionRecord",
    "DecisionStore",
    "GuardedStore",
    "RebuildError",
    "RecordSummary",
    "SqlDecisionStore",
    "StorageError",
    "StorageUnavailableError",
    "answer_digest",
    "encode_answer",
    "is_in_memory",
    "open_store",
    "redact_url",
]
