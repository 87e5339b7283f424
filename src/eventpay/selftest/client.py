"""The service under test as the self-test reaches it: the HTTP API, the sandboxes, tokens.

Only httpx: the self-test is a client of the API and of the sandboxes like any other, so it
imports nothing of the service; what its operator knows (secrets) comes in as `Credentials`.
The sandboxes' addresses, the publishable key and the PayPal client id come from
`GET /v1/payment-config`, as a browser learns them. What a scenario checks lives in the
*_scenarios modules, not here.

One competitor holds a class of an event once: a second order of theirs for it is refused
once the first is paid. The self-test runs again and again against one service, so each
scenario buys as a competitor never seen before (`new_buyer`), not as a fixed sample user.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from eventpay.sample_ids import (
    CLOSED_CLASS,
    CLOSED_EVENT,
    NON_MEMBER_ID,
    OPEN_CLASSES,
    OPEN_EVENT,
)
from eventpay.selftest.checks import (
    Problem,
    ScenarioFailed,
    ScenarioSkipped,
    eventually,
    expect,
    throughout,
)
from eventpay.selftest.credentials import ADMIN, COMPETITOR, Credentials
from eventpay.selftest.paypal_sandbox import PayPalSandbox, token_of

__all__ = ["CLOSED_CLASS", "CLOSED_EVENT", "OPEN_CLASSES", "OPEN_EVENT"]

PAYPAL_DISABLED = "PayPal is disabled: GET /v1/payment-config says paypal is null"
ADMIN_ID = "eventpay-selftest-admin"
# The sandbox takes any test-mode secret key; the service's own key never leaves its settings.
SANDBOX_API_KEY = "sk_test_eventpay_selftest"
HTTP_TIMEOUT_S = 10.0
RATE_LIMIT_WAIT_MAX_S = 30.0
"""The longest the self-test waits out one `429 Retry-After`, as a polite client would."""


class PoliteTransport(httpx.BaseTransport):
    """Waits out the service's rate limit (429 with Retry-After) and asks again, like a real
    client: running the self-test twice in a minute must not fail on the limit it checks for.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = RATE_LIMIT_WAIT_MAX_S,
    ) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._sleep = sleep
        self._max_wait_s = max_wait_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        waited = 0.0
        while True:
            response = self._inner.handle_request(request)
            if response.status_code != 429:
                return response
            try:
                delay = max(float(response.headers.get("Retry-After", "1")), 0.1)
            except ValueError:
                delay = 1.0
            if waited + delay > self._max_wait_s:
                return response
            response.close()
            self._sleep(delay)
            waited += delay

    def close(self) -> None:
        self._inner.close()


Order = dict[str, Any]


def registration(event_id: str = OPEN_EVENT, class_ids: Sequence[str] = OPEN_CLASSES[:1]) -> Order:
    """An order body with one registration line."""
    return {"items": [{"kind": "registration", "event_id": event_id, "class_ids": list(class_ids)}]}


def intent_id(client_secret: str) -> str:
    # Stripe.js derives the PaymentIntent id from the client secret the same way.
    return client_secret.split("_secret_")[0]


def payment_in(order: Order, payment_id: str) -> Order:
    for payment in order.get("payments", []):
        if payment.get("id") == payment_id:
            return dict(payment)
    raise ScenarioFailed(f"order {order.get('id')} does not list payment {payment_id}")


def describe(order: Order) -> str:
    """The parts of an order a FAIL line needs: its status, attempts and registrations."""
    payments = ", ".join(
        str(p.get("status")) + (f"/{p['failure_code']}" if p.get("failure_code") else "")
        for p in order.get("payments", [])
    )
    registrations = ", ".join(str(r.get("status")) for r in order.get("registrations", []))
    return f"order is {order.get('status')}, payments [{payments}], registrations [{registrations}]"


