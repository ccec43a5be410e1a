"""The decision_records table as first shipped (created without Alembic by earlier versions: kept if present).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("decision_records"):
        return
    op.create_table(
        "decision_records",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("stored_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("evaluated_on", sa.Date, nullable=False),
        sa.Column("catalogue_version", sa.String(100), nullable=False),
        sa.Column("rules_version", sa.String(100), nullable=False),
        sa.Column("profile", sa.String(100), nullable=False),
        sa.Column("top_models", sa.Text, nullable=False),
        sa.Column("rerun_of", sa.String(64), nullable=True),
        sa.Column("requirements", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
    )
    op.create_index("ix_decision_records_newest", "decision_records", ["stored_at", "id"])
