"""Reconciliation runs and the mismatches they found

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Each `eventpay reconcile` run is stored with what it compared and every mismatch it found, so
an admin can read the latest result per provider and an auditor can see the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ours", sa.Integer(), nullable=False),
        sa.Column("theirs", sa.Integer(), nullable=False),
        sa.Column("mismatches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(
        "ix_reconciliation_runs_provider_finished",
        "reconciliation_runs",
        ["provider", "finished_at"],
    )
    op.create_table(
        "reconciliation_mismatches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("our_id", sa.String(length=64), nullable=True),
        sa.Column("ours", sa.BigInteger(), nullable=True),
        sa.Column("theirs", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_mismatches_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_mismatches")),
    )
    op.create_index(
        op.f("ix_reconciliation_mismatches_run_id"), "reconciliation_mismatches", ["run_id"]
    )


def downgrade() -> None:
    op.drop_table("reconciliation_mismatches")
    op.drop_table("reconciliation_runs")
