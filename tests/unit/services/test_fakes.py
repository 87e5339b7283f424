"""The fakes keep the promises the service tests rely on: transactions, copies, uniqueness."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventpay.domain import Money, PaymentStatus, RefundStatus
from eventpay.ports import (
    CreatePayment,
    IdempotencyRecord,
    ProviderName,
    ProviderOutcomeUnknown,
    RefundRecord,
    UnitOfWork,
    WebhookEventRecord,
    WebhookStatus,
)

from .fakes import FakeClock, FakeIntegrityError, FakeProvider, FakeUnitOfWorkFactory
from .scenario import World


def webhook_row(
    row_id: str, clock: FakeClock, *, event_id: str | None = None
) -> WebhookEventRecord:
    return WebhookEventRecord(
        id=row_id,
        provider=ProviderName.STRIPE,
        event_id=event_id or f"evt_{row_id}",
        type="payment_intent.succeeded",
        payload="{}",
        status=WebhookStatus.PENDING,
        received_at=clock(),
        next_attempt_at=clock(),
    )


def key(name: str, clock: FakeClock) -> IdempotencyRecord:
    return IdempotencyRecord(
        principal="p", key=name, fingerprint="f", created_at=clock(), locked_until=None
    )


def test_changes_are_visible_only_after_commit(clock: FakeClock) -> None:
    uows = FakeUnitOfWorkFactory()

    with uows() as uow:
        uow.idempotency.insert_if_new(key("a", clock))
        with uows() as other:
            assert other.idempotency.get("p", "a") is None
        uow.commit()
        uow.idempotency.insert_if_new(key("b", clock))  # after the commit: discarded

    with uows() as uow:
        assert uow.idempotency.get("p", "a") is not None
        assert uow.idempotency.get("p", "b") is None
    assert uows.commits == 1


def test_rollback_and_exceptions_discard_changes(clock: FakeClock) -> None:
    uows = FakeUnitOfWorkFactory()

    with uows() as uow:
        uow.idempotency.insert_if_new(key("a", clock))
        uow.rollback()
        uow.idempotency.insert_if_new(key("b", clock))
        uow.commit()

    def fail_midway() -> None:
        with uows() as uow:
            uow.idempotency.insert_if_new(key("c", clock))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fail_midway()

    assert set(uows.store.tables.idempotency) == {("p", "b")}


def test_records_are_copies_until_saved(clock: FakeClock) -> None:
    uows = FakeUnitOfWorkFactory()
    with uows() as uow:
        uow.webhooks.insert_if_new(webhook_row("r1", clock))
        uow.commit()

    with uows() as uow:
        row = uow.webhooks.get("r1")
        assert row is not None
        row.status = WebhookStatus.DEAD
        assert uow.webhooks.get("r1") == webhook_row("r1", clock)
        uow.commit()

    assert uows.store.tables.webhooks["r1"].status is WebhookStatus.PENDING


def test_repositories_refuse_use_outside_a_block() -> None:
    uow: UnitOfWork = FakeUnitOfWorkFactory()()

    with pytest.raises(RuntimeError):
        uow.idempotency.get("p", "k")


def test_a_commit_over_another_commit_is_refused(clock: FakeClock) -> None:
    uows = FakeUnitOfWorkFactory()

    with uows() as first, uows() as second:
        first.idempotency.insert_if_new(key("a", clock))
        first.commit()
        second.idempotency.insert_if_new(key("b", clock))
        with pytest.raises(RuntimeError, match="concurrent"):
            second.commit()


def test_webhook_rows_are_unique_per_provider_event_and_claimed_in_due_order(
    clock: FakeClock,
) -> None:
    uows = FakeUnitOfWorkFactory()
    with uows() as uow:
        assert uow.webhooks.insert_if_new(webhook_row("late", clock)) is True
        assert uow.webhooks.insert_if_new(webhook_row("dup", clock, event_id="evt_late")) is False
        early = webhook_row("early", clock)
        early.next_attempt_at = clock() - timedelta(seconds=5)
        uow.webhooks.insert_if_new(early)
        future = webhook_row("future", clock)
        future.next_attempt_at = clock() + timedelta(seconds=5)
        uow.webhooks.insert_if_new(future)
        done = webhook_row("done", clock)
        done.status = WebhookStatus.PROCESSED
        done.next_attempt_at = clock() - timedelta(hours=1)
        uow.webhooks.insert_if_new(done)

        claimed = uow.webhooks.claim_next(now=clock())
        assert claimed is not None
        assert claimed.id == "early"
        claimed.status = WebhookStatus.PROCESSED
        uow.webhooks.save(claimed)
        second = uow.webhooks.claim_next(now=clock())
        assert second is not None
        assert second.id == "late"
        second.status = WebhookStatus.IGNORED
        uow.webhooks.save(second)
        assert uow.webhooks.claim_next(now=clock()) is None
        later = uow.webhooks.claim_next(now=clock() + timedelta(seconds=5))
        assert later is not None
        assert later.id == "future"


def test_idempotency_keys_are_unique_per_principal(clock: FakeClock) -> None:
    uows = FakeUnitOfWorkFactory()
    with uows() as uow:
        assert uow.idempotency.insert_if_new(key("a", clock)) is True
        assert uow.idempotency.insert_if_new(key("a", clock)) is False


def test_payment_keys_and_provider_refs_are_unique(world: World) -> None:
    order = world.place_order().order
    world.start(order.id)
    (payment,) = world.store.payments
    clone = world.store.snapshot().payments[payment.id]
    clone.id = "another"

    with world.uow_factory() as uow, pytest.raises(FakeIntegrityError, match="idempotency"):
        uow.payments.add(clone)
    clone.idempotency_key = "another-key"
    with world.uow_factory() as uow, pytest.raises(FakeIntegrityError, match="stripe"):
        uow.payments.add(clone)


def test_refund_keys_and_provider_refund_ids_are_unique(world: World) -> None:
    order = world.place_order().order
    payment = world.pay(order.id)
    now = world.clock()

    def refund(refund_id: str, key: str, provider_refund_id: str | None) -> RefundRecord:
        return RefundRecord(
            id=refund_id,
            order_id=order.id,
            payment_id=payment.id,
            provider=ProviderName.STRIPE,
            amount=100,
            currency=payment.currency,
            status=RefundStatus.SUCCEEDED,
            reason="r",
            created_at=now,
            idempotency_key=key,
            provider_refund_id=provider_refund_id,
        )

    with world.uow_factory() as uow:
        uow.refunds.add(refund("r1", "k1", "re_1"))
        uow.refunds.add(refund("r2", "k2", None))
        uow.refunds.add(refund("r3", "k3", None))  # any number not sent yet
        with pytest.raises(FakeIntegrityError, match="idempotency"):
            uow.refunds.add(refund("r4", "k1", "re_4"))
        with pytest.raises(FakeIntegrityError, match="provider_refund_id"):
            uow.refunds.add(refund("r4", "k4", "re_1"))
        with pytest.raises(FakeIntegrityError, match="provider_refund_id"):
            uow.refunds.save(refund("r2", "k2", "re_1"))
        other = refund("r5", "k5", "re_1")
        other.provider = ProviderName.PAYPAL
        uow.refunds.add(other)  # ids are unique per provider


def request(key: str, amount: int = 4000) -> CreatePayment:
    return CreatePayment(
        payment_id="pay_1",
        order_id="ord_1",
        amount=Money(amount, "usd"),
        idempotency_key=key,
        description="d",
        metadata={"payment_id": "pay_1"},
    )


def test_fake_provider_replays_one_object_per_idempotency_key() -> None:
    provider = FakeProvider()

    first = provider.create_payment(request("k1"))
    again = provider.create_payment(request("k1"))
    other = provider.create_payment(request("k2"))

    assert first == again
    assert other.provider_ref != first.provider_ref
    assert len(provider.intents) == 2
    assert first.status is PaymentStatus.CREATED


def test_fake_provider_scripted_unknown_outcome_may_have_taken_effect() -> None:
    provider = FakeProvider()
    provider.fail_next(ProviderOutcomeUnknown("timeout", "t"), took_effect=True)
    provider.fail_next(ProviderOutcomeUnknown("timeout", "t"), took_effect=False)

    with pytest.raises(ProviderOutcomeUnknown):
        provider.create_payment(request("k1"))
    with pytest.raises(ProviderOutcomeUnknown):
        provider.create_payment(request("k2"))

    assert [i["metadata"]["payment_id"] for i in provider.intents.values()] == ["pay_1"]
    assert provider.create_payment(request("k1")).provider_ref == next(iter(provider.intents))
