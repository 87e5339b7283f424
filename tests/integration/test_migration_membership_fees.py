"""Migration 0022 on a database that already recorded membership charges: the Stripe charges
recorded before 0020 (no `fee_check_at`) get their fee read scheduled, from `created_at`.

Rows are written at revision 0019 with plain SQL (the code's models are newer), then the
database is upgraded to head.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from eventpay.db import migrate

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database no migration has touched yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"mig_fees_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_stripe_charges_from_before_0020_get_their_fee_read_scheduled(blank_url: str) -> None:
    # Found in review: 0020 left existing Stripe charges with no fee_check_at, never read.
    migrate(blank_url, "0019")
    engine = create_engine(blank_url)
    charges = [("s1", "stripe", NOW - timedelta(days=2)), ("p1", "paypal", NOW)]
    with engine.begin() as conn:
        for charge_id, provider, at in charges:
            conn.execute(
                text(
                    "INSERT INTO membership_charges (id, provider, ref, payment_ref, amount,"
                    " currency, created_at) VALUES (:id, :provider, :ref, :pay, 2900, 'usd', :at)"
                ),
                {
                    "id": charge_id,
                    "provider": provider,
                    "ref": f"ch_{charge_id}",
                    "pay": f"pi_{charge_id}",
                    "at": at,
                },
            )
    engine.dispose()
    migrate(blank_url, "0021")
    engine = create_engine(blank_url)
    with engine.begin() as conn:
        # One Stripe charge whose fee was already booked at 0021: nothing to schedule.
        conn.execute(
            text(
                "INSERT INTO membership_charges (id, provider, ref, payment_ref, amount, currency,"
                " created_at, fee, fee_checks) VALUES ('s2', 'stripe', 'ch_s2', 'pi_s2', 2900,"
                " 'usd', :at, 114, 1)"
            ),
            {"at": NOW},
        )
    engine.dispose()
    migrate(blank_url)
    engine = create_engine(blank_url)
    with engine.connect() as conn:
        scheduled = conn.execute(
            text(
                "SELECT id, fee_check_at = created_at FROM membership_charges"
                " WHERE fee_check_at IS NOT NULL ORDER BY id"
            )
        ).all()
        unscheduled = (
            conn.execute(
                text("SELECT id FROM membership_charges WHERE fee_check_at IS NULL ORDER BY id")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert [(charge_id, bool(same)) for charge_id, same in scheduled] == [("s1", True)]
    assert unscheduled == ["p1", "s2"]
