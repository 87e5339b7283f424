"""A declined PayPal capture, raced by the buyer's return and the worker, on SQLite and PostgreSQL.

The buyer's return and the worker (after `CHECKOUT.ORDER.APPROVED`) both capture with the
same `PayPal-Request-Id`. PayPal keeps only successful answers under a request id and sends a
declined order back to its buyer, so whoever asks second is told ORDER_NOT_APPROVED, not the
decline. These tests put the worker's capture at each point of the return's own capture (a
wrapper around the real adapter runs it just before the return's call reaches PayPal) and
check what the client's `return_url` is told: a declined capture is `failed`, whoever made it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from eventpay.bootstrap import Container
from eventpay.ports import PaymentProvider, PaymentRecord, ProviderName, ProviderPayment, Role
from eventpay.sample_data import MEMBER_ID
from eventpay.services import buyer_returns, captures, webhooks
from eventpay.worker import Worker
from support.api import bearer, registration
from support.paypal_stack import paypal_stack

WEBHOOK_ID = "WH-RETURN-RACE"
CLIENT_RETURN = "https://app.example.test/checkout/done"
APPROVED = "CHECKOUT.ORDER.APPROVED"
DECLINED = "PAYMENT.CAPTURE.DECLINED"


class Interleaved:
    """The real PayPal adapter; `before` runs just before each capture call reaches PayPal,
    `after` with its answer (both once), so a test places another caller's steps there."""

    def __init__(
        self,
        inner: PaymentProvider,
        *,
        before: Callable[[], None] | None = None,
        after: Callable[[ProviderPayment], None] | None = None,
    ) -> None:
        self._inner = inner
        self._before = before
        self._after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        before, self._before = self._before, None
        if before is not None:
            before()
        answer = self._inner.capture_payment(provider_ref, idempotency_key=idempotency_key)
        after, self._after = self._after, None
        if after is not None:
            after(answer)
        return answer


@dataclass
class Race:
    api: httpx.Client
    paypal: str
    container: Container

    def sandbox(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = httpx.request(method, f"{self.paypal}{path}", **kwargs)
        response.raise_for_status()
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    def declined_attempt(self) -> tuple[str, str, str]:
        """An order, its PayPal attempt whose capture PayPal will decline, and PayPal's order
        id; the buyer has approved, and the approval webhook is stored, not applied."""
        order = self.api.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID))
        assert order.status_code == 201, order.text
        started = self.api.post(
            f"/v1/orders/{order.json()['id']}/payments",
            json={"provider": "paypal", "return_url": CLIENT_RETURN},
            headers=bearer(MEMBER_ID),
        )
        assert started.status_code == 201, started.text
        payment = started.json()
        token = payment["approve_url"].split("token=")[1].split("&")[0]
        self.sandbox(
            "POST", f"/_sandbox/orders/{token}/capture-outcome", json={"status": "DECLINED"}
        )
        self.sandbox("POST", f"/_sandbox/orders/{token}/approve")
        self.wait_for_event(APPROVED, token)
        return order.json()["id"], payment["id"], token

    def events(self, event_type: str, token: str) -> int:
        with self.container.uow_factory() as uow:
            stored = uow.webhooks.list(status=None, limit=1000)
        return sum(1 for e in stored if e.type == event_type and token in e.payload)

    def wait_for_event(self, event_type: str, token: str) -> None:
        deadline = time.monotonic() + 15
        while self.events(event_type, token) < 1:
            assert time.monotonic() < deadline, f"{event_type} about {token} never stored"
            time.sleep(0.05)

    def worker_step(self, providers: Any = None) -> None:
        """The worker applies the next stored event (the approval) and captures after it."""
        c = self.container
        webhooks.process_next(
            uow_factory=c.uow_factory,
            providers=providers or c.providers,
            clock=c.clock,
            retry=c.retry,
        )

    def with_paypal(self, gateway: Interleaved) -> dict[ProviderName, PaymentProvider]:
        return {**self.container.providers, ProviderName.PAYPAL: cast(PaymentProvider, gateway)}

    def paypal_adapter(self) -> PaymentProvider:
        return self.container.providers[ProviderName.PAYPAL]

    def buyer_returns(
        self,
        payment_id: str,
        token: str,
        gateway: Interleaved,
        wait: Callable[[float], None] | None = None,
    ) -> PaymentRecord:
        """The return route's use case, with the PayPal adapter wrapped."""
        c = self.container
        extra: dict[str, Any] = {} if wait is None else {"wait": wait}
        return buyer_returns.return_from_provider(
            uow_factory=c.uow_factory,
            providers=self.with_paypal(gateway),
            payment_id=payment_id,
            provider_ref=token,
            clock=c.clock,
            **extra,
        )

    def attempt(self, order_id: str) -> dict[str, Any]:
        view = self.api.get(f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID)).json()
        assert view["status"] == "awaiting_payment", view
        (payment,) = view["payments"]
        data: dict[str, Any] = payment
        return data

    def actions(self, order_id: str) -> list[str]:
        trail = self.api.get(f"/v1/orders/{order_id}/audit", headers=bearer("ops", Role.ADMIN))
        return [row["action"] for row in trail.json()]

    def declined_captures(self, token: str) -> int:
        """How many captures of PayPal's order were declined (its DECLINED events)."""
        return sum(
            1
            for e in self.sandbox("GET", "/_sandbox/events")["data"]
            if e["event_type"] == DECLINED
            and e["resource"].get("supplementary_data", {}).get("related_ids", {}).get("order_id")
            == token
        )


