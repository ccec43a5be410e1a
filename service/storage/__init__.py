"""Decision records: every answer stored as it was returned, with its requirements and versions.

The HTTP layer and the CLI use the :class:`DecisionStore` protocol only; :func:`open_store` picks the
backend from ``ADVISOR_DATABASE_URL`` (SQLite by default, PostgreSQL by URL). The domain never imports this.

Exception tree::

    StorageError            the database could not be opened, read or written (message names the redacted URL)
    └── StorageUnavailableError  it failed recently or did not answer in time; calls fail fast until retry_after_s
"""

from service.storage.guard import GuardedStore
from service.storage.records import DecisionRecord, DecisionStore, RecordSummary, StorageError, StorageUnavailableError
from service.storage.sql import SqlDecisionStore, open_store, redact_url

__all__ = [
    "DecisionRecord",
    "DecisionStore",
    "GuardedStore",
    "RecordSummary",
    "SqlDecisionStore",
    "StorageError",
    "StorageUnavailableError",
    "open_store",
    "redact_url",
]
