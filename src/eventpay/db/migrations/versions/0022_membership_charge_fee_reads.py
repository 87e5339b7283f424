"""Membership charges from before 0020: their Stripe fee read scheduled

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

0020 added `membership_charges.fee_check_at` empty, and the janitor
(`services.membership_fees`) reads only the charges whose `fee_check_at` is due, so the Stripe
charges recorded before it would never have their fee read. Each of them without a fee is due
from its `created_at` (the janitor still reads only the charges of the last 30 days). PayPal's
sale carries its fee, so PayPal charges are left as they are. Data only: the downgrade leaves
the schedule, which the older code does not read.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE membership_charges SET fee_check_at = created_at"
        " WHERE provider = 'stripe' AND fee IS NULL AND fee_check_at IS NULL"
    )


def downgrade() -> None:
    pass
