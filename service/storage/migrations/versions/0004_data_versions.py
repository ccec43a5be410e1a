"""Small records: catalogue and rules versions stored once, records keep the digest of their answer.

``data_versions`` holds each catalogue or rules snapshot once, keyed by its digest (the ``catalogue_version``
or ``rules_version`` a record names). New records store ``answer_digest`` instead of the answer and are
rebuilt from their versions on demand. Rows written before this revision keep their stored answer (plain or
zlib-compressed) and are served from it as before.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("digest", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("decision_records") as table:
        table.add_column(sa.Column("answer_digest", sa.String(100), nullable=True))
