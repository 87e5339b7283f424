"""A sponsor invoice paid through Stripe reconciles like any other money in, on SQLite and
PostgreSQL: the sandbox's balance lists the invoice's charge, and our books know it (the
sponsorship payment is recorded under that charge), so `reconcile --provider stripe` is clean;
Stripe's fee, read by the janitor, is booked once and compared; a payment we never heard of
and a fee booked wrong are still named.

The Stripe sandbox is this module's own and reset for each test, so its balance holds only what
the test did.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain import Money
from eventpay.domain.reconciliation import MismatchKind
from eventpay.ports import Role
from eventpay.ports.identity import ProviderName
from eventpay.sample_ids import OPEN_EVENT, ORGANIZER_ID
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import books, reconciliation
from eventpay.services.settlement import sponsorships as settlement
from eventpay.web import create_app
from eventpay.worker import Worker
from support.api import bearer
from support.events import signed_headers
from support.stack import WEBHOOK_SECRET, make_settings, seeded_container

OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
KEY = ("sk_test_lookup", "")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def own(database_url: str, sandbox: str) -> Iterator[Container]:
    httpx.post(f"{sandbox}/_sandbox/reset").raise_for_status()
    with seeded_container(make_settings(database_url, sandbox)) as built:
        yield built


def _paid_sponsorship(client: TestClient, sandbox: str, price: int) -> tuple[str, str]:
    made = client.post(
        f"/v1/events/{OPEN_EVENT}/sponsor-packages",
        json={"kind": "booth", "name": "Booth", "price": price, "quantity": 5},
        headers=OWNER,
    )
    assert made.status_code == 201, made.text
    issued = client.post(
        f"/v1/events/{OPEN_EVENT}/sponsorships",
        json={
            "package_id": made.json()["id"],
            "sponsor": {"name": "Amp Works", "email": "ads@ampworks.example"},
            "provider": "stripe",
            "net_days": 30,
        },
        headers=OWNER,
    )
    assert issued.status_code == 201, issued.text
    invoice_id = issued.json()["provider_invoice_id"]
    paid = httpx.post(
        f"{sandbox}/sandbox/invoices/{invoice_id}/pay", json={"payment_method": "pm_card_visa"}
    )
    assert paid.is_success, paid.text
    return issued.json()["id"], invoice_id


def _deliver_all(client: TestClient, container: Container, sandbox: str) -> None:
    """Every event the sandbox emitted, signed, oldest first; then the worker applies them."""
    events = httpx.get(f"{sandbox}/v1/events", params={"limit": 100}, auth=KEY).json()["data"]
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        body = httpx.Request("POST", "http://x", json=event).content
        answer = client.post(
            "/v1/webhooks/stripe",
            content=body,
            headers=signed_headers(
                body, WEBHOOK_SECRET, timestamp=int(container.clock().timestamp())
            ),
        )
        assert answer.is_success, answer.text
    Worker(container).run_once()
    with container.engine.connect() as conn:
        stuck = conn.execute(
            text("SELECT type, last_error FROM webhook_events WHERE status = 'failed'")
        ).all()
    assert stuck == [], stuck


def _reconcile(
    container: Container, since: datetime, *, bulk: bool = True
) -> reconciliation.ReconciliationRun:
    return reconciliation.reconcile(
        uow_factory=container.uow_factory,
        providers=container.providers,
        provider=ProviderName.STRIPE,
        since=since,
        now=datetime.now(UTC) + timedelta(seconds=5),
        bulk=bulk,
    )


def test_a_sponsor_invoice_paid_through_stripe_reconciles_clean(
    own: Container, sandbox: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    with TestClient(create_app(container=own), raise_server_exceptions=False) as client:
        sid, _ = _paid_sponsorship(client, sandbox, price=40_000)
        _deliver_all(client, own, sandbox)
        shown = client.get(f"/v1/events/{OPEN_EVENT}/sponsorships", headers=OWNER).json()
    assert [s["status"] for s in shown["sponsorships"] if s["id"] == sid] == ["paid"]

    run = _reconcile(own, since)
    assert run.theirs == 1  # the invoice's charge, as Stripe's balance lists it
    assert run.ours == 1
    assert run.mismatches == []

    # Stripe's fee, read after the fact by the janitor, is booked once and compared.
    Worker(own).run_janitor()
    Worker(own).run_janitor()
    (charge,) = _payment_refs(own, sid)
    stripe_fee = _stripe_fee(sandbox, charge)
    assert stripe_fee > 0
    assert _booked_fees(own) == [(f"sponsorship:stripe:{charge}:fee", stripe_fee)]
    again = _reconcile(own, since)
    assert again.mismatches == []
    paged = _reconcile(own, since, bulk=False)  # movement by movement: the same answer
    assert (paged.ours, paged.theirs, paged.mismatches) == (1, 1, [])
    assert books.verify(uow_factory=own.uow_factory).problems == []


def test_a_sponsor_fee_booked_wrong_is_named(own: Container, sandbox: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    with TestClient(create_app(container=own), raise_server_exceptions=False) as client:
        sid, _ = _paid_sponsorship(client, sandbox, price=30_000)
        _deliver_all(client, own, sandbox)
    (charge,) = _payment_refs(own, sid)
    with own.uow_factory() as uow:
        payment = uow.sponsorships.payment(ProviderName.STRIPE, charge, for_update=True)
        assert payment is not None
        wrong = Money(_stripe_fee(sandbox, charge) + 1, "usd")
        assert settlement.payment_fee_known(uow, payment, wrong, actor="test", now=own.clock())
        uow.commit()

    for bulk in (True, False):
        run = _reconcile(own, since, bulk=bulk)
        assert [(m.kind, m.ref) for m in run.mismatches] == [(MismatchKind.FEE_DIFFERS, charge)]


def _payment_refs(container: Container, sponsorship_id: str) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT payment_ref FROM sponsorship_payments WHERE sponsorship_id = :s"),
            {"s": sponsorship_id},
        ).scalars()
        return [str(r) for r in rows]


def _stripe_fee(sandbox: str, charge: str) -> int:
    found = httpx.get(
        f"{sandbox}/v1/charges/{charge}", params={"expand[]": "balance_transaction"}, auth=KEY
    ).json()
    return int(found["balance_transaction"]["fee"])


def _booked_fees(container: Container) -> list[tuple[str, int]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.cause, l.amount FROM ledger_transactions t JOIN ledger_postings l"
                " ON l.transaction_id = t.id WHERE t.kind = 'provider_fee'"
                " AND l.kind = 'provider_fee_expense'"
            )
        ).all()
    return [(str(cause), int(amount)) for cause, amount in rows]


def test_a_sponsor_charge_we_never_recorded_is_named(own: Container, sandbox: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    with TestClient(create_app(container=own), raise_server_exceptions=False) as client:
        _paid_sponsorship(client, sandbox, price=12_500)
        # No event delivered: Stripe holds the money, our books do not.
    run = _reconcile(own, since)
    assert [(m.kind, m.theirs.amount if m.theirs else None) for m in run.mismatches] == [
        (MismatchKind.MISSING_HERE, 12_500)
    ]
