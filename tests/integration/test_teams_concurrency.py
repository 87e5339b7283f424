"""Team slots and team names under a rush, on SQLite and PostgreSQL.

Captains order in threads, each through its own unit of work, released together by a barrier:
exactly `capacity` teams get a slot and every other captain is told `sold_out` before paying;
captains racing for one team name end with one team of that name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain import FeePolicy
from eventpay.domain.teams import team_name_stock_id, team_stock_id
from eventpay.ports import Principal, Role
from eventpay.sample_ids import OPEN_EVENT
from eventpay.services import orders, teams
from eventpay.services.basket_teams import TeamItem
from eventpay.services.errors import Conflict
from support.checkout import race
from support.stack import make_settings, seeded_container

POLICY = FeePolicy(percent=Decimal("5"), fixed_minor=50)
SLOTS = 4


@pytest.fixture
def container(database_url: str, stripe_sandbox: str) -> Iterator[Container]:
    with seeded_container(make_settings(database_url, stripe_sandbox)) as built:
        teams.configure_teams(
            uow_factory=built.uow_factory,
            caller=Principal(user_id="ops", role=Role.ADMIN),
            event_id=OPEN_EVENT,
            asked=teams.TeamSetup(
                class_id="spring-sq",
                fee_mode="team",
                fee=10000,
                min_members=2,
                max_members=3,
                capacity=SLOTS,
            ),
            now=built.clock(),
        )
        yield built


def team_for(container: Container, captain: str, name: str) -> Callable[[], str]:
    def place() -> str:
        try:
            view = orders.create_order(
                uow=container.uow_factory(),
                buyer=Principal(user_id=captain, role=Role.COMPETITOR),
                items=[TeamItem(OPEN_EVENT, name, (f"{captain}-mate",))],
                promo_code=None,
                fee_policy=POLICY,
                now=container.clock(),
                expires_in=timedelta(minutes=15),
            )
        except Conflict as exc:
            return exc.code
        return view.order.id

    return place


def held(container: Container, stock_id: str) -> tuple[int, int]:
    """(the stock's taken count, places held or confirmed on it)."""
    with container.engine.connect() as conn:
        taken = conn.execute(
            text("SELECT taken FROM stock_items WHERE id = :id"), {"id": stock_id}
        ).scalar_one()
        places = conn.execute(
            text(
                "SELECT COALESCE(SUM(quantity), 0) FROM places"
                " WHERE stock_id = :id AND status IN ('held', 'confirmed')"
            ),
            {"id": stock_id},
        ).scalar_one()
    return taken, places


def test_twelve_captains_for_four_slots_get_four_teams(container: Container) -> None:
    results = race([team_for(container, f"captain-{n}", f"Team {n}") for n in range(12)])
    accepted = [r for r in results if r not in ("sold_out", "")]
    assert len(accepted) == SLOTS
    assert results.count("sold_out") == 12 - SLOTS
    assert held(container, team_stock_id(OPEN_EVENT)) == (SLOTS, SLOTS)
    with container.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM teams")).scalar_one() == SLOTS


def test_captains_racing_for_one_name_make_one_team(container: Container) -> None:
    results = race([team_for(container, f"captain-{n}", "Bass Heads") for n in range(3)])
    accepted = [r for r in results if r not in ("team_name_taken", "already_registered", "")]
    assert len(accepted) == 1, results
    assert held(container, team_name_stock_id(OPEN_EVENT)) == (1, 1)
    with container.engine.connect() as conn:
        names = conn.execute(text("SELECT name_key FROM teams")).scalars().all()
    assert names == ["bass heads"]
