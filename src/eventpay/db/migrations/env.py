"""Alembic environment: runs migrations against the URL given in the config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from eventpay.db import (
    connect_models,  # noqa: F401 - registers the Connect tables on Base
    ledger_sums_models,  # noqa: F401 - registers the ledger's running sums
    membership_models,  # noqa: F401 - registers membership subscriptions
    merch_models,  # noqa: F401 - registers merchandise
    pass_models,  # noqa: F401 - registers spectator passes and VIP upgrades
    sponsor_models,  # noqa: F401 - registers sponsor packages and sponsorships
    stock_models,  # noqa: F401 - registers places and promo codes
    team_models,  # noqa: F401 - registers teams and series
)
from eventpay.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not configured")
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run against a database")
run_migrations_online()
