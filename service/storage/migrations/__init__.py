"""Alembic migrations of the decision-records schema, applied by :func:`service.storage.sql.open_store`."""