@pytest.fixture
def race(database_url: str, stripe_sandbox: str) -> Iterator[Race]:
    with paypal_stack(database_url, stripe_sandbox, webhook_id=WEBHOOK_ID) as stack:
        client, paypal, container = stack
        yield Race(api=client, paypal=paypal, container=container)


def _client_status(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(CLIENT_RETURN + "?")
    return parse_qs(urlsplit(location).query)["status"][0]


def _settled_failed(race: Race, order_id: str) -> None:
    """After every webhook (approval, decline) is applied, the attempt is failed, once."""
    Worker(race.container).run_once()
    attempt = race.attempt(order_id)
    assert attempt["status"] == "failed"
    assert attempt["failure_code"]
    assert race.actions(order_id).count("payment.failed") == 1


def test_the_worker_captures_between_the_returns_read_and_its_capture(race: Race) -> None:
    """The e2e flake: the return read the attempt waiting, then the worker's capture was
    declined and recorded, then the return's own capture was told ORDER_NOT_APPROVED."""
    order_id, payment_id, token = race.declined_attempt()
    worker_first = Interleaved(race.paypal_adapter(), before=race.worker_step)
    returned = race.buyer_returns(payment_id, token, worker_first)
    assert returned.status.value == "failed"
    assert race.declined_captures(token) == 1
    _settled_failed(race, order_id)


def test_a_return_while_the_workers_decline_is_not_recorded_yet_waits_for_it(
    race: Race,
) -> None:
    """The worker has PayPal's decline in hand but has not committed it when the return's
    capture is refused: the return waits for the worker's outcome."""
    order_id, payment_id, token = race.declined_attempt()
    answered, release = threading.Event(), threading.Event()

    def hold(answer: ProviderPayment) -> None:
        answered.set()
        assert release.wait(timeout=30)

    holding = race.with_paypal(Interleaved(race.paypal_adapter(), after=hold))
    worker = threading.Thread(target=race.worker_step, args=(holding,))

    def worker_mid_capture() -> None:
        worker.start()
        assert answered.wait(timeout=30)

    waited: list[float] = []

    def let_the_worker_finish(seconds: float) -> None:
        waited.append(seconds)
        release.set()
        worker.join(timeout=30)

    try:
        gateway = Interleaved(race.paypal_adapter(), before=worker_mid_capture)
        returned = race.buyer_returns(payment_id, token, gateway, wait=let_the_worker_finish)
    finally:
        release.set()
        worker.join(timeout=30)
    assert returned.status.value == "failed"
    assert waited  # it did wait, and only until the worker's answer was recorded
    assert sum(waited) < captures.SETTLE_WAIT_S
    assert race.declined_captures(token) == 1
    _settled_failed(race, order_id)


def test_a_return_whose_capture_reaches_paypal_while_the_workers_is_held_there(
    race: Race,
) -> None:
    """Both at PayPal at once: PayPal holds the first capture call (its request id reserved),
    the other waits for it, is then told ORDER_NOT_APPROVED, and the return says failed."""
    order_id, payment_id, token = race.declined_attempt()
    hold = {
        "path_prefix": f"/v2/checkout/orders/{token}/capture",
        "method": "POST",
        "mode": "delay",
        "delay_s": 1.0,
        "times": 1,
    }
    race.sandbox("POST", "/_sandbox/faults", json=hold)
    adapter = race.paypal_adapter()
    sending = threading.Event()
    worker_gateway = Interleaved(adapter, before=sending.set)
    worker = threading.Thread(target=race.worker_step, args=(race.with_paypal(worker_gateway),))

    def alongside_the_worker() -> None:
        worker.start()
        assert sending.wait(timeout=30)

    try:
        gateway = Interleaved(adapter, before=alongside_the_worker)
        returned = race.buyer_returns(payment_id, token, gateway, wait=time.sleep)
    finally:
        worker.join(timeout=30)
    assert returned.status.value == "failed"
    assert race.declined_captures(token) == 1
    _settled_failed(race, order_id)


def test_a_lost_capture_answer_is_settled_by_paypals_decline_webhook_while_the_return_waits(
    race: Race,
) -> None:
    """Another caller's capture was declined and its answer lost (the worker died, or its
    call timed out): PAYMENT.CAPTURE.DECLINED, applied by the worker, ends the return's wait."""
    order_id, payment_id, token = race.declined_attempt()
    adapter = race.paypal_adapter()
    key = captures.capture_key(payment_id)

    def answer_lost() -> None:
        adapter.capture_payment(token, idempotency_key=key)

    def worker_applies_webhooks(seconds: float) -> None:
        race.wait_for_event(DECLINED, token)
        Worker(race.container).run_once()

    gateway = Interleaved(adapter, before=answer_lost)
    returned = race.buyer_returns(payment_id, token, gateway, wait=worker_applies_webhooks)
    assert returned.status.value == "failed"
    assert race.declined_captures(token) == 1
    _settled_failed(race, order_id)


def test_a_return_waits_a_bounded_time_then_tells_the_stored_status(race: Race) -> None:
    """Nobody records the outcome: the return stops waiting after SETTLE_WAIT_S and answers
    the attempt as stored (never an invented status); the webhooks settle it later."""
    order_id, payment_id, token = race.declined_attempt()
    adapter = race.paypal_adapter()
    key = captures.capture_key(payment_id)
    waited: list[float] = []
    gateway = Interleaved(
        adapter, before=lambda: adapter.capture_payment(token, idempotency_key=key)
    )
    returned = race.buyer_returns(payment_id, token, gateway, wait=waited.append)
    assert returned.status.value == "requires_action"
    assert sum(waited) == pytest.approx(captures.SETTLE_WAIT_S)
    race.wait_for_event(DECLINED, token)
    _settled_failed(race, order_id)


def test_the_worker_first_then_the_return_says_failed(race: Race) -> None:
    order_id, payment_id, token = race.declined_attempt()
    race.worker_step()
    back = httpx.get(
        f"{race.api.base_url}/v1/payments/{payment_id}/paypal/return",
        params={"token": token},
        follow_redirects=False,
        timeout=10,
    )
    assert _client_status(back) == "failed"
    _settled_failed(race, order_id)


def test_the_return_first_then_the_webhooks_change_nothing(race: Race) -> None:
    order_id, payment_id, token = race.declined_attempt()
    back = httpx.get(
        f"{race.api.base_url}/v1/payments/{payment_id}/paypal/return",
        params={"token": token},
        follow_redirects=False,
        timeout=10,
    )
    assert _client_status(back) == "failed"
    race.wait_for_event(DECLINED, token)
    _settled_failed(race, order_id)