@dataclass(frozen=True)
class Sandbox:
    """The Stripe sandbox, used the way Stripe.js and a test script use it."""

    client: httpx.Client
    publishable_key: str

    def confirm(self, client_secret: str, payment_method: str) -> httpx.Response:
        """Confirm as Stripe.js does: the publishable key and the client secret, no secret key."""
        return self.client.post(
            f"/v1/payment_intents/{intent_id(client_secret)}/confirm",
            data={"client_secret": client_secret, "payment_method": payment_method},
            headers={"Authorization": f"Bearer {self.publishable_key}"},
        )

    def finish_challenge(self, challenge_url: str, *, succeed: bool) -> httpx.Response:
        """Press Complete or Fail on the 3-D Secure page (JSON answer: no form posted)."""
        return self.client.post(f"{challenge_url}/{'complete' if succeed else 'fail'}")

    def payment_intent(self, pi_id: str) -> Order:
        response = self.client.get(f"/v1/payment_intents/{pi_id}", headers=self._secret())
        intent: Order = expect(response, 200)
        return intent

    def refunds_of(self, pi_id: str) -> list[Order]:
        """The refunds Stripe holds for the PaymentIntent: the money that actually went back."""
        response = self.client.get(
            "/v1/refunds", params={"payment_intent": pi_id, "limit": 100}, headers=self._secret()
        )
        refunds: list[Order] = expect(response, 200).get("data", [])
        return refunds

    def event_for(self, event_type: str, pi_id: str) -> Order | None:
        """The newest event of `event_type` about the PaymentIntent, if the sandbox has one."""
        response = self.client.get(
            "/v1/events", params={"type": event_type, "limit": 100}, headers=self._secret()
        )
        for event in expect(response, 200).get("data", []):
            if event.get("data", {}).get("object", {}).get("id") == pi_id:
                found: Order = event
                return found
        return None

    def webhook_endpoints(self) -> list[Order]:
        response = self.client.get(
            "/v1/webhook_endpoints", params={"limit": 100}, headers=self._secret()
        )
        endpoints: list[Order] = expect(response, 200).get("data", [])
        return endpoints

    def set_endpoint_disabled(self, endpoint_id: str, *, disabled: bool) -> None:
        """Switch a webhook endpoint off or on, as in Stripe's dashboard."""
        answer = self.client.post(
            f"/v1/webhook_endpoints/{endpoint_id}",
            data={"disabled": "true" if disabled else "false"},
            headers=self._secret(),
        )
        expect(answer, 200)

    def resend(self, event_id: str) -> None:
        expect(self.client.post(f"/_sandbox/events/{event_id}/resend"), 200)

    def _secret(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {SANDBOX_API_KEY}"}


@dataclass(frozen=True)
class Payment:
    """A started Stripe payment attempt of a fresh order."""

    order_id: str
    payment_id: str
    client_secret: str

    @property
    def intent_id(self) -> str:
        return intent_id(self.client_secret)


@dataclass(frozen=True)
class PayPalPayment:
    """A started PayPal payment attempt, waiting for the buyer at PayPal's approval page."""

    order_id: str
    payment_id: str
    token: str
    """The PayPal order id, as the approve link and the way back carry it."""


class ServiceUnderTest:
    """The API at `base_url` (and, once asked for, its sandbox); close it, or use `with`."""

    def __init__(
        self,
        credentials: Credentials,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = httpx.Client(
            base_url=self.base_url, timeout=HTTP_TIMEOUT_S, transport=PoliteTransport(transport)
        )
        self.webhook_secret = credentials.stripe_webhook_secret
        self.paypal_secret = credentials.paypal_client_secret
        self.paypal_webhook_id = credentials.paypal_webhook_id
        self._credentials = credentials
        self.buyer = ""
        self.new_buyer()
        self.other_buyer = credentials.token(NON_MEMBER_ID, COMPETITOR)
        self.admin = credentials.token(ADMIN_ID, ADMIN)
        self._sandbox: Sandbox | None = None
        self._paypal: PayPalSandbox | None = None

    def new_buyer(self) -> str:
        """Buy from now on as a competitor of a subject never used before; their token."""
        subject = f"competitor-st-{uuid.uuid4().hex[:10]}"
        self.buyer = self._credentials.token(subject, COMPETITOR)
        return self.buyer

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.api.close()
        if self._sandbox is not None:
            self._sandbox.client.close()
        if self._paypal is not None:
            self._paypal.client.close()

    def sandbox(self) -> Sandbox:
        """The sandbox the service pays against, learned from `/v1/payment-config` once."""
        if self._sandbox is None:
            stripe = expect(self.api.get("/v1/payment-config"), 200).get("stripe") or {}
            api_base, key = stripe.get("api_base"), stripe.get("publishable_key")
            if not api_base:
                raise ScenarioFailed("the service does not run against a Stripe sandbox")
            if not isinstance(key, str) or not key.startswith("pk_test_"):
                raise ScenarioFailed(f"payment-config has no test publishable key: {key!r}")
            client = httpx.Client(base_url=str(api_base).rstrip("/"), timeout=HTTP_TIMEOUT_S)
            self._sandbox = Sandbox(client=client, publishable_key=key)
        return self._sandbox

    def paypal_disabled(self) -> str | None:
        """Why PayPal scenarios cannot run here (the service has PayPal off), or None.

        None too when the question goes unanswered: the scenarios then run and fail, saying why.
        """
        try:
            config = self.api.get("/v1/payment-config")
        except httpx.HTTPError:
            return None
        if config.status_code != 200:
            return None
        try:
            body = config.json()
        except ValueError:
            return None
        return (
            PAYPAL_DISABLED if isinstance(body, dict) and body.get("paypal", {}) is None else None
        )

    def paypal(self) -> PayPalSandbox:
        """The PayPal sandbox the service pays against, learned from `/v1/payment-config` once."""
        if self._paypal is None:
            paypal = expect(self.api.get("/v1/payment-config"), 200).get("paypal", {})
            if paypal is None:
                raise ScenarioSkipped(PAYPAL_DISABLED)
            api_base, client_id = paypal.get("api_base"), paypal.get("client_id")
            if not api_base or not isinstance(client_id, str):
                raise ScenarioFailed(f"the service does not run against a PayPal sandbox: {paypal}")
            client = httpx.Client(base_url=str(api_base).rstrip("/"), timeout=HTTP_TIMEOUT_S)
            self._paypal = PayPalSandbox(
                client=client, client_id=client_id, secret=self.paypal_secret
            )
        return self._paypal

    # The API

    def post_order(
        self, body: Mapping[str, Any], *, token: str | None = None, idempotency_key: str = ""
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.buyer}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # Sent as fixed bytes so a replay carries exactly the body the first request did.
        return self.api.post("/v1/orders", content=json.dumps(body), headers=headers | _JSON)

    def new_order(self, class_id: str = OPEN_CLASSES[0]) -> Order:
        order: Order = expect(self.post_order(registration(class_ids=[class_id])), 201)
        if order.get("status") != "awaiting_payment":
            raise ScenarioFailed(f"a new order is {order.get('status')}, not awaiting_payment")
        return order

    def get_order(self, order_id: str, *, token: str | None = None) -> httpx.Response:
        return self.api.get(
            f"/v1/orders/{order_id}", headers={"Authorization": f"Bearer {token or self.buyer}"}
        )

    def order(self, order_id: str) -> Order:
        order: Order = expect(self.get_order(order_id), 200)
        return order

    def start_payment(self, order_id: str, body: Mapping[str, Any]) -> httpx.Response:
        return self.api.post(
            f"/v1/orders/{order_id}/payments",
            content=json.dumps(body),
            headers={"Authorization": f"Bearer {self.buyer}"} | _JSON,
        )

    def new_payment(self) -> Payment:
        """A fresh order and its Stripe payment attempt, not yet confirmed."""
        return self.stripe_payment(self.new_order()["id"])

    def stripe_payment(self, order_id: str) -> Payment:
        """A Stripe payment attempt of the order, not yet confirmed."""
        started = expect(self.start_payment(order_id, {"provider": "stripe"}), 201)
        secret = started.get("client_secret")
        if not isinstance(secret, str) or "_secret_" not in secret:
            raise ScenarioFailed("the started Stripe payment has no client_secret")
        return Payment(order_id=order_id, payment_id=started["id"], client_secret=secret)

    def paypal_payment(self, order_id: str, return_url: str) -> PayPalPayment:
        """A PayPal payment attempt of the order; the buyer is sent back to `return_url`."""
        body = {"provider": "paypal", "return_url": return_url}
        started = expect(self.start_payment(order_id, body), 201)
        approve_url = started.get("approve_url")
        if not isinstance(approve_url, str):
            raise ScenarioFailed(f"the started PayPal payment has no approve_url: {started}")
        return PayPalPayment(
            order_id=order_id, payment_id=started["id"], token=token_of(approve_url)
        )

    def follow(self, url: str) -> httpx.Response:
        """The buyer's browser opening a link to the service; its redirect is not followed."""
        return self.api.get(url)

    def audit(self, order_id: str) -> list[Order]:
        response = self.api.get(
            f"/v1/orders/{order_id}/audit", headers={"Authorization": f"Bearer {self.admin}"}
        )
        rows: list[Order] = expect(response, 200)
        return rows

    def reconcile(self, provider: str, since: str) -> httpx.Response:
        return self.api.post(
            f"/v1/reconciliation/{provider}",
            content=json.dumps({"since": since}),
            headers={"Authorization": f"Bearer {self.admin}"} | _JSON,
        )

    def ledger_verify(self) -> httpx.Response:
        return self.api.get("/v1/ledger/verify", headers={"Authorization": f"Bearer {self.admin}"})

    def organizer_balance(self, organizer_id: str) -> httpx.Response:
        return self.api.get(
            f"/v1/organizers/{organizer_id}/balance",
            headers={"Authorization": f"Bearer {self.admin}"},
        )

    def as_admin(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """Any route, as the platform's admin (JSON body when given)."""
        headers = {"Authorization": f"Bearer {self.admin}"}
        if body is None:
            return self.api.request(method, path, headers=headers)
        return self.api.request(method, path, content=json.dumps(body), headers=headers | _JSON)

    def audit_actions(self, order_id: str) -> list[str]:
        return [str(row.get("action")) for row in self.audit(order_id)]

    def deliver_webhook(self, body: bytes, signature: str) -> httpx.Response:
        return self.api.post(
            "/v1/webhooks/stripe", content=body, headers={"Stripe-Signature": signature} | _JSON
        )

    def deliver_paypal_webhook(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        return self.api.post("/v1/webhooks/paypal", content=body, headers=dict(headers))

    # Waiting for the worker

    def wait_for_order(self, order_id: str, holds: Callable[[Order], bool], wanted: str) -> Order:
        """Poll the order until `holds(order)`; fail with its last state at the deadline."""
        return self._watch(order_id, holds, wanted, eventually)

    def order_stays(self, order_id: str, holds: Callable[[Order], bool], wanted: str) -> Order:
        """Poll the order for a settle window; fail as soon as `holds(order)` stops holding."""
        return self._watch(order_id, holds, wanted, throughout)

    def _watch(
        self,
        order_id: str,
        holds: Callable[[Order], bool],
        wanted: str,
        poll: Callable[[Problem], None],
    ) -> Order:
        seen: list[Order] = []

        def problem() -> str | None:
            seen[:] = [self.order(order_id)]
            return None if holds(seen[0]) else f"expected {wanted}, but {describe(seen[0])}"

        poll(problem)
        return seen[0]


_JSON = {"Content-Type": "application/json"}
