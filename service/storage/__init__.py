"""Decision records: storage behind a small interface (SQLite by default)."""
