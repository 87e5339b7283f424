"""Catalog reads and seeding through the unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from eventpay import sample_data, sample_ids
from eventpay.domain import FeePolicy, Organizer
from eventpay.services import catalog
from eventpay.services.errors import NotFound

from .scenario import SPRING, SUMMER, WINTER, World

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def test_seeding_stores_the_sample_events_in_start_order(world: World) -> None:
    events = catalog.list_events(uow_factory=world.uow_factory)

    assert [e.id for e in events] == [
        WINTER,
        sample_ids.PAYOUT_EVENT,
        sample_ids.UNCLAIMED_EVENT,
        sample_ids.CONNECT_EVENT_A,
        sample_ids.CONNECT_EVENT_B,
        SPRING,
        SUMMER,
    ]
    assert catalog.get_event(uow_factory=world.uow_factory, event_id=SPRING) == next(
        e for e in sample_data.sample_events(world.seeded_at) if e.id == SPRING
    )


def test_seeding_again_adds_nothing(world: World) -> None:
    before = world.store.snapshot()

    added = sample_data.seed(uow_factory=world.uow_factory, now=world.seeded_at)

    assert added == []
    assert world.store.tables.events == before.events
    assert world.store.tables.memberships == before.memberships


def test_an_unknown_event_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        catalog.get_event(uow_factory=world.uow_factory, event_id="nope")

    assert raised.value.code == "event_not_found"


def test_membership_counts_from_its_start_until_its_end(world: World) -> None:
    start = world.seeded_at + timedelta(days=10)
    catalog.grant_membership(
        uow_factory=world.uow_factory,
        user_id="competitor-4004",
        valid_from=start,
        valid_until=start + timedelta(days=365),
    )

    with world.uow_factory() as uow:
        assert not uow.catalog.is_member("competitor-4004", at=start - timedelta(seconds=1))
        assert uow.catalog.is_member("competitor-4004", at=start)
        assert not uow.catalog.is_member("competitor-4004", at=start + timedelta(days=365))


# ---------------------------------------------------------------------------- fee policies

PLATFORM = FeePolicy(percent=Decimal("5"), fixed_minor=50)
PARTNER_RATE = FeePolicy(percent=Decimal("4"), fixed_minor=20)


def test_fee_policy_of_an_event_follows_event_then_organizer_then_platform(world: World) -> None:
    partner = Organizer(id="org-partner", name="Partner Sound Club", fee_policy=PARTNER_RATE)
    spring = world.store.tables.events[SPRING]
    plain = replace(spring, id="partner-plain", organizer_id=partner.id)
    catalog.add_event(uow_factory=world.uow_factory, organizer=partner, event=plain, now=NOW)

    def policy(event_id: str) -> FeePolicy:
        return catalog.fee_policy_of(
            uow_factory=world.uow_factory, event_id=event_id, default=PLATFORM
        )

    assert policy(SPRING) == PLATFORM
    assert policy(SUMMER) == sample_data.SUMMER_FEE_POLICY
    assert policy("partner-plain") == PARTNER_RATE
    with pytest.raises(NotFound) as raised:
        policy("nope")
    assert raised.value.code == "event_not_found"
