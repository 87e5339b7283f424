"""PayPal through the whole service, on SQLite and PostgreSQL, against the PayPal sandbox.

The sandbox delivers its signed webhooks to the running API over HTTP; the worker is run by the
test (`run_once`) so each step is observable. The buyer's browser is played by following the
redirects the sandbox and the service send.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_data import MEMBER_ID
from eventpay.services import books, janitor
from eventpay.serving import ThreadedServer
from eventpay.worker import Worker
from support.api import bearer, confirm_at_sandbox, registration
from support.paypal_stack import paypal_stack

WEBHOOK_ID = "WH-INTEGRATION-TEST"
CLIENT_RETURN = "https://app.example.test/checkout/done"


@dataclass
class PayPalWorld:
    api: httpx.Client
    paypal: str
    container: Container

    def order(self) -> dict[str, Any]:
        response = self.api.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID))
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def pay_with_paypal(self, order_id: str) -> tuple[dict[str, Any], str]:
        response = self.api.post(
            f"/v1/orders/{order_id}/payments",
            json={"provider": "paypal", "return_url": CLIENT_RETURN},
            headers=bearer(MEMBER_ID),
        )
        assert response.status_code == 201, response.text
        payment: dict[str, Any] = response.json()
        token = payment["approve_url"].split("token=")[1].split("&")[0]
        return payment, token

    def card_attempt(self, order_id: str) -> dict[str, Any]:
        """A card payment attempt of the order (another tab), not confirmed yet."""
        response = self.api.post(
            f"/v1/orders/{order_id}/payments",
            json={"provider": "stripe"},
            headers=bearer(MEMBER_ID),
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def refund_events(self, capture_id: str) -> list[dict[str, Any]]:
        """PayPal's PAYMENT.CAPTURE.REFUNDED events about the capture."""
        return [
            e
            for e in self.sandbox("GET", "/_sandbox/events")["data"]
            if e["event_type"] == "PAYMENT.CAPTURE.REFUNDED"
            and any(
                link["href"].endswith(f"/captures/{capture_id}") for link in e["resource"]["links"]
            )
        ]

    def sandbox(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = httpx.request(method, f"{self.paypal}{path}", **kwargs)
        response.raise_for_status()
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    def approve(self, token: str) -> str:
        """The buyer approves; returns the URL PayPal sends the browser back to."""
        url: str = self.sandbox("POST", f"/_sandbox/orders/{token}/approve")["redirect_url"]
        return url

    def browse(self, url: str) -> httpx.Response:
        return httpx.get(url, follow_redirects=False, timeout=10)

    def view(self, order_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self.api.get(
            f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID)
        ).json()
        return data

    def actions(self, order_id: str) -> list[str]:
        trail = self.api.get(f"/v1/orders/{order_id}/audit", headers=bearer("ops", Role.ADMIN))
        return [row["action"] for row in trail.json()]

    def stored_events(self) -> int:
        with self.container.uow_factory() as uow:
            return len(uow.webhooks.list(status=None, limit=1000))

    def wait_for_events(self, count: int) -> None:
        wait_until(lambda: self.stored_events() >= count, f"{count} stored webhook events")
        Worker(self.container).run_once()

    def captures_at_paypal(self, token: str) -> list[dict[str, Any]]:
        events = self.sandbox("GET", "/_sandbox/events")["data"]
        return [
            e
            for e in events
            if e["event_type"].startswith("PAYMENT.CAPTURE.")
            and e["resource"].get("supplementary_data", {}).get("related_ids", {}).get("order_id")
            == token
        ]


def wait_until(predicate: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def world(database_url: str, stripe_sandbox: str) -> Iterator[PayPalWorld]:
    with paypal_stack(database_url, stripe_sandbox, webhook_id=WEBHOOK_ID) as stack:
        client, paypal, container = stack
        yield PayPalWorld(api=client, paypal=paypal, container=container)


def test_buyer_return_captures_and_pays_once(world: PayPalWorld) -> None:
    order = world.order()
    payment, token = world.pay_with_paypal(order["id"])
    assert payment["status"] == "requires_action"
    assert payment["amount"] == order["total"]
    back = world.browse(world.approve(token))
    assert back.status_code == 303
    assert back.headers["location"].startswith(CLIENT_RETURN + "?")
    assert "status=succeeded" in back.headers["location"]
    view = world.view(order["id"])
    assert view["status"] == "paid"
    assert view["registrations"][0]["status"] == "confirmed"
    # APPROVED and CAPTURE.COMPLETED arrive afterwards and change nothing.
    world.wait_for_events(2)
    assert world.actions(order["id"]).count("order.paid") == 1
    assert world.actions(order["id"]).count("payment.succeeded") == 1
    assert len(world.captures_at_paypal(token)) == 1


def test_webhook_alone_captures_when_the_buyer_never_returns(world: PayPalWorld) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    world.approve(token)  # the browser is closed: nobody follows the redirect
    world.wait_for_events(1)  # CHECKOUT.ORDER.APPROVED → the worker captures
    wait_until(lambda: world.view(order["id"])["status"] == "paid", "order paid")
    world.wait_for_events(2)
    assert world.actions(order["id"]).count("order.paid") == 1
    assert len(world.captures_at_paypal(token)) == 1


def test_return_and_webhook_racing_capture_once(world: PayPalWorld) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    back = world.approve(token)
    wait_until(lambda: world.stored_events() >= 1, "the approval webhook")
    barrier = threading.Barrier(6)
    results: list[int] = []

    def returning() -> None:
        barrier.wait()
        results.append(world.browse(back).status_code)

    def working() -> None:
        barrier.wait()
        Worker(world.container).run_once()

    threads = [threading.Thread(target=returning) for _ in range(5)]
    threads.append(threading.Thread(target=working))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [303] * 5
    world.wait_for_events(2)
    actions = world.actions(order["id"])
    assert actions.count("payment.succeeded") == 1
    assert actions.count("order.paid") == 1
    assert actions.count("registration.confirmed") == 1
    assert len(world.captures_at_paypal(token)) == 1
    assert world.view(order["id"])["status"] == "paid"


def test_buyer_cancel_ends_the_attempt_not_the_order(world: PayPalWorld) -> None:
    order = world.order()
    payment, token = world.pay_with_paypal(order["id"])
    cancel = world.sandbox("POST", f"/_sandbox/orders/{token}/cancel")["redirect_url"]
    back = world.browse(cancel)
    assert back.status_code == 303
    assert "status=canceled" in back.headers["location"]
    view = world.view(order["id"])
    assert view["status"] == "awaiting_payment"
    assert [p["status"] for p in view["payments"]] == ["canceled"]
    again, _ = world.pay_with_paypal(order["id"])
    assert again["id"] != payment["id"]


def test_declined_capture_fails_the_attempt_with_paypals_reason(world: PayPalWorld) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    world.sandbox("POST", f"/_sandbox/orders/{token}/capture-outcome", json={"status": "DECLINED"})
    back = world.browse(world.approve(token))
    assert "status=failed" in back.headers["location"]
    view = world.view(order["id"])
    assert view["status"] == "awaiting_payment"
    assert view["payments"][0]["status"] == "failed"
    assert view["payments"][0]["failure_code"]


def test_pending_capture_waits_for_paypal(world: PayPalWorld) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    world.sandbox("POST", f"/_sandbox/orders/{token}/capture-outcome", json={"status": "PENDING"})
    back = world.browse(world.approve(token))
    assert "status=processing" in back.headers["location"]
    assert world.view(order["id"])["status"] == "awaiting_payment"
    (pending,) = world.captures_at_paypal(token)
    world.sandbox("POST", f"/_sandbox/captures/{pending['resource']['id']}/complete")
    wait_until(lambda: len(world.captures_at_paypal(token)) == 2, "the completion event")
    world.wait_for_events(3)
    assert world.view(order["id"])["status"] == "paid"


def _stripe_events(stripe_sandbox: str, event_type: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = httpx.get(
        f"{stripe_sandbox}/v1/events",
        params={"type": event_type, "limit": 100},
        auth=("sk_test_x", ""),
    ).json()["data"]
    return data


def _post_stripe_event(world: PayPalWorld, event: dict[str, Any]) -> None:
    from support.events import signed_headers
    from support.stack import WEBHOOK_SECRET

    body = httpx.Request("POST", "http://x", json=event).content
    response = world.api.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
    )
    assert response.is_success, response.text


def _pay_by_card(world: PayPalWorld, stripe_sandbox: str, client_secret: str) -> None:
    """The buyer pays by card in another tab and Stripe's success webhook is applied."""
    assert confirm_at_sandbox(stripe_sandbox, client_secret, "pm_card_visa").status_code == 200
    intent_id = client_secret.split("_secret_")[0]
    (paid,) = [
        e
        for e in _stripe_events(stripe_sandbox, "payment_intent.succeeded")
        if e["data"]["object"]["id"] == intent_id
    ]
    _post_stripe_event(world, paid)
    Worker(world.container).run_once()


def test_an_automatic_refund_that_fails_later_is_marked_failed(
    world: PayPalWorld, stripe_sandbox: str
) -> None:
    order = world.order()
    card = world.card_attempt(order["id"])
    _, token = world.pay_with_paypal(order["id"])
    world.browse(world.approve(token))
    confirm_at_sandbox(stripe_sandbox, card["client_secret"], "pm_card_refundFail")
    intent_id = card["client_secret"].split("_secret_")[0]
    (paid,) = [
        e
        for e in _stripe_events(stripe_sandbox, "payment_intent.succeeded")
        if e["data"]["object"]["id"] == intent_id
    ]
    _post_stripe_event(world, paid)
    Worker(world.container).run_once()
    Worker(world.container).run_janitor()
    (refund,) = world.view(order["id"])["refunds"]
    assert refund["status"] == "succeeded"

    def failed_event() -> list[dict[str, Any]]:
        return [
            e
            for e in _stripe_events(stripe_sandbox, "refund.failed")
            if e["data"]["object"]["payment_intent"] == intent_id
        ]

    wait_until(lambda: bool(failed_event()), "Stripe's refund.failed")
    _post_stripe_event(world, failed_event()[0])
    Worker(world.container).run_once()
    (refund,) = world.view(order["id"])["refunds"]
    assert refund["status"] == "failed"
    assert world.actions(order["id"]).count("refund.failed") == 1


def test_paying_twice_with_two_providers_refunds_the_second(
    world: PayPalWorld, stripe_sandbox: str
) -> None:
    order = world.order()
    stripe_payment = world.card_attempt(order["id"])
    _, token = world.pay_with_paypal(order["id"])
    world.browse(world.approve(token))
    assert world.view(order["id"])["status"] == "paid"
    # The other tab: the card payment goes through too.
    _pay_by_card(world, stripe_sandbox, stripe_payment["client_secret"])
    intent_id = stripe_payment["client_secret"].split("_secret_")[0]
    view = world.view(order["id"])
    assert view["refunds"][0]["status"] == "pending"
    Worker(world.container).run_janitor()
    view = world.view(order["id"])
    (refund,) = view["refunds"]
    assert refund["status"] == "succeeded"
    assert refund["amount"] == order["total"]
    assert view["status"] == "paid"
    assert view["amount_paid"] == order["total"]
    actions = world.actions(order["id"])
    assert actions.count("order.overpaid") == 1
    assert actions.count("refund.succeeded") == 1
    refunds_at_stripe = httpx.get(
        f"{stripe_sandbox}/v1/refunds", params={"payment_intent": intent_id}, auth=("sk_test_x", "")
    ).json()["data"]
    assert [r["amount"] for r in refunds_at_stripe] == [order["total"]["amount"]]


def test_a_certificate_url_off_the_allow_list_is_refused_unfetched(world: PayPalWorld) -> None:
    body = b'{"id": "WH-FORGED", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}'
    hits: list[str] = []

    async def trap(scope: Any, receive: Any, send: Any) -> None:
        # An attacker's certificate server: it must never be asked.
        if scope["type"] == "http":
            hits.append(scope["path"])
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"not a cert"})

    with ThreadedServer(trap) as attacker:
        for cert_url in (
            "https://evil.example.com/v1/notifications/certs/CERT-1",
            f"{attacker.url}/v1/notifications/certs/CERT-1",
            f"{world.api.base_url}/v1/notifications/certs/CERT-1",
        ):
            headers = {
                "PAYPAL-TRANSMISSION-ID": "abc",
                "PAYPAL-TRANSMISSION-TIME": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "PAYPAL-TRANSMISSION-SIG": "Zm9yZ2Vk",
                "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                "PAYPAL-CERT-URL": cert_url,
            }
            refused = world.api.post("/v1/webhooks/paypal", content=body, headers=headers)
            assert refused.status_code == 400
            assert refused.json()["error"]["code"] == "cert_url_not_allowed"
    assert hits == []
    assert world.stored_events() == 0


