"""Organizer payouts end to end: money paid at the Stripe sandbox, held until the event's
reserve is released, paid out by PayPal Payouts at the PayPal sandbox, followed to its end by
polling and webhooks; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
import pytest

from eventpay.bootstrap import Container
from eventpay.domain import AccountKind, Money
from eventpay.domain.payouts import PayoutStatus
from eventpay.ports import (
    PayoutBatch,
    PayoutItem,
    PayoutProvider,
    Principal,
    ProviderOutcomeUnknown,
    Role,
)
from eventpay.sample_ids import (
    ORGANIZER_ID,
    PAYOUT_EVENT,
    PAYOUT_ORGANIZER_ID,
    UNCLAIMED_EVENT,
    UNCLAIMED_ORGANIZER_ID,
)
from eventpay.services import books, organizer_money, payouts
from eventpay.services.errors import InvalidRequest, NotFound
from eventpay.services.payouts import PlanOutcome
from support.paid_orders import paid_order

ADMIN = Principal(user_id="admin-1", role=Role.ADMIN)
ORGANIZER = Principal(user_id="o-1", role=Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
OTHER = Principal(user_id="o-2", role=Role.ORGANIZER, organizer_id=ORGANIZER_ID)


def later(c: Container, hours: float) -> datetime:
    return c.clock() + timedelta(hours=hours)


def balance(c: Container, organizer_id: str, *, now: datetime | None = None) -> dict[str, int]:
    (found,) = organizer_money.balance(
        uow_factory=c.uow_factory,
        caller=ADMIN,
        organizer_id=organizer_id,
        now=now or c.clock(),
    )
    return {
        "available": found.available.amount,
        "held": found.held.amount,
        "pending": found.pending.amount,
    }


def pay_event(c: Container, sandbox: str, event_id: str) -> int:
    """Pay one entry for `event_id`; what its organizer is owed for it."""
    order_id = paid_order(c, sandbox, event_id=event_id, class_id=f"{event_id}-spl")
    with c.uow_factory() as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        return order.organizer_net


def run(c: Container, period: str, **kwargs: object) -> payouts.RunReport:
    return payouts.run(
        uow_factory=c.uow_factory,
        rails=c.payout_rails,
        clock=c.clock,
        actor="test",
        period=period,
        **kwargs,  # type: ignore[arg-type]
    )


def release(c: Container, event_id: str) -> None:
    payouts.release_reserve(
        uow_factory=c.uow_factory,
        caller=ADMIN,
        event_id=event_id,
        reason="trusted organizer",
        now=c.clock(),
    )


def settle_at_paypal(
    paypal: str, c: Container, organizer_id: str, *, hours: float = 1
) -> payouts.PayoutRecord:
    """Let the PayPal sandbox settle the organizer's newest payout now, then poll it."""
    (newest, *_) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=organizer_id
    )
    assert newest.provider_batch_id is not None
    httpx.post(f"{paypal}/_sandbox/payouts/{newest.provider_batch_id}/process").raise_for_status()
    payouts.check_due(
        uow_factory=c.uow_factory, rails=c.payout_rails, clock=lambda: later(c, hours)
    )
    (newest, *_) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=organizer_id
    )
    return newest


def assert_books_clean(c: Container) -> None:
    report = books.verify(uow_factory=c.uow_factory)
    assert report.problems == []


