"""Records fix their decision when it is made, and the whole answer's bytes when it is first served.

``decision_digest`` is the SHA-256 of what was decided (order, scores, rule verdicts, trade-offs), written with
the record; ``answer_digest`` may now stay null until the whole answer is first served (a ``summary`` response
does not build it), when it is sealed. Rows written before this revision keep their answer digest (or their
stored answer) and have no decision digest.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_records") as table:
        table.add_column(sa.Column("decision_digest", sa.String(100), nullable=True))
