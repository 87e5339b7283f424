"""Paying an order through the API and the Stripe sandbox, and racing callers, for API tests.

`pay_by_card` is the buyer's whole card checkout as a test drives it: start the payment, confirm
at the sandbox as Stripe.js would, deliver the sandbox's own signed `payment_intent.succeeded`
to the webhook route, and let one worker pass apply it. `race` runs callables in threads
released together, so the database, not Python, decides who wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.worker import Worker
from support.api import confirm_at_sandbox, start_payment
from support.events import signed_headers
from support.stack import WEBHOOK_SECRET


def pay_by_card(
    client: TestClient, container: Container, sandbox: str, buyer: str, order_id: str
) -> None:
    payment = start_payment(client, buyer, order_id)
    assert confirm_at_sandbox(sandbox, payment["client_secret"], "pm_card_visa").is_success
    intent_id = payment["client_secret"].split("_secret_")[0]
    events = httpx.get(
        f"{sandbox}/v1/events",
        params={"type": "payment_intent.succeeded", "limit": 100},
        auth=("sk_test_lookup", ""),
    ).json()["data"]
    (event,) = [e for e in events if e["data"]["object"]["id"] == intent_id]
    body = httpx.Request("POST", "http://x", json=event).content
    assert client.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
    ).is_success
    Worker(container).run_once()


def race(calls: list[Callable[[], str]]) -> list[str]:
    """Each call's answer, in order; "" for a call that raised or never finished."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = [""] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
