"""Sponsor packages invoiced through PayPal Invoicing and Stripe Invoices, on SQLite and
PostgreSQL, against the project's sandboxes.

PayPal: the sponsor pays in two parts at the sandbox, which delivers its signed
INVOICING.INVOICE.PAID webhooks to the running API: partially paid, then paid and activated;
each payment recorded and posted once, also when an event is applied again. Stripe: the invoice
is paid on its hosted page (or is overdue), and the sandbox's events are delivered signed.
Also: one package left answers 409 sold_out, another organizer 404, the books verify clean.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.ports.identity import ProviderName
from eventpay.sample_ids import OPEN_EVENT, ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from eventpay.services import books, reconciliation
from eventpay.services.settlement import sponsorships as settlement
from eventpay.worker import Worker
from support.api import bearer
from support.events import signed_headers
from support.paypal_stack import paypal_stack
from support.stack import WEBHOOK_SECRET

OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = bearer("o-2", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
WEBHOOK_ID = "WH-SPONSOR-TEST"
KEY = ("sk_test_lookup", "")
SPONSOR = {"name": "Bass Monsters Inc.", "email": "sponsor@bassmonsters.example"}


def _package(client: Client, price: int = 50_000, quantity: int = 1) -> dict[str, Any]:
    made = client.post(
        f"/v1/events/{OPEN_EVENT}/sponsor-packages",
        json={"kind": "title", "name": "Title sponsor", "price": price, "quantity": quantity},
        headers=OWNER,
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def _issue(client: Client, package_id: str, provider: str) -> httpx.Response:
    answer = client.post(
        f"/v1/events/{OPEN_EVENT}/sponsorships",
        json={"package_id": package_id, "sponsor": SPONSOR, "provider": provider, "net_days": 14},
        headers=OWNER,
    )
    return answer  # type: ignore[return-value]


def _listed(client: Client, status: str | None = None) -> dict[str, dict[str, Any]]:
    params = {"status": status} if status else {}
    answer = client.get(f"/v1/events/{OPEN_EVENT}/sponsorships", params=params, headers=OWNER)
    assert answer.status_code == 200, answer.text
    return {s["id"]: s for s in answer.json()["sponsorships"]}


def _causes(container: Container) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT cause FROM ledger_transactions WHERE kind = 'sponsorship_paid'")
        ).scalars()
        return sorted(str(r) for r in rows)


def _payments(container: Container, sponsorship_id: str) -> list[tuple[str, int]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT payment_ref, amount FROM sponsorship_payments "
                "WHERE sponsorship_id = :s ORDER BY amount"
            ),
            {"s": sponsorship_id},
        ).all()
    return [(str(r[0]), int(r[1])) for r in rows]


def _audit(container: Container, sponsorship_id: str) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action FROM payment_audit_log WHERE entity_id = :s ORDER BY id"),
            {"s": sponsorship_id},
        ).scalars()
        return [str(r) for r in rows]


Client = TestClient | httpx.Client


# ---------------------------------------------------------------------------- PayPal


@dataclass
class World:
    api: httpx.Client
    paypal: str
    container: Container

    def until(self, check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            Worker(self.container).run_once()
            if check():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)


@pytest.fixture
def world(database_url: str, stripe_sandbox: str) -> Iterator[World]:
    with paypal_stack(database_url, stripe_sandbox, webhook_id=WEBHOOK_ID) as stack:
        client, paypal, container = stack
        yield World(api=client, paypal=paypal, container=container)


def _pay_paypal(world: World, invoice_id: str, value: str) -> None:
    paid = httpx.post(
        f"{world.paypal}/_sandbox/invoices/{invoice_id}/recipient-payments",
        json={"amount": {"currency_code": "USD", "value": value}},
    )
    assert paid.is_success, paid.text


def test_paypal_invoice_paid_in_two_parts_activates_once(world: World) -> None:
    package = _package(world.api, price=50_000)
    issued = _issue(world.api, package["id"], "paypal")
    assert issued.status_code == 201, issued.text
    sponsorship = issued.json()
    sid, invoice_id = sponsorship["id"], sponsorship["provider_invoice_id"]
    assert sponsorship["status"] == "invoiced"
    assert invoice_id
    assert sponsorship["invoice_url"].startswith(world.paypal)

    _pay_paypal(world, invoice_id, "200.00")
    world.until(lambda: _listed(world.api)[sid]["status"] == "partially_paid", "partly paid")
    assert _listed(world.api)[sid]["paid"]["amount"] == 20_000
    assert _listed(world.api)[sid]["activated_at"] is None

    _pay_paypal(world, invoice_id, "300.00")
    world.until(lambda: _listed(world.api)[sid]["status"] == "paid", "paid")
    shown = _listed(world.api)[sid]
    assert shown["paid"]["amount"] == 50_000
    assert shown["activated_at"] is not None
    assert [amount for _, amount in _payments(world.container, sid)] == [20_000, 30_000]
    assert len(_causes(world.container)) == 2

    # The last event again (a redelivery): it names both payments, and nothing changes.
    paypal = world.container.providers[ProviderName.PAYPAL]
    invoice = paypal.api.call("GET", f"/v2/invoicing/invoices/{invoice_id}")  # type: ignore[attr-defined]
    assert len(invoice["payments"]["transactions"]) == 2
    with world.container.uow_factory() as uow:
        applied = settlement.apply_provider_event(
            uow,
            paypal,
            name=ProviderName.PAYPAL,
            event_type="INVOICING.INVOICE.PAID",
            payload={"resource": invoice},
            now=world.container.clock(),
        )
        uow.commit()
    assert applied is True
    assert len(_payments(world.container, sid)) == 2
    assert len(_causes(world.container)) == 2
    assert _audit(world.container, sid).count("sponsorship.activated") == 1
    report = books.verify(uow_factory=world.container.uow_factory)
    assert report.problems == []


# ---------------------------------------------------------------------------- Stripe


def _deliver_invoice_events(
    client: TestClient, container: Container, sandbox: str, invoice_id: str
) -> list[str]:
    """Deliver, signed, the sandbox's events about the invoice and sponsor PaymentIntents;
    their types."""
    found = []
    for kind in ("invoice.paid", "invoice.overdue", "payment_intent.succeeded"):
        page = httpx.get(
            f"{sandbox}/v1/events", params={"type": kind, "limit": 100}, auth=KEY
        ).json()["data"]
        for event in page:
            obj = event["data"]["object"]
            if obj.get("id") == invoice_id or (
                obj.get("object") == "payment_intent"
                and (obj.get("metadata") or {}).get("eventpay_sponsorship")
            ):
                found.append(event)
    for event in sorted(found, key=lambda e: (e["created"], e["id"])):
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
            text(
                "SELECT type, last_error FROM webhook_events WHERE status NOT IN "
                "('processed', 'ignored')"
            )
        ).all()
    assert stuck == [], stuck
    return [str(e["type"]) for e in found]


def test_stripe_invoice_paid_on_its_hosted_page(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    package = _package(client, price=25_000)
    issued = _issue(client, package["id"], "stripe")
    assert issued.status_code == 201, issued.text
    sid, invoice_id = issued.json()["id"], issued.json()["provider_invoice_id"]
    invoice = httpx.get(f"{stripe_sandbox}/v1/invoices/{invoice_id}", auth=KEY).json()
    assert invoice["collection_method"] == "send_invoice"
    assert invoice["metadata"]["eventpay_sponsorship"] == sid
    assert invoice["amount_due"] == 25_000

    paid = httpx.post(
        f"{stripe_sandbox}/sandbox/invoices/{invoice_id}/pay",
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.is_success, paid.text
    delivered = _deliver_invoice_events(client, container, stripe_sandbox, invoice_id)
    # The invoice's PaymentIntent succeeded: its charge is the sponsor's payment (the id
    # Stripe's balance lists the money under), not unmatched money.
    assert "payment_intent.succeeded" in delivered
    charge = _charge_of(stripe_sandbox, invoice_id)
    shown = _listed(client)[sid]
    assert shown["status"] == "paid"
    assert shown["activated_at"] is not None
    assert _causes(container) == [f"sponsorship:stripe:{charge}"]
    _deliver_invoice_events(client, container, stripe_sandbox, invoice_id)
    assert _payments(container, sid) == [(charge, 25_000)]
    assert _causes(container) == [f"sponsorship:stripe:{charge}"]
    assert books.verify(uow_factory=container.uow_factory).problems == []


def _charge_of(sandbox: str, invoice_id: str) -> str:
    invoice = httpx.get(
        f"{sandbox}/v1/invoices/{invoice_id}",
        params={"expand[]": "payments.data.payment.payment_intent"},
        auth=KEY,
    ).json()
    intent = invoice["payments"]["data"][-1]["payment"]["payment_intent"]
    assert intent["metadata"]["eventpay_invoice"] == invoice_id
    return str(intent["latest_charge"])


def test_stripe_overdue_invoice_is_listed(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    package = _package(client, quantity=2)
    first = _issue(client, package["id"], "stripe").json()
    second = _issue(client, package["id"], "stripe").json()
    made = httpx.post(f"{stripe_sandbox}/_sandbox/invoices/{first['provider_invoice_id']}/overdue")
    assert made.is_success, made.text
    _deliver_invoice_events(client, container, stripe_sandbox, first["provider_invoice_id"])
    overdue = _listed(client, "overdue")
    assert list(overdue) == [first["id"]]
    assert overdue[first["id"]]["overdue"] is True
    assert _listed(client)[second["id"]]["overdue"] is False


def test_one_package_left_is_sold_once_and_cancel_gives_it_back(client: TestClient) -> None:
    package = _package(client, quantity=1)
    first = _issue(client, package["id"], "stripe")
    assert first.status_code == 201, first.text
    again = _issue(client, package["id"], "stripe")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "sold_out"
    listed = client.get(f"/v1/events/{OPEN_EVENT}/sponsor-packages")
    assert listed.status_code == 200, listed.text
    left = listed.json()
    assert [p["left"] for p in left if p["id"] == package["id"]] == [0]

    cancelled = client.post(
        f"/v1/events/{OPEN_EVENT}/sponsorships/{first.json()['id']}/cancel", headers=OWNER
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert _issue(client, package["id"], "stripe").status_code == 201


def test_another_organizer_gets_404(client: TestClient) -> None:
    package = _package(client)
    for method, path, body in (
        ("POST", "sponsor-packages", {"kind": "booth", "name": "Booth", "price": 100}),
        (
            "POST",
            "sponsorships",
            {"package_id": package["id"], "sponsor": SPONSOR, "provider": "stripe"},
        ),
        ("GET", "sponsorships", None),
    ):
        answer = client.request(method, f"/v1/events/{OPEN_EVENT}/{path}", json=body, headers=RIVAL)
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "event_not_found"


def test_paypal_invoice_payments_reconcile_clean(world: World) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    package = _package(world.api, price=40_000)
    issued = _issue(world.api, package["id"], "paypal")
    assert issued.status_code == 201, issued.text
    sid, invoice_id = issued.json()["id"], issued.json()["provider_invoice_id"]
    _pay_paypal(world, invoice_id, "150.00")
    # The sponsor hands over a cheque; the organizer records it on the invoice at PayPal.
    paypal = world.container.providers[ProviderName.PAYPAL]
    paypal.api.call(  # type: ignore[attr-defined]
        "POST",
        f"/v2/invoicing/invoices/{invoice_id}/payments",
        json={"method": "CHECK", "amount": {"currency_code": "USD", "value": "100.00"}},
        request_id=f"cheque-{invoice_id}",
    )
    _pay_paypal(world, invoice_id, "150.00")
    world.until(lambda: _listed(world.api)[sid]["status"] == "paid", "paid")
    refs = [ref for ref, _ in _payments(world.container, sid)]
    assert len(refs) == 3
    assert len([ref for ref in refs if ref.startswith("EXTR-")]) == 1

    for bulk in (True, False):
        run = reconciliation.reconcile(
            uow_factory=world.container.uow_factory,
            providers=world.container.providers,
            provider=ProviderName.PAYPAL,
            since=since,
            now=datetime.now(UTC) + timedelta(seconds=5),
            bulk=bulk,
        )
        # The two paid with PayPal, as its Transaction Search lists them and as our books hold
        # them; the cheque never went through PayPal and is on neither side.
        assert (run.ours, run.theirs) == (2, 2), bulk
        assert run.mismatches == [], bulk
