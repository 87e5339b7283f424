"""The ledger posts every money event once, in the state change's unit of work, and balances.

Examples first, then a Hypothesis state machine over payments (full, short, double), our
refunds, refunds made at the provider, refunds that fail after succeeding, replayed webhooks,
payout runs and every fate of a payout (paid, unclaimed, failed, returned before or after it
was paid): after every step each transaction balances, `books.verify` is clean, and each
organizer's payable is gross - platform fee - refunds - paid payouts, exact to the minor unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from eventpay.domain import (
    AccountKind,
    CompetitionClass,
    Event,
    Money,
    OrderStatus,
    Organizer,
    PaymentStatus,
    RefundStatus,
    order_position,
)
from eventpay.domain.payouts import PayoutStatus
from eventpay.ports import PayoutBatch, PayoutItem, PayoutItemUpdate, PayoutOutcome
from eventpay.ports.payouts import PayoutRecord
from eventpay.sample_ids import PAYOUT_EVENT, PAYOUT_ORGANIZER_ID
from eventpay.services import books, catalog, payouts, withdrawals
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement.ledger import shares_of
from eventpay.services.settlement.payouts import apply_item_update

from .fakes import stripe_event
from .scenario import ADMIN, World, item
from .test_external_refunds import dashboard_refund, refund_event
from .test_refunds import _overpay

ORGANIZER = "org-bassline"  # the sample catalog's organizer


def _payables(world: World) -> dict[str, int]:
    with world.uow_factory() as uow:
        balances = uow.ledger.balances(kind=AccountKind.ORGANIZER_PAYABLE)
    return {account.owner: -amount for account, amount in balances.items() if amount}


def test_a_paid_order_posts_once_even_when_its_webhook_is_replayed(world: World) -> None:
    order = world.place_order().order
    payment = world.pay(order.id)
    assert payment.provider_ref is not None
    world.deliver(world.provider.event(payment.provider_ref, "payment_intent.succeeded"))
    world.process_all()

    (transaction,) = world.store.tables.ledger.values()
    assert transaction.cause == f"payment:{payment.id}:succeeded"
    assert _payables(world) == {ORGANIZER: order.organizer_net}
    assert books.verify(uow_factory=world.uow_factory).clean


def test_a_double_payment_is_owed_back_until_its_refund_succeeds(world: World) -> None:
    order_id, _, _ = _overpay(world)
    with world.uow_factory() as uow:
        owed = uow.ledger.balances(kind=AccountKind.OVERPAYMENT)
    assert sum(owed.values()) == -world.view(order_id).order.total
    execute_pending_refunds(
        uow_factory=world.uow_factory, providers=world.providers, clock=world.clock
    )
    with world.uow_factory() as uow:
        owed = uow.ledger.balances(kind=AccountKind.OVERPAYMENT)
    assert sum(owed.values()) == 0
    assert books.verify(uow_factory=world.uow_factory).clean


def test_a_refund_returns_the_fee_in_proportion_and_a_reversal_restores_it(
    world: World,
) -> None:
    order = world.place_order().order
    payment = world.pay(order.id)
    (refund,) = withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=ADMIN,
        order_id=order.id,
        amount=order.total // 2,
        reason="goodwill",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
    )
    assert refund.status is RefundStatus.SUCCEEDED
    with world.uow_factory() as uow:
        expected = order_position(shares_of(uow, order), order.total - order.total // 2)
    assert _payables(world) == dict(expected.payable)

    failed_later = dashboard_refund(
        payment, amount=refund.amount, refund_id=refund.provider_refund_id, status="failed"
    )
    world.deliver(refund_event("refund.failed", failed_later))
    world.process_all()

    assert world.view(order.id).refunds[0].status is RefundStatus.FAILED
    assert _payables(world) == {ORGANIZER: order.organizer_net}
    assert books.verify(uow_factory=world.uow_factory).clean


def test_verify_names_an_order_whose_money_never_reached_the_ledger(world: World) -> None:
    order = world.place_order().order
    world.pay(order.id)
    world.store.tables.ledger.clear()  # as in a database from before the ledger

    report = books.verify(uow_factory=world.uow_factory)

    assert not report.clean
    assert order.id in report.problems[0]
    assert "backfill" in report.problems[0]
    assert books.backfill(uow_factory=world.uow_factory, now=world.clock()) == 1
    assert books.backfill(uow_factory=world.uow_factory, now=world.clock()) == 0
    assert books.verify(uow_factory=world.uow_factory).clean


# ---------------------------------------------------------------------------- state machine


YEN_ORGANIZER = "org-tokyo"
YEN_EVENT = "tokyo-bass-battle"


def _add_yen_event(world: World) -> None:
    """An organizer selling in yen, paid by PayPal Payouts: payables in a zero-decimal
    currency, beside the sample catalog's dollars."""
    now = world.clock()

    def yen(amount: int) -> Money:
        return Money(amount, "jpy")

    event = Event(
        id=YEN_EVENT,
        organizer_id=YEN_ORGANIZER,
        name="Tokyo Bass Battle",
        timezone="Asia/Tokyo",
        currency="jpy",
        starts_at=now + timedelta(days=90),
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=80),
        refund_cutoff_at=now + timedelta(days=60),
        classes=(
            CompetitionClass(
                id=f"{YEN_EVENT}-spl",
                code="SPL",
                name="SPL",
                member_price=yen(6_500),
                non_member_price=yen(8_001),
                additional_class_price=yen(3_333),
            ),
        ),
    )
    organizer = Organizer(id=YEN_ORGANIZER, name="Tokyo dB", paypal_email="pay@tokyo-db.example")
    assert catalog.add_event(
        uow_factory=world.uow_factory, organizer=organizer, event=event, now=now
    )