def test_money_is_held_until_the_reserve_is_released_then_paid_once(
    container: Container, stripe_sandbox: str, paypal_sandbox: str
) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": 0, "held": net, "pending": 0}

    held = run(c, "p1")
    assert [(line.organizer_id, line.outcome) for line in held.lines] == [
        (PAYOUT_ORGANIZER_ID, PlanOutcome.NOTHING_AVAILABLE)
    ]

    release(c, PAYOUT_EVENT)
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": net, "held": 0, "pending": 0}
    dry = run(c, "p1", dry_run=True)
    assert [(line.outcome, line.amount.amount) for line in dry.lines] == [(PlanOutcome.PAY, net)]
    assert (
        payouts.list_payouts(
            uow_factory=c.uow_factory, caller=ADMIN, organizer_id=PAYOUT_ORGANIZER_ID
        )
        == []
    )

    paid = run(c, "p1")
    assert [(line.outcome, line.amount.amount) for line in paid.lines] == [
        (PlanOutcome.CREATED, net)
    ]
    assert (paid.sent, paid.failed, paid.unsent) == (1, 0, 0)
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": 0, "held": 0, "pending": net}

    again = run(c, "p1")
    assert [line.outcome for line in again.lines] == [PlanOutcome.NOTHING_AVAILABLE]

    payout = settle_at_paypal(paypal_sandbox, c, PAYOUT_ORGANIZER_ID)
    assert payout.status is PayoutStatus.PAID
    assert payout.amount == Money(net, "usd")
    assert payout.provider_status == "SUCCESS"
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": 0, "held": 0, "pending": 0}
    with c.uow_factory() as uow:
        owed = uow.ledger.balances(kind=AccountKind.ORGANIZER_PAYABLE, owner=PAYOUT_ORGANIZER_ID)
        entries = uow.audit.list_for_entity("payout", payout.id)
    assert set(owed.values()) == {0}
    assert [e.action for e in entries] == ["payout.created", "payout.sent", "payout.paid"]
    assert_books_clean(c)


def test_an_unclaimed_payout_that_comes_back_is_available_again(
    container: Container, stripe_sandbox: str, paypal_sandbox: str
) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, UNCLAIMED_EVENT)
    release(c, UNCLAIMED_EVENT)
    run(c, "p1")
    payout = settle_at_paypal(paypal_sandbox, c, UNCLAIMED_ORGANIZER_ID)
    assert payout.status is PayoutStatus.UNCLAIMED
    assert payout.failure_reason == "RECEIVER_UNREGISTERED"
    assert balance(c, UNCLAIMED_ORGANIZER_ID)["pending"] == net

    assert payout.provider_item_id is not None
    item = f"{paypal_sandbox}/_sandbox/payouts-item/{payout.provider_item_id}/return"
    httpx.post(item).raise_for_status()
    payouts.check_due(uow_factory=c.uow_factory, rails=c.payout_rails, clock=lambda: later(c, 48))
    (back, *_) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=UNCLAIMED_ORGANIZER_ID
    )
    assert back.status is PayoutStatus.RETURNED
    assert balance(c, UNCLAIMED_ORGANIZER_ID) == {"available": net, "held": 0, "pending": 0}
    assert_books_clean(c)


def test_an_admin_hold_stops_payouts_and_is_audited(
    container: Container, stripe_sandbox: str
) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    release(c, PAYOUT_EVENT)
    with pytest.raises(NotFound):
        payouts.set_hold(
            uow_factory=c.uow_factory,
            caller=ORGANIZER,
            organizer_id=PAYOUT_ORGANIZER_ID,
            on_hold=True,
            reason="x",
            now=c.clock(),
        )
    with pytest.raises(InvalidRequest):
        payouts.set_hold(
            uow_factory=c.uow_factory,
            caller=ADMIN,
            organizer_id=PAYOUT_ORGANIZER_ID,
            on_hold=True,
            reason=" ",
            now=c.clock(),
        )
    assert payouts.set_hold(
        uow_factory=c.uow_factory,
        caller=ADMIN,
        organizer_id=PAYOUT_ORGANIZER_ID,
        on_hold=True,
        reason="chargeback review",
        now=c.clock(),
    )
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": 0, "held": net, "pending": 0}
    assert [line.outcome for line in run(c, "p1").lines] == [PlanOutcome.ON_HOLD]

    assert payouts.set_hold(
        uow_factory=c.uow_factory,
        caller=ADMIN,
        organizer_id=PAYOUT_ORGANIZER_ID,
        on_hold=False,
        reason=None,
        now=c.clock(),
    )
    assert [line.outcome for line in run(c, "p1").lines] == [PlanOutcome.CREATED]
    with c.uow_factory() as uow:
        actions = [e.action for e in uow.audit.list_for_entity("organizer", PAYOUT_ORGANIZER_ID)]
    assert actions == ["payouts.held", "payouts.released"]


