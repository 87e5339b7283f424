"""Running sums of the ledger per order and account, so verify need not group every posting

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

`ledger_order_sums` holds, per order and account, the sum of the order's postings
(`db.ledger_sums_models`); `post` keeps it from now on, and this revision fills it from the
postings already stored. Verify proves it equal to the postings before trusting it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_order_sums",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "order_id", "kind", "owner", "currency", name=op.f("pk_ledger_order_sums")
        ),
    )
    op.execute(
        "INSERT INTO ledger_order_sums (order_id, kind, owner, currency, amount)"
        " SELECT order_id, kind, owner, currency, SUM(amount) FROM ledger_postings"
        " WHERE order_id IS NOT NULL GROUP BY order_id, kind, owner, currency"
    )


def downgrade() -> None:
    op.drop_table("ledger_order_sums")
