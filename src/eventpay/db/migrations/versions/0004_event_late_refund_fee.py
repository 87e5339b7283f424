"""Events publish a late-withdrawal fee

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

`events.late_refund_fee_bps`: what the organizer keeps of a withdrawal between the refund
cutoff and the event's start, in hundredths of a percent; NULL means no refund in that period
(the terms every event had before this revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("late_refund_fee_bps", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("late_refund_fee_bps")
