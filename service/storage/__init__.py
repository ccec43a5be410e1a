"""Decision records: every answer stored as it was returned, with its requirements and versions.

The HTTP layer and the CLI use the :class:`DecisionStore` protocol only; :func:`open_store` picks the
backend from ``ADVISOR_DATABASE_URL`` (SQLite by default, PostgreSQL by URL). The domain never imports this.

Exception tree::

    StorageError    the database could not be opened, read or written (message names the redacted URL)
"""

from service.storage.records import DecisionRecord, DecisionStore, RecordSummary, StorageError
from service.storage.sql import SqlDecisionStore, open_store

__all__ = ["DecisionRecord", "DecisionStore", "RecordSummary", "SqlDecisionStore", "StorageError", "open_store"]
