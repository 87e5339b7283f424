"""Refund quotes and refund requests over HTTP, on SQLite and PostgreSQL, against the sandboxes.

The sample "Spring Sound-Off" publishes: full refund until 14 days before the event, then a
20 % late-withdrawal fee until it starts, nothing afterwards. Time is moved by giving the
container a later clock, as the service would see it on that day.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_data import MEMBER_ID
from eventpay.worker import Worker
from support.api import bearer, confirm_at_sandbox, create_order, start_payment
from support.events import signed_headers
from support.stack import WEBHOOK_SECRET

ADMIN = bearer("ops-1", Role.ADMIN)


def _paid_order(client: TestClient, container: Container, stripe_sandbox: str) -> dict[str, Any]:
    order = create_order(client, MEMBER_ID)
    payment = start_payment(client, MEMBER_ID, order["id"])
    assert confirm_at_sandbox(stripe_sandbox, payment["client_secret"], "pm_card_visa").is_success
    intent_id = payment["client_secret"].split("_secret_")[0]
    events = httpx.get(
        f"{stripe_sandbox}/v1/events",
        params={"type": "payment_intent.succeeded", "limit": 100},
        auth=("sk_test_lookup", ""),
    ).json()["data"]
    (event,) = [e for e in events if e["data"]["object"]["id"] == intent_id]
    body = httpx.Request("POST", "http://x", json=event).content
    assert client.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
    ).is_success
    Worker(container).run_once()
    paid: dict[str, Any] = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert paid["status"] == "paid"
    return paid


def _at(container: Container, when: datetime) -> None:
    container.clock = lambda: when


def _spring(client: TestClient) -> dict[str, Any]:
    data: dict[str, Any] = client.get("/v1/events/spring-sound-off").json()
    return data


def _stripe_refunds(stripe_sandbox: str, order: dict[str, Any]) -> list[int]:
    """The refunds Stripe made on the order's card payment, oldest first."""
    (intent_id,) = [p["provider_ref"] for p in order["payments"]]
    refunds = httpx.get(
        f"{stripe_sandbox}/v1/refunds",
        auth=("sk_test_x", ""),
        params={"payment_intent": intent_id, "limit": 100},
    )
    return [r["amount"] for r in reversed(refunds.json()["data"])]


def test_the_catalog_publishes_the_refund_terms(client: TestClient) -> None:
    policy = _spring(client)["refund_policy"]
    assert policy["late_fee_percent"] == "20"
    assert "20 % late-withdrawal fee" in policy["summary"]


def test_a_withdrawal_before_the_cutoff_refunds_everything(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    quote = client.get(f"/v1/orders/{order['id']}/refund-quote", headers=bearer(MEMBER_ID))
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert q["rule"] == "full_before_cutoff"
    assert q["refundable"] == order["total"]
    assert q["kept"]["amount"] == 0
    assert [o["option"] for o in q["options"] if o["available"]] == ["refund"]

    response = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "car broke down"},
        headers={**bearer(MEMBER_ID), "Idempotency-Key": "withdraw-1"},
    )

    assert response.status_code == 201, response.text
    refund = response.json()
    assert (refund["status"], refund["amount"], refund["kind"]) == (
        "succeeded",
        order["total"],
        "customer",
    )
    after = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert after["status"] == "refunded"
    assert [r["status"] for r in after["registrations"]] == ["cancelled"]
    assert _stripe_refunds(stripe_sandbox, order) == [order["total"]["amount"]]
    again = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "car broke down"},
        headers={**bearer(MEMBER_ID), "Idempotency-Key": "withdraw-1"},
    )
    assert (again.status_code, again.json()) == (201, refund)  # replayed, not refunded twice
    second = client.post(
        f"/v1/orders/{order['id']}/refunds", json={"reason": "twice"}, headers=bearer(MEMBER_ID)
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "nothing_to_refund"
    assert _stripe_refunds(stripe_sandbox, order) == [order["total"]["amount"]]
    trail = client.get(f"/v1/orders/{order['id']}/audit", headers=ADMIN).json()
    actions = [row["action"] for row in trail]
    for action in ("order.refund_requested", "refund.requested", "registration.cancelled"):
        assert actions.count(action) == 1, action


def test_a_late_withdrawal_keeps_the_published_fee(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    cutoff = datetime.fromisoformat(_spring(client)["refund_policy"]["refund_cutoff_at"])
    _at(container, cutoff + timedelta(days=1))
    total = order["total"]["amount"]
    fee = (total * 20 + 50) // 100  # 20 %, half up

    q = client.get(f"/v1/orders/{order['id']}/refund-quote", headers=bearer(MEMBER_ID)).json()
    assert q["rule"] == "late_with_fee"
    assert (q["refundable"]["amount"], q["kept"]["amount"]) == (total - fee, fee)

    too_much = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "sick", "amount": total},
        headers=bearer(MEMBER_ID),
    )
    assert too_much.status_code == 422
    assert too_much.json()["error"]["details"]["allowed"] == total - fee
    response = client.post(
        f"/v1/orders/{order['id']}/refunds", json={"reason": "sick"}, headers=bearer(MEMBER_ID)
    )
    assert response.status_code == 201, response.text
    assert response.json()["amount"]["amount"] == total - fee
    after = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert after["status"] == "partially_refunded"
    assert [r["status"] for r in after["registrations"]] == ["cancelled"]
    assert _stripe_refunds(stripe_sandbox, order) == [total - fee]


