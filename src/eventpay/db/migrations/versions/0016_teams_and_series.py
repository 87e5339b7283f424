"""Team registrations and series packages

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

`team_competitions` (an event's team terms), `teams` and `team_members` (the rosters orders
stored), `series`, `series_events` and `series_prices` (packages of events), as
`db.team_models` declares them. Nothing existing changes: team slots and team names are stock
items created when an organizer sets up a team competition.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_competitions",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("fee_mode", sa.String(16), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("min_members", sa.Integer(), nullable=False),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_team_competitions_fee_not_negative")),
        sa.CheckConstraint(
            "min_members >= 1 AND min_members <= max_members",
            name=op.f("ck_team_competitions_sizes_ordered"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_team_competitions")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("class_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(128), nullable=False),
        sa.Column("captain_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_teams_event_id_events")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_teams_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_index(op.f("ix_teams_order_id"), "teams", ["order_id"])
    op.create_index(op.f("ix_teams_captain_id"), "teams", ["captain_id"])
    op.create_index("ix_teams_event_id_name_key", "teams", ["event_id", "name_key"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("competitor_id", sa.String(128), nullable=False),
        sa.Column("registration_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_team_members_registration_id_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_members_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("team_id", "competitor_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_registration_id"), "team_members", ["registration_id"])
    op.create_table(
        "series",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
    )
    op.create_table(
        "series_events",
        sa.Column("series_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_series_events_series_id_series")
        ),
        sa.PrimaryKeyConstraint("series_id", "event_id", name=op.f("pk_series_events")),
    )
    op.create_table(
        "series_prices",
        sa.Column("series_id", sa.String(64), nullable=False),
        sa.Column("class_code", sa.String(32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_series_prices_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_series_prices_series_id_series")
        ),
        sa.PrimaryKeyConstraint("series_id", "class_code", name=op.f("pk_series_prices")),
    )


def downgrade() -> None:
    op.drop_table("series_prices")
    op.drop_table("series_events")
    op.drop_table("series")
    op.drop_index(op.f("ix_team_members_registration_id"), table_name="team_members")
    op.drop_table("team_members")
    op.drop_index("ix_teams_event_id_name_key", table_name="teams")
    op.drop_index(op.f("ix_teams_captain_id"), table_name="teams")
    op.drop_index(op.f("ix_teams_order_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_table("team_competitions")
