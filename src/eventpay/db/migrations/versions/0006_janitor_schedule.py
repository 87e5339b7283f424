"""The janitor's schedule: each payment and refund stores when it is next due

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The janitor used to load the oldest N items of a status and then drop, in Python, those it
could not act on; enough such items at the head of the queue starved everything behind them.
Each attempt and refund now carries `next_check_at` (when it is next due) and `checks` (how
many checks settled nothing since its last status change, for the backoff), and the janitor
selects exactly the due items by (status, next_check_at). Existing rows become due at once.

Refunds also get `request_id`: the parts of one withdrawal request (split over several
payments) share it, so its places are released only when every part succeeded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = ("payments", "refunds")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("checks", sa.Integer(), server_default="0", nullable=False))
        rows = sa.table(table, sa.column("next_check_at"), sa.column("updated_at"))
        op.execute(rows.update().values(next_check_at=rows.c.updated_at))
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "next_check_at", existing_type=sa.DateTime(timezone=True), nullable=False
            )
            batch.create_index(
                f"ix_{table}_status_next_check_at", ["status", "next_check_at"], unique=False
            )
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("request_id")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_status_next_check_at")
            batch.drop_column("checks")
            batch.drop_column("next_check_at")