def test_nothing_comes_back_once_the_event_started_except_by_an_admin(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    _at(container, datetime.fromisoformat(_spring(client)["starts_at"]))
    q = client.get(f"/v1/orders/{order['id']}/refund-quote", headers=bearer(MEMBER_ID)).json()
    assert (q["rule"], q["refundable"]["amount"]) == ("event_started", 0)
    assert q["held"] == order["total"]
    refused = client.post(
        f"/v1/orders/{order['id']}/refunds", json={"reason": "please"}, headers=bearer(MEMBER_ID)
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["rule"] == "event_started"

    goodwill = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={
            "reason": "sound system failed at the venue",
            "amount": {"amount": 1000, "currency": "USD"},
        },
        headers=ADMIN,
    )

    assert goodwill.status_code == 201, goodwill.text
    assert (goodwill.json()["kind"], goodwill.json()["amount"]["amount"]) == ("operator", 1000)
    after = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert after["status"] == "partially_refunded"
    assert [r["status"] for r in after["registrations"]] == ["confirmed"]  # still competing
    assert _stripe_refunds(stripe_sandbox, order) == [1000]


def test_bad_refund_requests_are_refused_and_change_nothing(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    url = f"/v1/orders/{order['id']}/refunds"
    cases: list[tuple[dict[str, Any], dict[str, str], int, str]] = [
        ({"reason": "x", "method": "credit"}, bearer(MEMBER_ID), 422, "refund_method_unavailable"),
        ({"reason": "x", "amount": 0}, bearer(MEMBER_ID), 422, "validation_error"),
        ({"reason": "x", "amount": -5}, bearer(MEMBER_ID), 422, "validation_error"),
        ({"reason": "x", "amount": 10.5}, bearer(MEMBER_ID), 422, "validation_error"),
        ({"reason": ""}, bearer(MEMBER_ID), 422, "validation_error"),
        ({"amount": 100}, bearer(MEMBER_ID), 422, "validation_error"),
        ({"reason": "x", "price": 1}, bearer(MEMBER_ID), 422, "validation_error"),
        (
            {"reason": "x", "amount": {"amount": 100, "currency": "eur"}},
            bearer(MEMBER_ID),
            422,
            "currency_mismatch",
        ),
        ({"reason": "x"}, bearer("competitor-9999"), 404, "order_not_found"),
    ]
    for body, headers, status, code in cases:
        response = client.post(url, json=body, headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    assert client.post(url, json={"reason": "x"}).status_code == 401
    assert client.get(f"/v1/orders/{order['id']}/refund-quote").status_code == 401
    stranger = client.get(
        f"/v1/orders/{order['id']}/refund-quote", headers=bearer("competitor-9999")
    )
    assert stranger.status_code == 404
    after = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert after["refunds"] == []
    assert after["status"] == "paid"
    assert _stripe_refunds(stripe_sandbox, order) == []


def test_an_unpaid_order_has_nothing_to_refund(client: TestClient) -> None:
    order = create_order(client, MEMBER_ID)
    q = client.get(f"/v1/orders/{order['id']}/refund-quote", headers=bearer(MEMBER_ID)).json()
    assert (q["refundable"]["amount"], q["held"]["amount"]) == (0, 0)
    response = client.post(
        f"/v1/orders/{order['id']}/refunds", json={"reason": "x"}, headers=bearer(MEMBER_ID)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "nothing_to_refund")


def test_concurrent_withdrawals_refund_once(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def withdraw(n: int) -> None:
        barrier.wait()
        statuses.append(
            client.post(
                f"/v1/orders/{order['id']}/refunds",
                json={"reason": f"attempt {n}"},
                headers=bearer(MEMBER_ID),
            ).status_code
        )

    threads = [threading.Thread(target=withdraw, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 409, 409, 409]
    assert _stripe_refunds(stripe_sandbox, order) == [order["total"]["amount"]]


def _refund_at_stripe(stripe_sandbox: str, order: dict[str, Any], **params: Any) -> dict[str, Any]:
    """A refund made the way the Stripe dashboard makes it: by the secret key, nothing of ours."""
    (intent_id,) = [p["provider_ref"] for p in order["payments"]]
    response = httpx.post(
        f"{stripe_sandbox}/v1/refunds",
        auth=("sk_test_dashboard", ""),
        data={"payment_intent": intent_id, **params},
    )
    assert response.status_code == 200, response.text
    refund: dict[str, Any] = response.json()
    return refund


def _deliver_stripe_events(
    client: TestClient, stripe_sandbox: str, event_type: str, refund_id: str
) -> list[dict[str, Any]]:
    """Deliver, signed, the sandbox's `event_type` events about the refund; returns them."""
    events = httpx.get(
        f"{stripe_sandbox}/v1/events",
        params={"type": event_type, "limit": 100},
        auth=("sk_test_lookup", ""),
    ).json()["data"]
    mine = [e for e in events if e["data"]["object"]["id"] == refund_id]
    for event in mine:
        body = httpx.Request("POST", "http://x", json=event).content
        delivered = client.post(
            "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
        )
        assert delivered.is_success, delivered.text
    return mine


def test_a_refund_made_in_the_stripe_dashboard_is_recorded(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    refund = _refund_at_stripe(stripe_sandbox, order)

    (created,) = _deliver_stripe_events(client, stripe_sandbox, "refund.created", refund["id"])
    Worker(container).run_once()

    after = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert after["status"] == "refunded"
    (recorded,) = after["refunds"]
    assert (recorded["kind"], recorded["status"], recorded["provider"]) == (
        "external",
        "succeeded",
        "stripe",
    )
    assert recorded["provider_refund_id"] == refund["id"]
    assert recorded["amount"] == order["total"]
    assert "outside eventpay" in recorded["reason"]
    trail = client.get(f"/v1/orders/{order['id']}/audit", headers=ADMIN).json()
    (row,) = [r for r in trail if r["action"] == "refund.recorded_external"]
    assert row["details"] == {
        "amount": order["total"]["amount"],
        "currency": order["currency"],
        "provider_refund_id": refund["id"],
        "status": "succeeded",
    }

    # Later news of the same refund (the organizer adds a note in the dashboard: Stripe sends
    # refund.updated) and a repeated delivery find the recorded refund and add nothing.
    noted = httpx.post(
        f"{stripe_sandbox}/v1/refunds/{refund['id']}",
        auth=("sk_test_dashboard", ""),
        data={"metadata[note]": "goodwill"},
    )
    assert noted.status_code == 200, noted.text
    (updated,) = _deliver_stripe_events(client, stripe_sandbox, "refund.updated", refund["id"])
    body = httpx.Request("POST", "http://x", json=created).content
    assert client.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
    ).is_success
    Worker(container).run_once()
    again = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert again["refunds"] == after["refunds"]
    assert again["status"] == "refunded"
    trail = client.get(f"/v1/orders/{order['id']}/audit", headers=ADMIN).json()
    assert [r["action"] for r in trail].count("refund.recorded_external") == 1
    with container.uow_factory() as uow:
        stored = {e.event_id: e.status.value for e in uow.webhooks.list(status=None, limit=1000)}
    assert (stored[created["id"]], stored[updated["id"]]) == ("processed", "processed")
    # Should two workers race past the service's checks, the database refuses a second row.
    with container.uow_factory() as uow:
        (row_of_it,) = uow.refunds.list_for_order(order["id"])
        twin = dataclasses.replace(row_of_it, id="twin", idempotency_key="twin-key")
        with pytest.raises(IntegrityError):
            uow.refunds.add(twin)


def test_a_partial_dashboard_refund_is_taken_off_the_withdrawal(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order = _paid_order(client, container, stripe_sandbox)
    total = order["total"]["amount"]
    refund = _refund_at_stripe(stripe_sandbox, order, amount=1000)
    _deliver_stripe_events(client, stripe_sandbox, "refund.created", refund["id"])
    Worker(container).run_once()
    after = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert after["status"] == "partially_refunded"

    q = client.get(f"/v1/orders/{order['id']}/refund-quote", headers=bearer(MEMBER_ID)).json()
    assert q["already_refunded"]["amount"] == 1000
    assert (q["refundable"]["amount"], q["held"]["amount"]) == (total - 1000, total - 1000)
    response = client.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "cannot come"},
        headers=bearer(MEMBER_ID),
    )

    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["amount"]["amount"]) == (
        "succeeded",
        total - 1000,
    )
    final = client.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert final["status"] == "refunded"
    assert sorted(r["kind"] for r in final["refunds"]) == ["customer", "external"]
    assert _stripe_refunds(stripe_sandbox, order) == [1000, total - 1000]