class PayoutRail:
    """PayPal Payouts as the core sees it: batches accepted, items reported by the test."""

    payout_key_window = timedelta(days=30)

    def __init__(self) -> None:
        self.batches: dict[str, str] = {}

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch:
        self.batches.setdefault(batch_id, f"PB-{len(self.batches) + 1}")
        return PayoutBatch(
            batch_id=batch_id, provider_batch_id=self.batches[batch_id], status="PENDING"
        )

    def get_payout(self, provider_batch_id: str) -> PayoutBatch:
        raise AssertionError("the machine reports every item itself")

    def get_payout_item(self, provider_item_id: str) -> PayoutItemUpdate:
        raise AssertionError("the machine reports every item itself")

    def parse_payout_event(self, event_type: str, payload: Mapping[str, Any]) -> None:
        return None


_WORDS = {
    PayoutOutcome.PAID: "SUCCESS",
    PayoutOutcome.UNCLAIMED: "UNCLAIMED",
    PayoutOutcome.RETURNED: "RETURNED",
    PayoutOutcome.FAILED: "FAILED",
    PayoutOutcome.PENDING: "PENDING",
}


class Books(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.rail = PayoutRail()
        _add_yen_event(self.world)

    @rule(target=orders, whose=st.sampled_from(["sample", "payouts", "yen"]))
    def place(self, whose: str) -> str:
        """An order for the sample organizer (usd), for the one paid by PayPal Payouts (usd),
        or for one selling in yen (a zero-decimal currency, also paid by PayPal Payouts)."""
        chosen = {
            "sample": item(),
            "payouts": item(PAYOUT_EVENT, f"{PAYOUT_EVENT}-spl"),
            "yen": item(YEN_EVENT, f"{YEN_EVENT}-spl"),
        }[whose]
        return self.world.place_order(chosen, buyer=self.world.new_buyer()).order.id

    def _awaiting(self, order_id: str) -> bool:
        return self.world.view(order_id).status is OrderStatus.AWAITING_PAYMENT

    @rule(order_id=orders, fraction=st.sampled_from([1, 2, 3]))
    def pay(self, order_id: str, fraction: int) -> None:
        """A payment of the balance; the provider reports 1/fraction of it received."""
        if not self._awaiting(order_id):
            return
        started = self.world.start(order_id)
        ref = started.payment.provider_ref
        assert ref is not None
        received = started.payment.amount // fraction
        self.world.deliver(
            self.world.report(ref, PaymentStatus.SUCCEEDED, amount_received=received)
        )
        self.world.process_all()

    @rule(order_id=orders)
    def pay_twice(self, order_id: str) -> None:
        """Two attempts of one order both succeed: an over-payment, refunded automatically."""
        if not self._awaiting(order_id):
            return
        first = self.world.start(order_id).payment
        assert first.provider_ref is not None
        self.world.deliver(self.world.report(first.provider_ref, PaymentStatus.FAILED))
        self.world.process_all()
        self.world.clock.advance(minutes=1)
        second = self.world.start(order_id).payment
        assert second.provider_ref is not None
        for ref in (second.provider_ref, first.provider_ref):
            self.world.deliver(self.world.report(ref, PaymentStatus.SUCCEEDED))
            self.world.process_all()

    @rule(order_id=orders, share=st.integers(1, 4))
    def operator_refund(self, order_id: str, share: int) -> None:
        held = withdrawals.quote(
            uow=self.world.uow_factory(), caller=ADMIN, order_id=order_id, now=self.world.clock()
        ).held
        if held.amount // share <= 0:
            return
        withdrawals.request(
            uow_factory=self.world.uow_factory,
            providers=self.world.providers,
            caller=ADMIN,
            order_id=order_id,
            amount=held.amount // share,
            reason="goodwill",
            method=withdrawals.RefundMethod.ORIGINAL,
            clock=self.world.clock,
        )

    @rule(order_id=orders)
    def dashboard_refund(self, order_id: str) -> None:
        view = self.world.view(order_id)
        held = withdrawals.quote(
            uow=self.world.uow_factory(), caller=ADMIN, order_id=order_id, now=self.world.clock()
        ).held
        paid = [p for p in view.payments if p.status is PaymentStatus.SUCCEEDED]
        if not paid or held.amount < 2:
            return
        self.world.deliver(
            refund_event("refund.created", dashboard_refund(paid[-1], amount=held.amount // 2))
        )
        self.world.process_all()

    @rule(order_id=orders)
    def a_refund_fails_later(self, order_id: str) -> None:
        done = [r for r in self.world.view(order_id).refunds if r.status is RefundStatus.SUCCEEDED]
        if not done:
            return
        refund = done[0]
        payment = self.world.payment(refund.payment_id)
        body = dashboard_refund(
            payment, amount=refund.amount, refund_id=refund.provider_refund_id, status="failed"
        )
        self.world.deliver(refund_event("refund.failed", body))
        self.world.process_all()

    @rule()
    def janitor(self) -> None:
        self.world.clock.advance(minutes=2)
        execute_pending_refunds(
            uow_factory=self.world.uow_factory,
            providers=self.world.providers,
            clock=self.world.clock,
        )

    @rule()
    def replay_everything(self) -> None:
        for stored in self.world.store.webhook_events:
            self.world.deliver(stripe_event(stored.type, {}, event_id=stored.event_id))
        self.world.process_all()

    @rule(period=st.integers(0, 3))
    def payout_run(self, period: int) -> None:
        for event_id in (PAYOUT_EVENT, YEN_EVENT):
            payouts.release_reserve(
                uow_factory=self.world.uow_factory,
                caller=ADMIN,
                event_id=event_id,
                reason="test",
                now=self.world.clock(),
            )
        payouts.run(
            uow_factory=self.world.uow_factory,
            rails={"paypal": self.rail},
            clock=self.world.clock,
            actor="test",
            period=f"p{period}",
        )

    @rule(outcome=st.sampled_from(list(PayoutOutcome)), data=st.data())
    def payout_reported(self, outcome: PayoutOutcome, data: st.DataObject) -> None:
        with self.world.uow_factory() as uow:
            mine = [
                *uow.payouts.list_for_organizer(PAYOUT_ORGANIZER_ID),
                *uow.payouts.list_for_organizer(YEN_ORGANIZER),
            ]
        if not mine:
            return
        payout: PayoutRecord = data.draw(st.sampled_from(list(mine)))
        update = PayoutItemUpdate(
            provider_item_id=f"item-{payout.id}",
            provider_batch_id=payout.provider_batch_id or "PB-?",
            item_id=payout.id,
            batch_id=payout.batch_id,
            status=_WORDS[outcome],
            outcome=outcome,
            amount=payout.amount,
            fee=None,
            transaction_id=None,
        )
        with self.world.uow_factory() as uow:
            assert apply_item_update(
                uow, update, provider="paypal", actor="test", now=self.world.clock()
            )
            uow.commit()
            after = uow.payouts.get(payout.id)
        assert after is not None
        if currently_in_test_context():
            event(f"payout {payout.amount.currency} {payout.status.value} -> {after.status.value}")

    @invariant()
    def books_balance(self) -> None:
        _assert_books_clean(self.world)

    @invariant()
    def each_payable_is_gross_less_fee_less_refunds_less_payouts(self) -> None:
        _assert_payables(self.world)


def _assert_books_clean(world: World) -> None:
    report = books.verify(uow_factory=world.uow_factory)
    assert report.clean, report.problems


def _assert_payables(world: World) -> None:
    """Each organizer's payable is gross - platform fee - refunds - paid payouts, exactly."""
    expected: dict[str, int] = defaultdict(int)
    with world.uow_factory() as uow:
        for order_id in {p.order_id for p in world.store.payments}:
            order = uow.orders.get(order_id)
            assert order is not None
            paid = sum(
                p.amount if p.amount_received is None else p.amount_received
                for p in uow.payments.list_for_order(order_id)
                if p.status is PaymentStatus.SUCCEEDED
            )
            refunded = sum(
                r.amount
                for r in uow.refunds.list_for_order(order_id)
                if r.status is RefundStatus.SUCCEEDED
            )
            position = order_position(shares_of(uow, order), paid - refunded)
            for owner, amount in position.payable.items():
                expected[owner] += amount
        for organizer in (PAYOUT_ORGANIZER_ID, YEN_ORGANIZER):
            for payout in uow.payouts.list_for_organizer(organizer):
                if payout.status is PayoutStatus.PAID:
                    expected[organizer] -= payout.amount.amount
    assert _payables(world) == {k: v for k, v in expected.items() if v}


class PayoutBooks(RuleBasedStateMachine):
    """The payout side in depth: paid orders (full or short) of the two organizers paid by
    PayPal Payouts (dollars and yen), refunds before and after payouts, payout runs in any
    period, and every fate of every payout in any order (late, repeated, out of order)."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.world = World()
        self.rail = PayoutRail()
        _add_yen_event(self.world)

    @rule(target=orders, yen=st.booleans(), fraction=st.sampled_from([1, 1, 2]))
    def paid_order(self, yen: bool, fraction: int) -> str:
        event_id = YEN_EVENT if yen else PAYOUT_EVENT
        order_id = self.world.place_order(
            item(event_id, f"{event_id}-spl"), buyer=self.world.new_buyer()
        ).order.id
        started = self.world.start(order_id)
        ref = started.payment.provider_ref
        assert ref is not None
        received = started.payment.amount // fraction
        self.world.deliver(
            self.world.report(ref, PaymentStatus.SUCCEEDED, amount_received=received)
        )
        self.world.process_all()
        return order_id

    @rule(order_id=orders, share=st.integers(1, 3))
    def refund(self, order_id: str, share: int) -> None:
        Books.operator_refund(self, order_id, share)  # type: ignore[arg-type]
        self.world.clock.advance(minutes=2)
        execute_pending_refunds(
            uow_factory=self.world.uow_factory,
            providers=self.world.providers,
            clock=self.world.clock,
        )

    @rule(period=st.integers(0, 2))
    def payout_run(self, period: int) -> None:
        Books.payout_run(self, period)  # type: ignore[arg-type]

    @rule(outcome=st.sampled_from(list(PayoutOutcome)), data=st.data())
    def payout_reported(self, outcome: PayoutOutcome, data: st.DataObject) -> None:
        Books.payout_reported(self, outcome, data)  # type: ignore[arg-type]

    @invariant()
    def books_balance(self) -> None:
        _assert_books_clean(self.world)

    @invariant()
    def each_payable_is_gross_less_fee_less_refunds_less_payouts(self) -> None:
        _assert_payables(self.world)


def test_a_yen_payout_paid_then_returned_books_exactly() -> None:
    machine = PayoutBooks()
    machine.paid_order(yen=True, fraction=1)
    machine.payout_run(0)
    with machine.world.uow_factory() as uow:
        (payout,) = uow.payouts.list_for_organizer(YEN_ORGANIZER)
    assert payout.status is PayoutStatus.SENT
    assert payout.amount.currency == "jpy"
    assert payout.amount.amount > 0
    for outcome in (PayoutOutcome.PAID, PayoutOutcome.RETURNED):
        machine.payout_reported(outcome, _Drawn(payout))  # type: ignore[arg-type]
        _assert_books_clean(machine.world)
        _assert_payables(machine.world)
    with machine.world.uow_factory() as uow:
        (back,) = uow.payouts.list_for_organizer(YEN_ORGANIZER)
        statuses = [e.action for e in uow.audit.list_for_entity("payout", payout.id)]
    assert back.status is PayoutStatus.RETURNED
    assert statuses == ["payout.created", "payout.sent", "payout.paid", "payout.returned"]
    machine.teardown()


class _Drawn:
    """`st.data()` stand-in that always draws the given payout."""

    def __init__(self, payout: PayoutRecord) -> None:
        self.payout = payout

    def draw(self, _strategy: object) -> PayoutRecord:
        return self.payout


TestPayoutBooks = PayoutBooks.TestCase
TestPayoutBooks.settings = settings(
    max_examples=120,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


TestBooks = Books.TestCase
TestBooks.settings = settings(
    max_examples=100,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_the_providers_fee_is_read_after_the_success_and_posted_once(world: World) -> None:
    from eventpay.services import janitor

    order = world.place_order().order
    payment = world.pay(order.id)  # the success event carries no fee
    assert payment.provider_ref is not None
    world.provider.intents[payment.provider_ref]["fee"] = 146
    kwargs = {"uow_factory": world.uow_factory, "providers": world.providers}

    assert janitor.read_fees(clock=world.clock, **kwargs) == 0  # due a minute after success
    world.clock.advance(minutes=1)
    assert janitor.read_fees(clock=world.clock, **kwargs) == 1
    world.clock.advance(days=1)
    assert janitor.read_fees(clock=world.clock, **kwargs) == 0  # known: never asked again

    with world.uow_factory() as uow:
        expense = uow.ledger.balances(kind=AccountKind.PROVIDER_FEE_EXPENSE)
        clearing = uow.ledger.balances(kind=AccountKind.PROVIDER_CLEARING)
    assert sum(expense.values()) == 146
    assert sum(clearing.values()) == order.total - 146
    assert world.count(order.id, "payment.provider_fee") == 1
    assert books.verify(uow_factory=world.uow_factory).clean


def test_a_statement_runs_from_the_opening_to_the_closing_balance(world: World) -> None:
    from datetime import timedelta

    from eventpay.ports import Principal, Role
    from eventpay.services import organizer_money

    before = world.place_paid()[0].order
    world.clock.advance(hours=1)
    start = world.clock()
    placed, payment = world.place_paid()
    order = placed.order
    world.clock.advance(minutes=5)
    withdrawals.request(
        uow_factory=world.uow_factory,
        providers=world.providers,
        caller=ADMIN,
        order_id=order.id,
        amount=1000,
        reason="goodwill",
        method=withdrawals.RefundMethod.ORIGINAL,
        clock=world.clock,
    )
    organizer = Principal("org-user", Role.ORGANIZER, organizer_id=ORGANIZER)

    (usd,) = organizer_money.statement(
        uow_factory=world.uow_factory,
        caller=organizer,
        organizer_id=ORGANIZER,
        since=start,
        until=world.clock() + timedelta(seconds=1),
    )

    assert usd.opening.amount == before.organizer_net
    assert [(e.kind, e.order_id) for e in usd.entries] == [
        ("payment_succeeded", order.id),
        ("refund_succeeded", order.id),
    ]
    assert usd.entries[0].payable == order.organizer_net
    assert usd.entries[1].payable < 0 < usd.entries[0].platform_fee
    assert usd.closing.amount == sum(_payables(world).values())
    assert payment.order_id == order.id


def test_each_organizer_of_a_mixed_order_is_owed_their_own_net(world: World) -> None:
    from .scenario import item
    from .test_orders import EVENT_RATE, PARTNER, add_spring_copy

    add_spring_copy(world, "partner-plain", organizer=PARTNER, fee_policy=None)
    add_spring_copy(world, "partner-special", organizer=PARTNER, fee_policy=EVENT_RATE)
    order = world.place_order(
        item("spring-sound-off", "spring-spl"),
        item("partner-plain", "partner-plain-spl"),
        item("partner-special", "partner-special-spl"),
    ).order
    assert order.organizer_shares == {
        ORGANIZER: [4000, 146],  # the platform's 2.9 % + 30
        PARTNER.id: [8400, 580],  # 4 % + 20 on one event; 10 %, paid by the buyer, on the other
    }

    world.pay(order.id)

    # Shared by line amounts instead, each would carry the whole order's fee rate (was so).
    assert _payables(world) == {ORGANIZER: 4000 - 146, PARTNER.id: 8400 - 580}
    assert books.verify(uow_factory=world.uow_factory).clean
