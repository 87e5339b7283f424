"""`reconcile` of the money that left for organizers, on SQLite and PostgreSQL, against the
Stripe and PayPal sandboxes (their own, reset per test: their books hold only this test's money).

Stripe: a separate charge's transfers and a reversal of each, a payout run's transfer, and a
destination charge's transfer and its reversal by a refund (made by Stripe itself, matched by
the charge and the refund they name) compare clean; a transfer made at Stripe behind our back is
`missing_here`, a transfer, a payout or a destination refund we recorded for another amount is
`amount_differs` (the refund's reversal too), and an application fee other than the one Stripe
took back from a destination charge's transfer is that transfer's `fee_differs`. PayPal: a
paid payout (with its fee) and an unclaimed one that came back compare clean; a changed amount,
a changed fee and a return we never recorded are each named. Both ways of comparing (bulk and
page by page) agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from test_stripe_connect import BUYER, EVENT_A, EVENT_B, ORG_A, ORG_B, _stripe, onboard, pay

from eventpay.bootstrap import Container
from eventpay.domain import Money
from eventpay.domain.payouts import PayoutStatus
from eventpay.domain.reconciliation import MismatchKind
from eventpay.ports import Principal, ProviderName, ReconciliationRun, Role
from eventpay.sample_ids import (
    PAYOUT_EVENT,
    PAYOUT_ORGANIZER_ID,
    UNCLAIMED_EVENT,
    UNCLAIMED_ORGANIZER_ID,
)
from eventpay.sandbox.paypal import BackgroundServer as PayPalServer
from eventpay.sandbox.paypal import create_app as create_paypal
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import payouts, reconciliation
from eventpay.services.transfers import send_due_reversals, send_due_transfers
from eventpay.web import create_app
from support.api import bearer, create_order, registration
from support.paid_orders import paid_order
from support.stack import make_settings, seeded_container

ADMIN = Principal(user_id="admin-reconcile", role=Role.ADMIN)


@pytest.fixture(scope="module")
def stripe_own() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def paypal_own() -> Iterator[str]:
    with PayPalServer(create_paypal(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def own(database_url: str, stripe_own: str, paypal_own: str) -> Iterator[Container]:
    httpx.post(f"{stripe_own}/_sandbox/reset").raise_for_status()
    httpx.post(f"{paypal_own}/_sandbox/reset").raise_for_status()
    settings = make_settings(database_url, stripe_own, paypal_api_base=paypal_own)
    with seeded_container(settings) as built:
        yield built


@pytest.fixture
def web(own: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=own), raise_server_exceptions=False) as client:
        yield client


def _reconcile(c: Container, provider: ProviderName, since: datetime) -> ReconciliationRun:
    """Both ways, which must agree; the bulk run."""
    runs = [
        reconciliation.reconcile(
            uow_factory=c.uow_factory,
            providers=c.providers,
            provider=provider,
            since=since,
            now=datetime.now(UTC) + timedelta(seconds=5),
            bulk=bulk,
        )
        for bulk in (True, False)
    ]
    bulk, paged = runs
    assert (bulk.ours, bulk.theirs, bulk.mismatches) == (paged.ours, paged.theirs, paged.mismatches)
    return bulk


def _named(run: ReconciliationRun) -> list[tuple[MismatchKind, str]]:
    return [(m.kind, m.ref) for m in run.mismatches]


def _send(c: Container) -> None:
    send_due_transfers(uow_factory=c.uow_factory, providers=c.providers, clock=c.clock)
    send_due_reversals(uow_factory=c.uow_factory, providers=c.providers, clock=c.clock)


def _release_and_run(c: Container, event_id: str, organizer_id: str, period: str) -> None:
    payouts.release_reserve(
        uow_factory=c.uow_factory, caller=ADMIN, event_id=event_id, reason="t", now=c.clock()
    )
    payouts.run(
        uow_factory=c.uow_factory,
        rails=c.payout_rails,
        clock=c.clock,
        actor="t",
        period=period,
        organizer_ids=[organizer_id],
    )


def test_stripe_transfers_reversals_and_payout_transfers_agree_then_differences_are_named(
    web: TestClient, own: Container, stripe_own: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    # A payout run's transfer: money owed from sales made before the organizer connected.
    paid_order(own, stripe_own, event_id=EVENT_A, class_id=f"{EVENT_A}-spl")
    accounts = {org: onboard(web, own, stripe_own, org) for org in (ORG_A, ORG_B)}
    _release_and_run(own, EVENT_A, ORG_A, "p1")
    (payout,) = payouts.list_payouts(uow_factory=own.uow_factory, caller=ADMIN, organizer_id=ORG_A)
    assert payout.status is PayoutStatus.PAID
    assert payout.provider_item_id is not None
    # A separate charge: one transfer per organizer, then half of it refunded and reversed.
    body = {
        "items": [
            {"kind": "registration", "event_id": EVENT_A, "class_ids": [f"{EVENT_A}-spl"]},
            {"kind": "registration", "event_id": EVENT_B, "class_ids": [f"{EVENT_B}-sq"]},
        ]
    }
    separate = create_order(web, BUYER, body)
    separate_payment = pay(web, own, stripe_own, separate["id"])
    _send(own)
    refund = web.post(
        f"/v1/orders/{separate['id']}/refunds",
        json={"reason": "one class cancelled", "amount": separate["total"]["amount"] // 2},
        headers=bearer("admin-reconcile", Role.ADMIN),
    )
    assert refund.status_code == 201, refund.text
    _send(own)
    # A destination charge: Stripe transfers it itself, and reverses it with the refund. By
    # another competitor: the first still holds their SQ place (only half was refunded).
    other = f"{BUYER}-2"
    single = create_order(web, other, registration(EVENT_B, f"{EVENT_B}-sq"))
    single_payment = pay(web, own, stripe_own, single["id"], buyer=other)
    back = web.post(
        f"/v1/orders/{single['id']}/refunds",
        json={"reason": "cannot attend"},
        headers=bearer(other),
    )
    assert back.status_code == 201, back.text

    # An ordinary charge: money on the platform's balance for a transfer behind our back.
    paid_order(own, stripe_own, event_id=PAYOUT_EVENT, class_id=f"{PAYOUT_EVENT}-spl")

    with own.uow_factory() as uow:
        transfers = uow.connect.transfers_for_payment(separate_payment["id"])
        reversals = [r for t in transfers for r in uow.connect.reversals_for_transfer(t.id)]
    assert len(transfers) == 2
    assert len(reversals) == 2
    assert all(t.provider_transfer_id for t in transfers)
    assert all(r.provider_reversal_id for r in reversals)
    sdk = _stripe(own, stripe_own)
    made = sdk.v1.transfers.list(params={"limit": 100}).data
    assert len(made) == 4  # the payout run's, the separate charge's two, the destination's

    clean = _reconcile(own, ProviderName.STRIPE, since)
    assert clean.mismatches == []
    # 4 payments, 2 refunds, 4 transfers and 3 reversals (the destination's among them).
    assert (clean.ours, clean.theirs) == (13, 13)

    currency = separate["total"]["currency"]
    have = {b.currency: b.amount for b in sdk.v1.balance.retrieve().available}
    assert have[currency] > 1
    behind = sdk.v1.transfers.create(
        params={
            "amount": have[currency] // 2,
            "currency": currency,
            "destination": accounts[ORG_B],
        }
    )
    with own.engine.begin() as conn:
        conn.execute(
            text("UPDATE connect_transfers SET amount = amount + 1 WHERE id = :id"),
            {"id": transfers[0].id},
        )
        conn.execute(
            text("UPDATE payouts SET amount = amount - 2 WHERE id = :id"), {"id": payout.id}
        )
        conn.execute(
            text("UPDATE refunds SET amount = amount - 3 WHERE payment_id = :id"),
            {"id": single_payment["id"]},
        )
        conn.execute(
            text(
                "UPDATE connect_charges SET application_fee = application_fee + 4"
                " WHERE payment_id = :id"
            ),
            {"id": single_payment["id"]},
        )
    with own.uow_factory() as uow:
        (destination_refund,) = uow.refunds.list_for_order(single["id"])
    charge = sdk.v1.charges.retrieve(
        str(sdk.v1.payment_intents.retrieve(single_payment["intent_id"]).latest_charge),
        params={"expand": ["transfer"]},
    )
    (reversal,) = charge.transfer.reversals.data  # type: ignore[attr-defined]
    found = _reconcile(own, ProviderName.STRIPE, since)
    assert sorted(_named(found)) == sorted(
        [
            (MismatchKind.MISSING_HERE, behind.id),
            (MismatchKind.AMOUNT_DIFFERS, str(transfers[0].provider_transfer_id)),
            (MismatchKind.AMOUNT_DIFFERS, payout.provider_item_id),
            (MismatchKind.AMOUNT_DIFFERS, str(destination_refund.provider_refund_id)),
            (MismatchKind.AMOUNT_DIFFERS, reversal.id),
            (MismatchKind.FEE_DIFFERS, charge.transfer.id),  # type: ignore[attr-defined]
        ]
    )
    kept = next(m for m in found.mismatches if m.kind is MismatchKind.FEE_DIFFERS)
    assert kept.ours is not None
    assert kept.theirs is not None
    assert kept.ours.amount == kept.theirs.amount + 4
    assert kept.our_id == single_payment["id"]
    by_ref = {m.ref: m for m in found.mismatches}
    moved = by_ref[payout.provider_item_id]
    assert moved.ours is not None
    assert moved.theirs is not None
    assert (moved.ours.amount, moved.theirs.amount) == (
        -(payout.amount.amount - 2),
        -payout.amount.amount,
    )
    assert moved.our_id == payout.id


def test_paypal_payouts_and_a_return_agree_then_differences_are_named(
    own: Container, stripe_own: str, paypal_own: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    for event_id in (PAYOUT_EVENT, UNCLAIMED_EVENT):
        paid_order(own, stripe_own, event_id=event_id, class_id=f"{event_id}-spl")
    later = own.clock() + timedelta(hours=48)
    for event_id, organizer_id in (
        (PAYOUT_EVENT, PAYOUT_ORGANIZER_ID),
        (UNCLAIMED_EVENT, UNCLAIMED_ORGANIZER_ID),
    ):
        _release_and_run(own, event_id, organizer_id, f"p-{organizer_id}")
        (sent,) = payouts.list_payouts(
            uow_factory=own.uow_factory, caller=ADMIN, organizer_id=organizer_id
        )
        httpx.post(f"{paypal_own}/_sandbox/payouts/{sent.provider_batch_id}/process")
    payouts.check_due(uow_factory=own.uow_factory, rails=own.payout_rails, clock=lambda: later)
    (unclaimed,) = payouts.list_payouts(
        uow_factory=own.uow_factory, caller=ADMIN, organizer_id=UNCLAIMED_ORGANIZER_ID
    )
    assert unclaimed.status is PayoutStatus.UNCLAIMED
    item = f"{paypal_own}/_sandbox/payouts-item/{unclaimed.provider_item_id}/return"
    httpx.post(item).raise_for_status()
    payouts.check_due(
        uow_factory=own.uow_factory,
        rails=own.payout_rails,
        clock=lambda: later + timedelta(hours=48),
    )
    (paid,) = payouts.list_payouts(
        uow_factory=own.uow_factory, caller=ADMIN, organizer_id=PAYOUT_ORGANIZER_ID
    )
    (returned,) = payouts.list_payouts(
        uow_factory=own.uow_factory, caller=ADMIN, organizer_id=UNCLAIMED_ORGANIZER_ID
    )
    assert (paid.status, returned.status) == (PayoutStatus.PAID, PayoutStatus.RETURNED)
    assert paid.fee is not None
    assert paid.fee.amount > 0
    assert paid.transaction_id is not None
    assert returned.transaction_id is not None

    clean = _reconcile(own, ProviderName.PAYPAL, since)
    assert clean.mismatches == []
    assert (clean.ours, clean.theirs) == (3, 3)  # two payouts, one return

    with own.engine.begin() as conn:
        conn.execute(
            text("UPDATE payouts SET amount = amount + 5, fee = fee + 1 WHERE id = :id"),
            {"id": paid.id},
        )
        conn.execute(
            text("UPDATE payouts SET status = 'unclaimed' WHERE id = :id"), {"id": returned.id}
        )
    found = _reconcile(own, ProviderName.PAYPAL, since)
    assert _named(found) == sorted(
        [
            (MismatchKind.AMOUNT_DIFFERS, paid.transaction_id),
            (MismatchKind.FEE_DIFFERS, paid.transaction_id),
            (MismatchKind.MISSING_HERE, f"{returned.transaction_id}:return"),
        ],
        key=lambda named: named[1],
    )
    fee = next(m for m in found.mismatches if m.kind is MismatchKind.FEE_DIFFERS)
    assert (fee.ours, fee.theirs) == (Money(paid.fee.amount + 1, paid.fee.currency), paid.fee)
