"""Membership events whose meaning needs a provider read (PayPal's subscription plan): the read
happens with no unit of work open, then the event is claimed again and applied exactly once,
also when the read fails or another worker applied the event meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from eventpay.domain.membership_status import DEFAULT_DUNNING
from eventpay.domain.membership_tiers import DEFAULT_TIERS, MembershipTier
from eventpay.domain.memberships import FactKind, Membership, MembershipFact
from eventpay.ports import ProviderName, ProviderOutcomeUnknown, UnitOfWork, WebhookStatus
from eventpay.ports.capabilities import (
    SUBSCRIPTIONS,
    ChargeEvent,
    MembershipBilling,
    SubscriptionEvent,
    SubscriptionStart,
    TierChange,
)
from eventpay.ports.memberships import SubscriptionRecord

from .fakes import FakeUnitOfWorkFactory, stripe_event
from .scenario import World

READ_EVENT = "member.plan_changed"


class CountingFactory:
    """The world's unit of work factory, counting the units of work open right now."""

    def __init__(self, inner: FakeUnitOfWorkFactory) -> None:
        self.inner = inner
        self.open = 0

    def __call__(self) -> CountingFactory._Unit:
        return CountingFactory._Unit(self, self.inner())

    class _Unit:
        def __init__(self, owner: CountingFactory, uow: UnitOfWork) -> None:
            self._owner, self._uow = owner, uow

        def __enter__(self) -> UnitOfWork:
            self._owner.open += 1
            return self._uow.__enter__()

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None:
            self._owner.open -= 1
            self._uow.__exit__(exc_type, exc, tb)


@dataclass
class ReadingGateway:
    factory: CountingFactory
    open_during_reads: list[int] = field(default_factory=list)
    parsed: int = 0
    fail_reads: int = 0
    during_read: Any = None

    def start_subscription(self, **_: Any) -> SubscriptionStart:
        raise AssertionError("not here")

    def cancel_at_period_end(self, provider_subscription_id: str, *, idempotency_key: str) -> None:
        raise AssertionError("not here")

    def change_tier(
        self, provider_subscription_id: str, tier: MembershipTier, *, idempotency_key: str
    ) -> TierChange:
        raise AssertionError("not here")

    def subscription_to_read(self, event_type: str, payload: Mapping[str, Any]) -> str | None:
        return "sub_1" if event_type == READ_EVENT else None

    def read_subscription(self, provider_subscription_id: str) -> Mapping[str, Any]:
        self.open_during_reads.append(self.factory.open)
        if self.during_read is not None:
            self.during_read()
        if self.fail_reads:
            self.fail_reads -= 1
            raise ProviderOutcomeUnknown("timeout", "no answer")
        return {"id": provider_subscription_id, "tier": "retailer"}

    def parse_subscription_event(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        read: Mapping[str, Any] | None = None,
    ) -> SubscriptionEvent | None:
        if event_type != READ_EVENT:
            return None
        assert read is not None
        self.parsed += 1
        at = datetime.fromisoformat(payload["data"]["object"]["at"])
        fact = MembershipFact(FactKind.TIER_REPORTED, at, tier_code=str(read["tier"]))
        return SubscriptionEvent("sub_1", (fact,))

    def parse_charge_event(self, event_type: str, payload: Mapping[str, Any]) -> ChargeEvent | None:
        return None

    def is_subscription_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        return False


def _world() -> tuple[World, ReadingGateway, CountingFactory]:
    world = World()
    factory = CountingFactory(world.uow_factory)
    world.uow_factory = factory  # type: ignore[assignment]
    gateway = ReadingGateway(factory)
    setattr(
        world.provider, SUBSCRIPTIONS, MembershipBilling(gateway, DEFAULT_TIERS, DEFAULT_DUNNING)
    )
    now = world.clock()
    with factory() as uow:
        uow.memberships.add(
            SubscriptionRecord(
                "ms_1", "u", ProviderName.STRIPE, "sub_1", "pro", Membership("pro"), now, now
            )
        )
        uow.commit()
    return world, gateway, factory


def _deliver(world: World) -> str:
    event = stripe_event(READ_EVENT, {"id": "sub_1", "at": world.clock().isoformat()})
    world.deliver(event)
    return str(event["id"])


def _tier(world: World) -> str:
    with world.uow_factory() as uow:
        record = uow.memberships.get("ms_1")
    assert record is not None
    return record.state.current_tier_code


def test_the_read_happens_outside_any_unit_of_work_and_the_event_applies_once() -> None:
    # Found in review: PayPal's subscription was read inside the event's transaction.
    world, gateway, _ = _world()
    event_id = _deliver(world)
    handled = world.process_next()
    assert handled is not None
    assert world.event_row(event_id).status is WebhookStatus.PROCESSED
    assert gateway.open_during_reads == [0]
    assert gateway.parsed == 1
    assert _tier(world) == "retailer"
    assert world.process_next() is None


def test_a_failed_read_retries_the_event_later() -> None:
    world, gateway, _ = _world()
    gateway.fail_reads = 1
    event_id = _deliver(world)
    world.process_next()
    row = world.event_row(event_id)
    assert row.status is WebhookStatus.RETRYING
    assert row.last_error is not None
    assert "ProviderOutcomeUnknown" in row.last_error
    assert gateway.parsed == 0
    world.clock.now += timedelta(hours=1)
    world.process_next()
    assert world.event_row(event_id).status is WebhookStatus.PROCESSED
    assert gateway.open_during_reads == [0, 0]
    assert gateway.parsed == 1


def test_an_event_another_worker_applied_during_the_read_is_not_applied_again() -> None:
    world, gateway, factory = _world()
    event_id = _deliver(world)

    def other_worker() -> None:
        gateway.during_read = None
        with factory() as uow:
            row = uow.webhooks.get(world.event_row(event_id).id, for_update=True)
            assert row is not None
            row.status = WebhookStatus.PROCESSED
            uow.webhooks.save(row)
            uow.commit()

    gateway.during_read = other_worker
    handled = world.process_next()
    assert handled is not None
    assert gateway.parsed == 0
    assert _tier(world) == "pro"
