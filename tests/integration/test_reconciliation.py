"""`reconcile` against the Stripe sandbox's own records, on SQLite and PostgreSQL.

Its own sandbox (its balance holds only this test's money): our paid and refunded orders agree
with Stripe's balance transactions; a charge made at Stripe behind our back is `missing_here`;
an amount we recorded differently is `amount_differs`; the same database gives the same answer
twice; the run is stored and an admin reads it over the API (others: 404).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.domain import RefundKind
from eventpay.domain.reconciliation import MismatchKind
from eventpay.ports import Principal, ProviderName, Role
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import reconciliation
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import request_refund
from eventpay.web import create_app
from support.api import bearer
from support.paid_orders import paid_order as _paid_order
from support.stack import make_settings, seeded_container

BUYER = Principal(user_id="competitor-reconcile", role=Role.COMPETITOR)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def own(database_url: str, sandbox: str) -> Iterator[Container]:
    httpx.post(f"{sandbox}/_sandbox/reset").raise_for_status()
    with seeded_container(make_settings(database_url, sandbox)) as built:
        yield built


def _reconcile(c: Container, since: datetime) -> reconciliation.ReconciliationRun:
    return reconciliation.reconcile(
        uow_factory=c.uow_factory,
        providers=c.providers,
        provider=ProviderName.STRIPE,
        since=since,
        now=datetime.now(UTC) + timedelta(seconds=5),
    )


def test_our_books_and_stripes_agree_then_each_difference_is_named(
    own: Container, sandbox: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    order_id = _paid_order(own, sandbox)
    with own.uow_factory() as uow:
        (payment,) = uow.payments.list_for_order(order_id)
        request_refund(
            uow,
            payment=payment,
            amount=1000,
            kind=RefundKind.OPERATOR,
            reason="goodwill",
            actor="test",
            now=own.clock(),
        )
        uow.commit()
    execute_pending_refunds(uow_factory=own.uow_factory, providers=own.providers, clock=own.clock)

    clean = _reconcile(own, since)
    assert (clean.ours, clean.theirs, clean.mismatches) == (2, 2, [])

    # A charge made at Stripe outside eventpay, and a payment we recorded for less.
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
        tampered = uow.payments.get(payment.id, for_update=True)
        assert tampered is not None
        tampered.amount_received = (tampered.amount_received or tampered.amount) - 1
        uow.payments.save(tampered)
        uow.commit()

    first = _reconcile(own, since)
    again = _reconcile(own, since)

    kinds = sorted(m.kind for m in first.mismatches)
    assert kinds == sorted([MismatchKind.MISSING_HERE, MismatchKind.AMOUNT_DIFFERS])
    assert [(m.kind, m.ref, m.ours, m.theirs) for m in again.mismatches] == [
        (m.kind, m.ref, m.ours, m.theirs) for m in first.mismatches
    ]
    with own.uow_factory() as uow:
        stored = uow.reconciliation.latest(ProviderName.STRIPE)
    assert stored is not None
    assert stored.id == again.id
    assert [m.kind for m in stored.mismatches] == [m.kind for m in again.mismatches]

    with TestClient(create_app(container=own)) as client:
        admin = client.get("/v1/reconciliation/stripe", headers=bearer("ops", Role.ADMIN))
        buyer = client.get("/v1/reconciliation/stripe", headers=bearer(BUYER.user_id))
    assert admin.status_code == 200
    assert admin.json()["clean"] is False
    assert {m["kind"] for m in admin.json()["mismatches"]} == {"missing_here", "amount_differs"}
    assert buyer.status_code == 404
