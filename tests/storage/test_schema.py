"""A new database is made from the tables the store defines, without Alembic: the same schema as the migrations
make, at the same revision, and upgradable by a later migration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from service.storage import open_store, sql

MIGRATIONS = Path(sql.__file__).parent / "migrations"
TABLES = ("decision_records", "data_versions", "advisor_probe", "alembic_version")


def _urls(tmp_path: Path) -> list[tuple[str, str]]:
    """(a database made by the store, one made by the migrations): two SQLite files, or one PostgreSQL schema."""
    sqlite = (f"sqlite:///{tmp_path / 'created.db'}", f"sqlite:///{tmp_path / 'migrated.db'}")
    postgresql = os.environ.get("ADVISOR_TEST_POSTGRESQL_URL", "")
    return [sqlite] + ([(postgresql, postgresql)] if postgresql else [])


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def _upgrade(url: str, script_location: Path = MIGRATIONS) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    engine.dispose()


def _schema(url: str) -> dict[str, Any]:
    """Every table's columns (in order), keys and indexes, and the revision, as the database reports them."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = inspect(conn)
        tables = {
            name: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in found.get_columns(name)
                ],
                "primary_key": found.get_pk_constraint(name),
                "indexes": sorted(
                    (i["name"] or "", tuple(map(str, i["column_names"])), i["unique"]) for i in found.get_indexes(name)
                ),
                "unique": found.get_unique_constraints(name),
                "foreign_keys": found.get_foreign_keys(name),
            }
            for name in sorted(found.get_table_names())
            if name in TABLES
        }
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    return {"tables": tables, "revision": revision}


def test_a_new_database_has_the_schema_and_revision_the_migrations_make(tmp_path: Path) -> None:
    for created_url, migrated_url in _urls(tmp_path):
        _empty(created_url)
        open_store(created_url).close()
        created = _schema(created_url)
        _empty(migrated_url)
        _upgrade(migrated_url)
        migrated = _schema(migrated_url)
        assert created == migrated, created_url
        assert created["revision"] == [sql.HEAD_REVISION]
        assert set(created["tables"]) == set(TABLES)


def test_opening_a_new_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = (
        f"import sys; from service.storage import open_store; open_store({url!r}).close(); "
        "print('alembic' in sys.modules)"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "False"


LATER = '''"""A later revision (a test's)."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_records") as table:
        table.add_column(sa.Column("later", sa.String(10), nullable=True))
'''


def test_a_new_database_is_upgraded_by_a_later_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    open_store(url).close()
    later = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "versions" / "9999_later.py").write_text(LATER.format(head=sql.HEAD_REVISION))
    _upgrade(url, later)
    schema = _schema(url)
    assert schema["revision"] == ["9999"]
    assert "later" in [column[0] for column in schema["tables"]["decision_records"]["columns"]]


@pytest.mark.parametrize("revision", ["0003", "0004"])
def test_a_database_at_an_older_revision_is_still_upgraded_by_the_migrations(tmp_path: Path, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()
    open_store(url).close()
    _upgrade(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert _schema(url) == _schema(f"sqlite:///{tmp_path / 'migrated.db'}")
