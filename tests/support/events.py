"""Stripe-shaped events for tests, signed the way Stripe signs them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from eventpay.providers.stripe_webhook import sign


def payment_intent_event(
    event_type: str,
    *,
    intent_id: str,
    amount: int = 4000,
    currency: str = "usd",
    payment_id: str | None = None,
    event_id: str | None = None,
    status: str = "succeeded",
    last_payment_error: dict[str, Any] | None = None,
) -> bytes:
    body = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if status == "succeeded" else 0,
                "currency": currency,
                "status": status,
                "metadata": {"payment_id": payment_id} if payment_id else {},
                "last_payment_error": last_payment_error,
            }
        },
    }
    return json.dumps(body).encode()


def signed_headers(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    return {
        "Stripe-Signature": sign(
            body, secret, int(time.time()) if timestamp is None else timestamp
        ),
        "Content-Type": "application/json",
    }
