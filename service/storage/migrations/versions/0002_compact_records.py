"""Compact records and who made them: answers stored zlib-compressed, the creating API key's name kept.

Rows written before this revision keep their plain ``answer`` text and are read as before.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_records") as table:
        table.add_column(sa.Column("created_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("answer_zlib", sa.LargeBinary, nullable=True))
        table.alter_column("answer", existing_type=sa.Text, nullable=True)
