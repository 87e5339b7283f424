"""Steps the billing tests share: a product, a plan, a subscription approved by the test buyer.

Every request body is checked against PayPal's Subscriptions specification before it is sent,
and every answer after, so a drift in either direction fails the test that caused it.
"""

from __future__ import annotations

from typing import Any

from support.paypal_openapi import validate_request, validate_response

SPEC = "billing_subscriptions_v1"
PLANS = "/v1/billing/plans"
SUBS = "/v1/billing/subscriptions"
ONE_SUB = "/v1/billing/subscriptions/{id}"
RETURN_URL = "https://shop.example/paypal/subscribed"
CANCEL_URL = "https://shop.example/paypal/not-subscribed"


def product(paypal: Any, name: str = "Memberships") -> dict[str, Any]:
    response = paypal.post("/v1/catalogs/products", json={"name": name, "type": "SERVICE"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def plan_body(
    product_id: str,
    *,
    value: str = "29.00",
    unit: str = "YEAR",
    threshold: int = 3,
    total_cycles: int = 0,
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "name": f"Pro Competitor {value}/{unit}",
        "billing_cycles": [
            {
                "frequency": {"interval_unit": unit, "interval_count": 1},
                "tenure_type": "REGULAR",
                "sequence": 1,
                "total_cycles": total_cycles,
                "pricing_scheme": {"fixed_price": {"currency_code": currency, "value": value}},
            }
        ],
        "payment_preferences": {
            "auto_bill_outstanding": True,
            "payment_failure_threshold": threshold,
        },
    }


def plan(paypal: Any, body: dict[str, Any]) -> dict[str, Any]:
    validate_request(SPEC, PLANS, "POST", body)
    response = paypal.post(PLANS, json=body, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    validate_response(SPEC, PLANS, "POST", 201, response.json())
    created: dict[str, Any] = response.json()
    return created


def subscribe(paypal: Any, plan_id: str, **headers: str) -> dict[str, Any]:
    body = {
        "plan_id": plan_id,
        "custom_id": "membership-17",
        "subscriber": {
            "name": {"given_name": "Dana", "surname": "Bass"},
            "email_address": "dana@example.com",
        },
        "application_context": {"return_url": RETURN_URL, "cancel_url": CANCEL_URL},
    }
    validate_request(SPEC, SUBS, "POST", body)
    response = paypal.post(SUBS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    validate_response(SPEC, SUBS, "POST", 201, response.json())
    created: dict[str, Any] = response.json()
    return created


def approve(paypal: Any, sid: str) -> dict[str, Any]:
    response = paypal.http.post(f"/_sandbox/billing/subscriptions/{sid}/approve")
    assert response.status_code == 200, response.text
    approved: dict[str, Any] = response.json()
    return approved


def show(paypal: Any, sid: str, fields: str = "") -> dict[str, Any]:
    params = {"fields": fields} if fields else {}
    response = paypal.get(f"{SUBS}/{sid}", params=params)
    assert response.status_code == 200, response.text
    validate_response(SPEC, ONE_SUB, "GET", 200, response.json())
    shown: dict[str, Any] = response.json()
    return shown


def advance(paypal: Any, sid: str, days: float) -> dict[str, Any]:
    response = paypal.http.post(
        f"/_sandbox/billing/subscriptions/{sid}/advance", json={"days": days}
    )
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    return moved


def fail_next(paypal: Any, sid: str, count: int) -> None:
    response = paypal.http.post(
        f"/_sandbox/billing/subscriptions/{sid}/fail-next", json={"count": count}
    )
    assert response.status_code == 200, response.text


def active_subscription(paypal: Any, **plan_options: Any) -> tuple[dict[str, Any], str]:
    """An ACTIVE subscription (first payment taken) and its plan."""
    created_plan = plan(paypal, plan_body(product(paypal)["id"], **plan_options))
    sid = subscribe(paypal, created_plan["id"])["id"]
    approve(paypal, sid)
    return created_plan, sid


def sales(paypal: Any, sid: str) -> list[dict[str, Any]]:
    """Sale resources of PAYMENT.SALE.COMPLETED events for `sid`, oldest first."""
    return [
        e["resource"]
        for e in reversed(paypal.events("PAYMENT.SALE.COMPLETED"))
        if e["resource"]["billing_agreement_id"] == sid
    ]
