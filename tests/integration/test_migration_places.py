"""Migration 0014 on a database that already sold places: the counts start true.

Rows are written at revision 0013 with plain SQL (the code's models are newer), then the
database is upgraded to head: every class gets a stock item, every registration still pending
or confirmed gets its places, `taken` is their sum, and a competitor who held a class twice
before the rule existed keeps both places, only one of them with a holder: a paid one first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from eventpay.db import migrate

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _seed_at_0013(url: str) -> None:
    engine = create_engine(url)
    day = timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO organizers (id, name, created_at) VALUES ('org', 'Org', :now)"),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO events (id, organizer_id, name, timezone, currency, starts_at,"
                " registration_opens_at, registration_closes_at, created_at, reserve_until)"
                " VALUES ('ev', 'org', 'Event', 'UTC', 'usd', :start, :opens, :closes, :now,"
                " :reserve)"
            ),
            {
                "start": NOW + 30 * day,
                "opens": NOW - day,
                "closes": NOW + 20 * day,
                "now": NOW,
                "reserve": NOW + 37 * day,
            },
        )
        for position, class_id in enumerate(("ev-spl", "ev-sq")):
            conn.execute(
                text(
                    "INSERT INTO competition_classes (id, event_id, position, code, name,"
                    " member_price, non_member_price) VALUES (:id, 'ev', :pos, :code, :id,"
                    " 4000, 5000)"
                ),
                {"id": class_id, "pos": position, "code": class_id[3:].upper()},
            )
        registrations = [
            ("o1", "c1", ["ev-spl", "ev-sq"], "confirmed"),
            ("o2", "c2", ["ev-spl"], "pending"),
            ("o3", "c3", ["ev-spl"], "cancelled"),
            ("o4", "c1", ["ev-spl"], "confirmed"),  # c1's second SPL entry, from before the rule
            ("o5", "c2", ["ev-spl"], "confirmed"),  # c2 paid later for what o2 still reserves
        ]
        for order_id, competitor, classes, status in registrations:
            conn.execute(
                text(
                    "INSERT INTO orders (id, buyer_id, currency, subtotal, discount, fees, tax,"
                    " total, platform_fee, organizer_net, created_at, updated_at, expires_at)"
                    " VALUES (:id, :buyer, 'usd', 5000, 0, 0, 0, 5000, 300, 4700, :now, :now,"
                    " :expires)"
                ),
                {"id": order_id, "buyer": competitor, "now": NOW, "expires": NOW + day},
            )
            conn.execute(
                text(
                    "INSERT INTO registrations (id, order_id, event_id, competitor_id, class_ids,"
                    " status, created_at, updated_at) VALUES (:id, :order, 'ev', :who, :classes,"
                    " :status, :now, :now)"
                ),
                {
                    "id": f"r-{order_id}",
                    "order": order_id,
                    "who": competitor,
                    "classes": json.dumps(classes),
                    "status": status,
                    "now": NOW,
                },
            )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database no migration has touched yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"mig_places_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_existing_registrations_become_places_and_counts(blank_url: str) -> None:
    url = blank_url
    migrate(url, "0013")
    _seed_at_0013(url)
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        stock = dict(conn.execute(text("SELECT id, taken FROM stock_items")).all())
        places = conn.execute(
            text(
                "SELECT order_id, stock_id, holder, status, expires_at IS NOT NULL AS held_until"
                " FROM places"
                " ORDER BY order_id, stock_id"
            )
        ).all()
        capacities = set(conn.execute(text("SELECT capacity FROM stock_items")).scalars())
    engine.dispose()
    assert stock == {"class:ev-spl": 4, "class:ev-sq": 1}
    assert capacities == {None}
    assert [tuple(p) for p in places] == [
        ("o1", "class:ev-spl", "c1", "confirmed", False),
        ("o1", "class:ev-sq", "c1", "confirmed", False),
        ("o2", "class:ev-spl", None, "held", True),  # the paid entry keeps the holder
        ("o4", "class:ev-spl", None, "confirmed", False),
        ("o5", "class:ev-spl", "c2", "confirmed", False),
    ]
