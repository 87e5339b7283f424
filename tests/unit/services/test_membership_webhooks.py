"""Membership events whose meaning needs a provider read (PayPal's subscription plan): the read
happens with no unit of work open, then the event is claimed again and applied exactly once,
also when the read fails or another worker applied the event meanwhile."""

from __future__ import annotations

import contextlib
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
ODD_EVENT = "member.odd_payload"


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
        if event_type == ODD_EVENT:
            raise KeyError("resource")
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
    # Found in review: the stale pending copy came back instead of the row as it is now.
    assert handled.status is WebhookStatus.PROCESSED
    assert gateway.parsed == 0
    assert _tier(world) == "pro"


def test_a_second_worker_skips_an_event_being_read_and_failures_count_once_per_round() -> None:
    # Found in review: the event was let go with no lease while PayPal was read, so every
    # worker took the same head-of-queue event and each failed read counted one attempt.
    world, gateway, _ = _world()
    gateway.fail_reads = 100
    event_id = _deliver(world)
    other_id = str(world.deliver(stripe_event("customer.created", {"id": "cus_1"})).event_id)
    taken_meanwhile: list[str | None] = []

    def second_worker() -> None:
        gateway.during_read = None
        handled = world.process_next()
        taken_meanwhile.append(None if handled is None else handled.event_id)
        gateway.during_read = second_worker

    gateway.during_read = second_worker
    for round_number in (1, 2, 3):
        world.process_next()
        row = world.event_row(event_id)
        assert row.attempts == round_number
        assert row.status is WebhookStatus.RETRYING
        world.clock.now += timedelta(hours=2)
    assert taken_meanwhile == [other_id, None, None]
    assert world.event_row(other_id).status is WebhookStatus.IGNORED
    assert len(gateway.open_during_reads) == 3


def test_a_lease_that_runs_out_frees_the_event_and_the_late_worker_counts_nothing() -> None:
    world, gateway, _ = _world()
    gateway.fail_reads = 1
    event_id = _deliver(world)

    def lease_runs_out_then_another_worker_reads() -> None:
        gateway.during_read = None
        world.clock.now += timedelta(seconds=world.retry.read_lease_s)
        # The first worker's read hangs past its lease: the event is due again, another
        # worker takes it, reads (this read fails) and counts one attempt.
        world.process_next()

    gateway.during_read = lease_runs_out_then_another_worker_reads
    gateway.fail_reads = 1
    world.process_next()
    row = world.event_row(event_id)
    # The first worker's read then succeeded, but its lease was gone: nothing applied by it.
    assert row.attempts == 1
    assert row.status is WebhookStatus.RETRYING
    assert gateway.parsed == 0
    world.clock.now += timedelta(hours=2)
    world.process_next()
    assert world.event_row(event_id).status is WebhookStatus.PROCESSED
    assert gateway.parsed == 1


class WorkerDied(BaseException):
    """A worker process ending mid-read (no `except Exception` sees it)."""


def test_a_worker_dying_mid_read_frees_the_event_when_its_lease_ends() -> None:
    world, gateway, _ = _world()
    event_id = _deliver(world)

    def die() -> None:
        gateway.during_read = None
        raise WorkerDied

    gateway.during_read = die
    with contextlib.suppress(WorkerDied):
        world.process_next()
    assert world.process_next() is None
    world.clock.now += timedelta(seconds=world.retry.read_lease_s)
    handled = world.process_next()
    assert handled is not None
    assert handled.status is WebhookStatus.PROCESSED
    assert world.event_row(event_id).attempts == 1
    assert _tier(world) == "retailer"


def test_an_odd_payload_gives_the_event_an_attempt_and_backoff_not_a_crashed_loop() -> None:
    world, _, _ = _world()
    event = stripe_event(ODD_EVENT, {"id": "sub_1"})
    world.deliver(event)
    handled = world.process_next()
    assert handled is not None
    row = world.event_row(str(event["id"]))
    assert row.status is WebhookStatus.RETRYING
    assert row.attempts == 1
    assert row.last_error is not None
    assert "KeyError" in row.last_error
    assert row.next_attempt_at > world.clock()
    assert world.process_next() is None
