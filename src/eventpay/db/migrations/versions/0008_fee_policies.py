"""Organizers and events may have their own platform fee policy

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

`organizers` and `events` gain `fee_percent_bps` (hundredths of a percent), `fee_fixed_minor`,
`fee_payer` and `fee_rounding`: all four or none, which a check constraint enforces. NULL, the
state of every row before this revision, means "no policy of its own": the organizer's, else the
platform's (settings) applies, so existing catalogs price exactly as before. Orders keep the
platform fee stored when they were placed; nothing here touches them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TABLES = ("organizers", "events")
_WHOLE = (
    "(fee_percent_bps IS NULL AND fee_fixed_minor IS NULL AND fee_payer IS NULL"
    " AND fee_rounding IS NULL) OR (fee_percent_bps IS NOT NULL AND fee_fixed_minor IS NOT NULL"
    " AND fee_payer IS NOT NULL AND fee_rounding IS NOT NULL)"
)


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("fee_percent_bps", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("fee_fixed_minor", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("fee_payer", sa.String(length=16), nullable=True))
            batch.add_column(sa.Column("fee_rounding", sa.String(length=16), nullable=True))
            batch.create_check_constraint(op.f(f"ck_{table}_fee_policy_whole"), _WHOLE)


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_fee_policy_whole"), type_="check")
            batch.drop_column("fee_rounding")
            batch.drop_column("fee_payer")
            batch.drop_column("fee_fixed_minor")
            batch.drop_column("fee_percent_bps")