def test_another_organizer_cannot_read_the_payouts(container: Container) -> None:
    with pytest.raises(NotFound):
        payouts.list_payouts(
            uow_factory=container.uow_factory, caller=OTHER, organizer_id=PAYOUT_ORGANIZER_ID
        )
    assert (
        payouts.list_payouts(
            uow_factory=container.uow_factory, caller=ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID
        )
        == []
    )


def test_the_reserve_ends_days_after_the_event(container: Container, stripe_sandbox: str) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    with c.uow_factory() as uow:
        event = uow.catalog.get_event(PAYOUT_EVENT)
    assert event is not None
    assert event.reserve_until == event.starts_at + timedelta(days=2 + 7)
    just_before = event.reserve_until - timedelta(seconds=1)
    assert balance(c, PAYOUT_ORGANIZER_ID, now=just_before)["held"] == net
    assert balance(c, PAYOUT_ORGANIZER_ID, now=event.reserve_until)["available"] == net


def test_concurrent_runs_pay_an_organizer_once(container: Container, stripe_sandbox: str) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    release(c, PAYOUT_EVENT)
    reports: list[payouts.RunReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def one(period: str) -> None:
        start.wait()
        try:
            reports.append(run(c, period))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(p,)) for p in ("a", "a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    created = [line for r in reports for line in r.lines if line.outcome == PlanOutcome.CREATED]
    assert [line.amount.amount for line in created] == [net]
    assert balance(c, PAYOUT_ORGANIZER_ID)["pending"] == net


def test_verify_names_a_payout_whose_postings_disagree_with_its_status(
    container: Container, stripe_sandbox: str
) -> None:
    c = container
    pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    release(c, PAYOUT_EVENT)
    (line,) = run(c, "p1").lines
    assert_books_clean(c)
    with c.uow_factory() as uow:
        payout = uow.payouts.get(str(line.payout_id), for_update=True)
        assert payout is not None
        payout.status = PayoutStatus.PAID  # as if a bug moved it without booking it
        uow.payouts.save(payout)
        uow.commit()
    problems = books.verify(uow_factory=c.uow_factory).problems
    assert problems == [
        f"payout {line.payout_id} (paid): payouts_in_transit:{PAYOUT_ORGANIZER_ID}:usd is "
        f"{line.amount.amount}, expected 0"
    ]


class LostAnswer:
    """PayPal Payouts whose first answer is lost on the way back: the batch is made, the
    caller hears a timeout."""

    def __init__(self, rail: PayoutProvider) -> None:
        self.rail = rail
        self.lost = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.rail, name)

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch:
        batch = self.rail.create_payout(batch_id=batch_id, items=items, email_subject=email_subject)
        if self.lost == 0:
            self.lost += 1
            raise ProviderOutcomeUnknown("timeout", "the answer was lost")
        return batch


class PayPalDown(LostAnswer):
    """PayPal Payouts that never answer; `lost` counts the batches sent into the void."""

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch:
        self.lost += 1
        raise ProviderOutcomeUnknown("timeout", "PayPal did not answer")


@pytest.mark.parametrize("forgotten", [False, True], ids=["replayed", "request-id-forgotten"])
def test_a_batch_whose_answer_was_lost_is_sent_again_and_pays_once(
    container: Container, stripe_sandbox: str, paypal_sandbox: str, forgotten: bool
) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    release(c, PAYOUT_EVENT)
    rail = LostAnswer(c.payout_rails["paypal"])
    report = payouts.run(
        uow_factory=c.uow_factory, rails={"paypal": rail}, clock=c.clock, actor="t", period="p"
    )
    assert (report.sent, report.failed, report.unsent) == (0, 0, 1)
    (payout,) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=PAYOUT_ORGANIZER_ID
    )
    assert payout.status is PayoutStatus.CREATED
    assert balance(c, PAYOUT_ORGANIZER_ID)["pending"] == net
    if forgotten:  # PayPal forgot the request id: it refuses the batch id as a duplicate
        age = {"seconds": 60 * 24 * 3600}
        httpx.post(f"{paypal_sandbox}/_sandbox/idempotency/age", json=age).raise_for_status()

    payouts.check_due(uow_factory=c.uow_factory, rails={"paypal": rail}, clock=lambda: later(c, 2))
    (payout,) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=PAYOUT_ORGANIZER_ID
    )
    assert payout.status is PayoutStatus.SENT
    assert payout.provider_batch_id is not None
    paid = settle_at_paypal(paypal_sandbox, c, PAYOUT_ORGANIZER_ID, hours=3)
    assert paid.status is PayoutStatus.PAID
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": 0, "held": 0, "pending": 0}
    assert_books_clean(c)


