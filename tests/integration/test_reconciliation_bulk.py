"""Reconciliation from Stripe's balance report, compared in the database, on SQLite and PostgreSQL.

`reconcile` reads Stripe's Reports API (a report run's CSV) and pairs the rows with ours in the
database (`ReconciliationRepository.stage_theirs` / `disagreements`); `bulk=False` reads the
balance transactions page by page and compares movement by movement, as before. With every
kind of difference planted (a charge made behind our back, an amount and a fee recorded
differently, a payment whose charge Stripe does not list, a payment older than the period)
both must give the same run: same counts, same mismatches in the same order. So must a
provider without a report (listed page by page, compared in bulk).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain import Money, RefundKind
from eventpay.domain.ledger import provider_fee
from eventpay.domain.reconciliation import MismatchKind, Movement
from eventpay.ports import PaymentRecord, Principal, ProviderName, ReconciliationRun, Role
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import reconciliation
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import request_refund
from support.api import confirm_at_sandbox
from support.paid_orders import (
    new_buyer,
    new_order,
    paid_order,
    record_read,
    start_card_payment,
)
from support.stack import make_settings, seeded_container

BUYER = Principal(user_id="competitor-bulk", role=Role.COMPETITOR)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def own(database_url: str, sandbox: str) -> Iterator[Container]:
    httpx.post(f"{sandbox}/_sandbox/reset").raise_for_status()
    with seeded_container(make_settings(database_url, sandbox)) as built:
        yield built


class _PagesOnly:
    """The Stripe adapter without its report: a provider that only lists page by page (as
    PayPal's transaction search does), compared in bulk all the same."""

    def __init__(self, c: Container) -> None:
        self._inner: Any = c.providers.get(ProviderName.STRIPE)
        self.capabilities = self._inner.capabilities

    def movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        return self._inner.movements(since=since, until=until)

    def get(self, name: ProviderName) -> Any:
        return self


def _run(
    c: Container, since: datetime, *, bulk: bool, pages_only: bool = False
) -> ReconciliationRun:
    return reconciliation.reconcile(
        uow_factory=c.uow_factory,
        providers=_PagesOnly(c) if pages_only else c.providers,  # type: ignore[arg-type]
        provider=ProviderName.STRIPE,
        since=since,
        now=datetime.now(UTC) + timedelta(seconds=5),
        bulk=bulk,
    )


def _same(bulk: ReconciliationRun, paged: ReconciliationRun) -> None:
    assert (bulk.ours, bulk.theirs) == (paged.ours, paged.theirs)
    assert bulk.mismatches == paged.mismatches


def _refund(c: Container, order_id: str, amount: int) -> None:
    with c.uow_factory() as uow:
        (payment,) = uow.payments.list_for_order(order_id)
        request_refund(
            uow,
            payment=payment,
            amount=amount,
            kind=RefundKind.OPERATOR,
            reason="goodwill",
            actor="test",
            now=c.clock(),
        )
        uow.commit()
    execute_pending_refunds(uow_factory=c.uow_factory, providers=c.providers, clock=c.clock)


def _sql(c: Container, statement: str, **params: object) -> None:
    with c.engine.begin() as conn:
        conn.execute(text(statement), params)


def _paid_without_its_fee(c: Container, sandbox: str) -> PaymentRecord:
    """A card payment recorded from its success alone (as a webhook says it: no fee yet)."""
    order_id = paid_order(c, sandbox, buyer=new_buyer(BUYER.user_id), with_fee=False)
    with c.uow_factory() as uow:
        (found,) = uow.payments.list_for_order(order_id)
    return found


def test_the_report_and_the_pages_give_the_same_run(own: Container, sandbox: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    paid = [paid_order(own, sandbox, buyer=new_buyer(BUYER.user_id)) for _ in range(4)]
    late_fee = _paid_without_its_fee(own, sandbox)
    paid.append(late_fee.order_id)
    _refund(own, paid[0], 1000)

    clean = _run(own, since, bulk=True)
    assert (clean.ours, clean.theirs, clean.mismatches) == (6, 6, [])
    _same(clean, _run(own, since, bulk=False))

    stranger = httpx.post(
        f"{sandbox}/v1/payment_intents",
        auth=("sk_test_x", ""),
        data={
            "amount": 777,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": "true",
        },
    )
    stranger.raise_for_status()
    with own.uow_factory() as uow:
        payments = {o: uow.payments.list_for_order(o)[0] for o in paid}
    # An amount recorded for less; a charge id Stripe does not know; an older payment.
    _sql(
        own,
        "UPDATE payments SET amount_received = amount - 1 WHERE id = :p",
        p=payments[paid[1]].id,
    )
    _sql(own, "UPDATE payments SET capture_id = 'ch_unknown' WHERE id = :p", p=payments[paid[2]].id)
    _sql(
        own,
        "UPDATE payments SET created_at = :at WHERE id = :p",
        p=payments[paid[3]].id,
        at=since - timedelta(days=40),
    )
    # A wrong provider fee booked for a payment whose fee was not known yet: the fee differs.
    extra = provider_fee(
        cause=f"payment:{late_fee.id}:fee",
        order_id=late_fee.order_id,
        provider="stripe",
        fee=Money(3, late_fee.currency),
    )
    assert extra is not None
    with own.uow_factory() as uow:
        uow.ledger.post(extra, at=own.clock())
        uow.commit()

    bulk = _run(own, since, bulk=True)
    paged = _run(own, since, bulk=False)

    _same(bulk, paged)
    _same(_run(own, since, bulk=True, pages_only=True), paged)
    assert sorted(m.kind for m in bulk.mismatches) == sorted(
        [
            MismatchKind.MISSING_HERE,  # the stranger
            MismatchKind.MISSING_HERE,  # paid[2]'s real charge
            MismatchKind.MISSING_THERE,  # ch_unknown
            MismatchKind.AMOUNT_DIFFERS,
            MismatchKind.FEE_DIFFERS,
        ]
    )
    assert payments[paid[3]].id not in {m.our_id for m in bulk.mismatches}  # found by its ref
    assert bulk.ours == clean.ours  # ch_unknown replaces paid[2]'s charge; paid[3] is found


def test_an_order_paid_twice_by_card_has_each_charges_own_fee(own: Container, sandbox: str) -> None:
    """Each charge's fee is compared with the fee booked for that payment, not with every fee
    of its order (an order paid twice books two)."""
    since = datetime.now(UTC) - timedelta(minutes=1)
    c = own
    order_id = new_order(c, buyer=BUYER)
    # The first card is declined, the buyer tries another in a new attempt, and then the
    # first tab's retry goes through as well: two charges for one order.
    first = start_card_payment(c, order_id, buyer=BUYER)
    confirm_at_sandbox(sandbox, str(first.client_secret), "pm_card_chargeDeclined")
    record_read(c, first)
    second = start_card_payment(c, order_id, buyer=BUYER)
    assert second.payment.id != first.payment.id
    for attempt in (second, first):
        confirm_at_sandbox(sandbox, str(attempt.client_secret), "pm_card_visa").raise_for_status()
        record_read(c, attempt)
    for bulk in (True, False):
        run = _run(c, since, bulk=bulk)
        assert [m for m in run.mismatches if m.kind is MismatchKind.FEE_DIFFERS] == []
