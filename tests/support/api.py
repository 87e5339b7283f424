"""Small helpers for talking to the API in tests: tokens and common requests."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from eventpay.config import DEV_JWT_KEY
from eventpay.ports import Role
from eventpay.web.auth import issue_token

Client = TestClient | httpx.Client


def bearer(
    sub: str, role: Role = Role.COMPETITOR, organizer_id: str | None = None
) -> dict[str, str]:
    token = issue_token(
        key=DEV_JWT_KEY, algorithm="HS256", subject=sub, role=role, organizer_id=organizer_id
    )
    return {"Authorization": f"Bearer {token}"}


def registration(event_id: str = "spring-sound-off", *class_ids: str) -> dict[str, Any]:
    return {
        "items": [
            {
                "kind": "registration",
                "event_id": event_id,
                "class_ids": list(class_ids or ["spring-spl"]),
            }
        ]
    }


def create_order(client: Client, sub: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post("/v1/orders", json=body or registration(), headers=bearer(sub))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def start_payment(client: Client, sub: str, order_id: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/orders/{order_id}/payments", json={"provider": "stripe"}, headers=bearer(sub)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def confirm_at_sandbox(sandbox: str, client_secret: str, payment_method: str) -> httpx.Response:
    """Confirm the way Stripe.js does: publishable key plus the client secret."""
    intent_id = client_secret.split("_secret_")[0]
    return httpx.post(
        f"{sandbox}/v1/payment_intents/{intent_id}/confirm",
        auth=("pk_test_eventpay_sandbox", ""),
        data={"client_secret": client_secret, "payment_method": payment_method},
    )