def test_a_batch_unsent_past_the_providers_key_window_waits_for_a_person(
    container: Container, stripe_sandbox: str
) -> None:
    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    release(c, PAYOUT_EVENT)

    rail = PayPalDown(c.payout_rails["paypal"])
    payouts.run(
        uow_factory=c.uow_factory, rails={"paypal": rail}, clock=c.clock, actor="t", period="p"
    )
    payouts.check_due(uow_factory=c.uow_factory, rails={"paypal": rail}, clock=lambda: later(c, 2))
    assert rail.lost == 2  # sent again within the window
    payouts.check_due(
        uow_factory=c.uow_factory, rails={"paypal": rail}, clock=lambda: later(c, 24 * 31)
    )
    assert rail.lost == 2  # not past it: PayPal may have forgotten the batch id
    (payout,) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=PAYOUT_ORGANIZER_ID
    )
    assert (payout.status, payout.provider_status) == (PayoutStatus.CREATED, "needs_review")
    assert balance(c, PAYOUT_ORGANIZER_ID)["pending"] == net  # never available twice
    with c.uow_factory() as uow:
        actions = [e.action for e in uow.audit.list_for_entity("payout", payout.id)]
    assert actions == ["payout.created", "payout.needs_review"]


def test_an_admin_settles_a_payout_in_review_once_checked_at_the_provider(
    container: Container, stripe_sandbox: str
) -> None:
    from fastapi.testclient import TestClient

    from eventpay.web import create_app
    from support.api import bearer

    c = container
    net = pay_event(c, stripe_sandbox, PAYOUT_EVENT)
    release(c, PAYOUT_EVENT)

    rail = PayPalDown(c.payout_rails["paypal"])
    payouts.run(
        uow_factory=c.uow_factory, rails={"paypal": rail}, clock=c.clock, actor="t", period="p"
    )
    (payout,) = payouts.list_payouts(
        uow_factory=c.uow_factory, caller=ADMIN, organizer_id=PAYOUT_ORGANIZER_ID
    )
    url = f"/v1/payouts/{payout.id}/resolution"
    body = {"outcome": "failed", "reason": "no such batch at PayPal"}
    with TestClient(create_app(container=c)) as client:
        early = client.post(url, json=body, headers=bearer("ops", Role.ADMIN))
        assert (early.status_code, early.json()["error"]["code"]) == (409, "payout_not_in_review")
        payouts.check_due(
            uow_factory=c.uow_factory, rails={"paypal": rail}, clock=lambda: later(c, 24 * 31)
        )
        refused = client.post(
            url, json=body, headers=bearer("o", Role.ORGANIZER, PAYOUT_ORGANIZER_ID)
        )
        assert refused.status_code == 404
        assert (
            client.post(
                url, json={"outcome": "lost", "reason": "x"}, headers=bearer("ops", Role.ADMIN)
            ).status_code
            == 422
        )
        done = client.post(url, json=body, headers=bearer("ops", Role.ADMIN))
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "failed"
        again = client.post(url, json=body, headers=bearer("ops", Role.ADMIN))
        assert again.status_code == 409
    assert balance(c, PAYOUT_ORGANIZER_ID) == {"available": net, "held": 0, "pending": 0}
    with c.uow_factory() as uow:
        actions = [e.action for e in uow.audit.list_for_entity("payout", payout.id)]
    # (The review was audited at the janitor's clock, a month ahead: compare without order.)
    assert sorted(actions) == ["payout.created", "payout.failed", "payout.needs_review"]
    assert_books_clean(c)
