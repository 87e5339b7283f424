"""Orders keep how they divide between organizers: each one's gross and platform fee

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Since each event may carry its own fee policy (0008), an order spanning organizers cannot be
shared by line amounts alone: each organizer's fee comes from their own events. The shares are
computed when the order is priced and stored with it, so a later policy change never alters
them; the ledger divides the order by them. Orders priced before this revision have none and
are shared by line amounts, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column(
                "organizer_shares",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("organizer_shares")
