"""One refund row per refund at the provider

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Refunds made at the provider itself (a dashboard) are recorded from their webhook events; the
same refund arrives in several events (Stripe `refund.created` then `refund.updated`, retried
deliveries), so (provider, provider_refund_id) is made unique: a second row for one refund is
refused by the database, not only avoided by the service. Refunds not sent yet have no
provider id (NULL), which both databases allow any number of times.

Upgrading fails if a database already holds two rows with one provider refund id; such rows
are a double count to be resolved by a person before this revision.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.create_unique_constraint(
            batch.f("uq_refunds_provider_provider_refund_id"), ["provider", "provider_refund_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_constraint(batch.f("uq_refunds_provider_provider_refund_id"), type_="unique")