def test_api_clients_capture_with_an_idempotency_key(world: PayPalWorld) -> None:
    order = world.order()
    payment, token = world.pay_with_paypal(order["id"])
    world.approve(token)  # the client handles the return itself
    url = f"/v1/payments/{payment['id']}/capture"
    stranger = world.api.post(url, headers=bearer("someone-else"))
    assert stranger.status_code == 404
    headers = {**bearer(MEMBER_ID), "Idempotency-Key": "capture-1"}
    first = world.api.post(url, headers=headers)
    again = world.api.post(url, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "succeeded"
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert world.view(order["id"])["status"] == "paid"
    assert len(world.captures_at_paypal(token)) == 1


def _janitor(world: PayPalWorld, *, later: timedelta = timedelta(minutes=2)) -> int:
    """One janitor capture run, `later` than now (a waiting attempt is first read after 1 min)."""
    c = world.container
    return janitor.capture_approved(
        uow_factory=c.uow_factory, providers=c.providers, clock=lambda: c.clock() + later
    )


def test_an_approval_after_the_order_was_paid_is_not_captured(
    world: PayPalWorld, stripe_sandbox: str
) -> None:
    order = world.order()
    card = world.card_attempt(order["id"])
    _, token = world.pay_with_paypal(order["id"])
    _pay_by_card(world, stripe_sandbox, card["client_secret"])
    assert world.view(order["id"])["status"] == "paid"

    back = world.browse(world.approve(token))  # the PayPal tab is approved afterwards

    assert "status=canceled" in back.headers["location"]
    world.wait_for_events(1)  # the approval webhook does not capture either
    assert world.captures_at_paypal(token) == []
    view = world.view(order["id"])
    assert view["status"] == "paid"
    assert view["refunds"] == []
    assert sorted(p["status"] for p in view["payments"]) == ["canceled", "succeeded"]
    trail = world.api.get(
        f"/v1/orders/{order['id']}/audit", headers=bearer("ops", Role.ADMIN)
    ).json()
    (skipped,) = [row for row in trail if row["action"] == "payment.canceled"]
    assert skipped["details"]["source"] == "capture_skipped"
    assert "paid" in skipped["details"]["reason"]


def test_a_lost_return_and_webhook_are_finished_by_the_janitor(world: PayPalWorld) -> None:
    order = world.order()
    payment, token = world.pay_with_paypal(order["id"])
    world.approve(token)  # the browser closes, and the approval webhook is not applied yet
    assert _janitor(world, later=timedelta(0)) == 0  # too early to ask PayPal

    assert _janitor(world) == 1

    view = world.view(order["id"])
    assert view["status"] == "paid"
    assert [p["status"] for p in view["payments"]] == ["succeeded"]
    assert len(world.captures_at_paypal(token)) == 1
    world.wait_for_events(2)  # the late webhooks change nothing
    assert world.actions(order["id"]).count("order.paid") == 1
    assert len(world.captures_at_paypal(token)) == 1
    assert payment["id"] == view["payments"][0]["id"]


def test_a_capture_answered_with_a_server_error_is_retried_not_failed(
    world: PayPalWorld,
) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    world.sandbox(
        "POST",
        "/_sandbox/faults",
        json={"path_prefix": f"/v2/checkout/orders/{token}/capture", "mode": "http_500"},
    )
    back = world.browse(world.approve(token))
    assert "status=requires_action" in back.headers["location"]
    assert world.view(order["id"])["status"] == "awaiting_payment"
    world.sandbox("DELETE", "/_sandbox/faults")

    _janitor(world)

    assert world.view(order["id"])["status"] == "paid"
    assert len(world.captures_at_paypal(token)) == 1
    assert "payment.failed" not in world.actions(order["id"])


def test_a_pending_paypal_capture_that_completes_after_a_card_payment_is_refunded(
    world: PayPalWorld, stripe_sandbox: str
) -> None:
    order = world.order()
    card = world.card_attempt(order["id"])
    _, token = world.pay_with_paypal(order["id"])
    world.sandbox("POST", f"/_sandbox/orders/{token}/capture-outcome", json={"status": "PENDING"})
    back = world.approve(token)
    assert "status=processing" in world.browse(back).headers["location"]
    _pay_by_card(world, stripe_sandbox, card["client_secret"])
    assert world.view(order["id"])["status"] == "paid"
    # The buyer reloads PayPal's return link: the money is already being taken, nothing ends.
    assert "status=processing" in world.browse(back).headers["location"]
    _janitor(world)
    assert sorted(p["status"] for p in world.view(order["id"])["payments"]) == [
        "processing",
        "succeeded",
    ]

    (pending,) = world.captures_at_paypal(token)
    capture_id = pending["resource"]["id"]
    world.sandbox("POST", f"/_sandbox/captures/{capture_id}/complete")
    wait_until(lambda: len(world.captures_at_paypal(token)) == 2, "the completion event")
    world.wait_for_events(3)
    Worker(world.container).run_janitor()  # sends the automatic refund

    view = world.view(order["id"])
    assert view["status"] == "paid"
    (refund,) = view["refunds"]
    assert (refund["provider"], refund["status"]) == ("paypal", "succeeded")
    assert refund["amount"] == order["total"]
    assert len(world.refund_events(capture_id)) == 1
    assert world.actions(order["id"]).count("order.overpaid") == 1


def test_a_withdrawal_refunds_the_paypal_capture(world: PayPalWorld) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    world.browse(world.approve(token))
    assert world.view(order["id"])["status"] == "paid"

    response = world.api.post(
        f"/v1/orders/{order['id']}/refunds",
        json={"reason": "cannot make it"},
        headers=bearer(MEMBER_ID),
    )

    assert response.status_code == 201, response.text
    refund = response.json()
    assert (refund["provider"], refund["status"]) == ("paypal", "succeeded")
    assert refund["amount"] == order["total"]
    (capture,) = [
        e for e in world.captures_at_paypal(token) if e["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    ]
    assert len(world.refund_events(capture["resource"]["id"])) == 1
    assert world.view(order["id"])["status"] == "refunded"
    # PayPal gave back part of its fee with the refund: the expense shrinks by that much.
    (event,) = world.refund_events(capture["resource"]["id"])
    fee_back = event["resource"]["seller_payable_breakdown"]["paypal_fee"]["value"]
    with world.container.uow_factory() as uow:
        returned = uow.ledger.postings_for_cause(f"refund:{refund['id']}:fee")
        kept = uow.ledger.postings_for_order(order["id"])
    expense = {p.account.kind.value: p.amount for p in returned}
    assert expense["provider_fee_expense"] == -round(float(fee_back) * 100)
    assert expense["provider_clearing"] == round(float(fee_back) * 100)
    fees = sum(p.amount for p in kept if p.account.kind.value == "provider_fee_expense")
    assert fees > 0  # the capture's fee less what came back
    world.wait_for_events(3)  # the REFUNDED webhook says it again: posted once
    with world.container.uow_factory() as uow:
        assert len(uow.ledger.postings_for_cause(f"refund:{refund['id']}:fee")) == 2
    assert books.verify(uow_factory=world.container.uow_factory).problems == []


def test_a_card_tab_left_open_cannot_pay_once_paypal_paid(
    world: PayPalWorld, stripe_sandbox: str
) -> None:
    order = world.order()
    card = world.card_attempt(order["id"])
    _, token = world.pay_with_paypal(order["id"])
    world.browse(world.approve(token))
    assert world.view(order["id"])["status"] == "paid"

    Worker(world.container).run_janitor()

    late = confirm_at_sandbox(stripe_sandbox, card["client_secret"], "pm_card_visa")
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "payment_intent_unexpected_state"
    view = world.view(order["id"])
    assert sorted(p["status"] for p in view["payments"]) == ["canceled", "succeeded"]
    assert view["refunds"] == []
    assert view["status"] == "paid"


def _refund_in_paypals_web_ui(world: PayPalWorld, capture_id: str, **body: Any) -> dict[str, Any]:
    """A refund made at PayPal by the merchant, not by us: no custom_id of ours."""
    settings = world.container.settings
    token = world.sandbox(
        "POST",
        "/v1/oauth2/token",
        auth=(settings.paypal_client_id, settings.paypal_client_secret.get_secret_value()),
        data={"grant_type": "client_credentials"},
    )["access_token"]
    return world.sandbox(
        "POST",
        f"/v2/payments/captures/{capture_id}/refund",
        json=body,
        headers={"Authorization": f"Bearer {token}", "PayPal-Request-Id": f"web-ui-{capture_id}"},
    )


def _stored_of_type(world: PayPalWorld, event_type: str) -> list[str]:
    with world.container.uow_factory() as uow:
        events = uow.webhooks.list(status=None, limit=1000)
    return [e.status.value for e in events if e.type == event_type]


def test_a_refund_made_in_paypals_web_ui_is_recorded(world: PayPalWorld) -> None:
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    world.browse(world.approve(token))
    assert world.view(order["id"])["status"] == "paid"
    (capture,) = [
        e for e in world.captures_at_paypal(token) if e["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    ]

    refund = _refund_in_paypals_web_ui(world, capture["resource"]["id"])
    wait_until(
        lambda: bool(_stored_of_type(world, "PAYMENT.CAPTURE.REFUNDED")),
        "PayPal's PAYMENT.CAPTURE.REFUNDED",
    )
    Worker(world.container).run_once()

    assert _stored_of_type(world, "PAYMENT.CAPTURE.REFUNDED") == ["processed"]
    view = world.view(order["id"])
    assert view["status"] == "refunded"
    (recorded,) = view["refunds"]
    assert (recorded["kind"], recorded["status"], recorded["provider"]) == (
        "external",
        "succeeded",
        "paypal",
    )
    assert recorded["provider_refund_id"] == refund["id"]
    assert recorded["amount"] == order["total"]
    trail = world.api.get(
        f"/v1/orders/{order['id']}/audit", headers=bearer("ops", Role.ADMIN)
    ).json()
    (row,) = [r for r in trail if r["action"] == "refund.recorded_external"]
    assert row["details"] == {
        "amount": order["total"]["amount"],
        "currency": order["currency"],
        "provider_refund_id": refund["id"],
        "status": "succeeded",
    }


def test_payout_item_webhooks_settle_payouts_once(world: PayPalWorld, stripe_sandbox: str) -> None:
    """PayPal's PAYMENT.PAYOUTS-ITEM.* webhooks, delivered to the API and applied by the
    worker, move each payout to its end; delivered again, they change nothing."""
    from eventpay.domain.payouts import PayoutStatus
    from eventpay.ports import Principal
    from eventpay.sample_ids import (
        PAYOUT_EVENT,
        PAYOUT_ORGANIZER_ID,
        UNCLAIMED_EVENT,
        UNCLAIMED_ORGANIZER_ID,
    )
    from eventpay.services import payouts
    from support.paid_orders import paid_order

    c = world.container
    admin = Principal(user_id="ops", role=Role.ADMIN)
    for event_id in (PAYOUT_EVENT, UNCLAIMED_EVENT):
        paid_order(c, stripe_sandbox, event_id=event_id, class_id=f"{event_id}-spl")
        payouts.release_reserve(
            uow_factory=c.uow_factory, caller=admin, event_id=event_id, reason="t", now=c.clock()
        )
    report = payouts.run(
        uow_factory=c.uow_factory, rails=c.payout_rails, clock=c.clock, actor="t", period="w"
    )
    assert report.sent == 2

    def status(organizer_id: str) -> PayoutStatus:
        (payout,) = payouts.list_payouts(
            uow_factory=c.uow_factory, caller=admin, organizer_id=organizer_id
        )
        return payout.status

    def settled() -> bool:
        Worker(c).run_once()
        return (status(PAYOUT_ORGANIZER_ID), status(UNCLAIMED_ORGANIZER_ID)) == (
            PayoutStatus.PAID,
            PayoutStatus.UNCLAIMED,
        )

    wait_until(settled, "the payout item webhooks")
    events = world.sandbox("GET", "/_sandbox/events")["data"]
    items = [e for e in events if e["event_type"].startswith("PAYMENT.PAYOUTS-ITEM.")]
    assert sorted(e["event_type"] for e in items) == [
        "PAYMENT.PAYOUTS-ITEM.SUCCEEDED",
        "PAYMENT.PAYOUTS-ITEM.UNCLAIMED",
    ]
    before = world.stored_events()
    for event in items:
        world.sandbox("POST", f"/_sandbox/events/{event['id']}/resend")
    wait_until(lambda: world.stored_events() >= before, "the resent events")
    Worker(c).run_once()
    with c.uow_factory() as uow:
        audit = [
            e.action
            for p in uow.payouts.list_for_organizer(PAYOUT_ORGANIZER_ID)
            for e in uow.audit.list_for_entity("payout", p.id)
        ]
    assert audit.count("payout.paid") == 1
    assert status(UNCLAIMED_ORGANIZER_ID) is PayoutStatus.UNCLAIMED


def _lapse_with_one_place(world: PayPalWorld) -> tuple[dict[str, Any], str, str]:
    """A member's PayPal order for the last place of SPL, approved only after it lapsed and its
    place was released; returns the order, the PayPal token and the buyer's return URL."""
    with world.container.uow_factory() as uow:
        assert uow.places.ensure_stock(
            "class:spring-spl", event_id="spring-sound-off", kind="class", capacity=1
        )
        uow.commit()
    order = world.order()
    _, token = world.pay_with_paypal(order["id"])
    expired = world.api.post(
        f"/v1/sandbox/orders/{order['id']}/expire", headers=bearer("ops", Role.ADMIN)
    )
    assert expired.status_code == 200, expired.text
    janitor.release_expired(uow_factory=world.container.uow_factory, clock=world.container.clock)
    return order, token, world.approve(token)


def test_approved_paypal_money_is_not_taken_when_the_lapsed_orders_places_were_sold(
    world: PayPalWorld,
) -> None:
    order, token, back_url = _lapse_with_one_place(world)
    other = world.api.post("/v1/orders", json=registration(), headers=bearer("competitor-late"))
    assert other.status_code == 201, other.text  # the released place went to someone else
    back = world.browse(back_url)
    assert back.status_code == 303
    assert world.captures_at_paypal(token) == []  # nothing taken, so nothing to refund
    view = world.view(order["id"])
    assert view["status"] == "expired"
    assert [p["status"] for p in view["payments"]] == ["canceled"]
    assert view["refunds"] == []
    actions = world.actions(order["id"])
    assert "payment.not_captured_places_gone" in actions
    assert "order.places_held_again" not in actions


def test_approved_paypal_money_is_taken_when_the_lapsed_orders_places_are_free(
    world: PayPalWorld,
) -> None:
    order, token, back_url = _lapse_with_one_place(world)
    back = world.browse(back_url)
    assert "status=succeeded" in back.headers["location"]
    assert len(world.captures_at_paypal(token)) == 1
    view = world.view(order["id"])
    assert view["status"] == "paid"
    assert view["refunds"] == []
    assert "order.places_held_again" in world.actions(order["id"])
    with world.container.uow_factory() as uow:
        statuses = sorted(p.status.value for p in uow.places.for_order(order["id"]))
    assert statuses == ["confirmed", "released"]
