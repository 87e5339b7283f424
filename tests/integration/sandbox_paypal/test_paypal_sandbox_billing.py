"""Catalog products, billing plans, and a subscription's life up to approval, suspension and
cancellation, over HTTP against the PayPal sandbox and checked against PayPal's specification."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from billing_steps import (
    CANCEL_URL,
    ONE_SUB,
    PLANS,
    RETURN_URL,
    SPEC,
    SUBS,
    active_subscription,
    plan,
    plan_body,
    product,
    sales,
    show,
    subscribe,
)

from support.paypal_openapi import validate_response, validate_schema


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_products_and_plans_are_created_listed_and_deactivated(paypal) -> None:
    prod = product(paypal)
    created = plan(paypal, plan_body(prod["id"], value="99.00"))
    listed = paypal.get(PLANS, params={"product_id": prod["id"], "total_required": "true"})
    other = paypal.get(PLANS, params={"product_id": "PROD-NOTHINGHERE1"})

    deactivated = paypal.post(f"{PLANS}/{created['id']}/deactivate")
    again = paypal.post(f"{PLANS}/{created['id']}/deactivate")
    refused = paypal.post(SUBS, json={"plan_id": created["id"]})

    assert prod["id"].startswith("PROD-")
    assert paypal.get(f"/v1/catalogs/products/{prod['id']}").json()["name"] == "Memberships"
    assert created["id"].startswith("P-")
    assert created["status"] == "ACTIVE"
    price = created["billing_cycles"][0]["pricing_scheme"]["fixed_price"]
    assert price == {"currency_code": "USD", "value": "99.00"}
    assert created["payment_preferences"]["payment_failure_threshold"] == 3
    validate_response(SPEC, PLANS, "GET", 200, listed.json())
    assert [p["id"] for p in listed.json()["plans"]] == [created["id"]]
    assert listed.json()["total_items"] == 1
    assert other.json()["plans"] == []
    assert deactivated.status_code == 204
    validate_response(SPEC, f"{PLANS}/{{id}}/deactivate", "POST", 204, deactivated.content)
    assert paypal.get(f"{PLANS}/{created['id']}").json()["status"] == "INACTIVE"
    assert again.status_code == 422
    validate_response(SPEC, f"{PLANS}/{{id}}/deactivate", "POST", 422, again.json())
    assert again.json()["details"][0]["issue"] == "PLAN_STATUS_INVALID"
    assert refused.status_code == 422
    validate_response(SPEC, SUBS, "POST", 422, refused.json())
    kinds = {e["event_type"] for e in paypal.events()}
    assert {"CATALOG.PRODUCT.CREATED", "BILLING.PLAN.CREATED", "BILLING.PLAN.DEACTIVATED"} <= kinds


def test_plans_are_validated_like_paypal(paypal) -> None:
    prod = product(paypal)["id"]
    no_cycles = {**plan_body(prod), "billing_cycles": []}
    yearly_twice = plan_body(prod)
    yearly_twice["billing_cycles"][0]["frequency"]["interval_count"] = 2
    unpriced = plan_body(prod)
    del unpriced["billing_cycles"][0]["pricing_scheme"]
    unknown_product = plan_body("PROD-NOTHINGHERE1")

    answers = [paypal.post(PLANS, json=b) for b in (no_cycles, yearly_twice, unpriced)]
    unknown = paypal.post(PLANS, json=unknown_product)

    for response in [*answers, unknown]:
        assert response.status_code == 400, response.text
        validate_response(SPEC, PLANS, "POST", 400, response.json())
    assert [r.json()["details"][0]["field"] for r in answers] == [
        "/billing_cycles",
        "/billing_cycles/0/frequency/interval_count",
        "/billing_cycles/0/pricing_scheme/fixed_price",
    ]
    assert paypal.get(PLANS).json()["plans"] == []


def test_approved_subscription_is_active_and_takes_its_first_payment(paypal, receiver, wait_until):
    created_plan = plan(paypal, plan_body(product(paypal)["id"]))
    created = subscribe(paypal, created_plan["id"])
    approve_link = next(link["href"] for link in created["links"] if link["rel"] == "approve")
    approval = urlsplit(approve_link)

    page = paypal.http.get(f"{approval.path}?{approval.query}")
    token = parse_qs(approval.query)["ba_token"][0]
    approved = paypal.http.post(f"{approval.path}/{token}/approve", follow_redirects=False)
    shown = show(paypal, created["id"])

    assert created["status"] == "APPROVAL_PENDING"
    assert created["id"].startswith("I-")
    assert page.status_code == 200
    assert created_plan["name"] in page.text
    assert approved.status_code == 303
    target = urlsplit(approved.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN_URL
    assert parse_qs(target.query)["subscription_id"] == [created["id"]]
    assert shown["status"] == "ACTIVE"
    assert shown["subscriber"]["payer_id"]
    info = shown["billing_info"]
    assert info["last_payment"]["amount"] == {"currency_code": "USD", "value": "29.00"}
    assert info["outstanding_balance"]["value"] == "0.00"
    assert info["failed_payments_count"] == 0
    assert info["cycle_executions"][0]["cycles_completed"] == 1
    start = _time(shown["start_time"])
    assert _time(info["next_billing_time"]) == start.replace(year=start.year + 1)
    [sale] = sales(paypal, created["id"])
    assert sale["amount"]["total"] == "29.00"
    assert sale["amount"]["currency"] == "USD"
    assert sale["state"] == "completed"
    assert sale["custom"] == "membership-17"
    assert paypal.get(f"/v1/payments/sale/{sale['id']}").json()["id"] == sale["id"]
    [activated] = paypal.events("BILLING.SUBSCRIPTION.ACTIVATED")
    validate_schema(SPEC, "subscription", activated["resource"])
    for event in (activated, *paypal.events("PAYMENT.SALE.COMPLETED")):
        validate_schema("notifications_webhooks_v1", "event", event)
    assert activated["resource"]["status"] == "ACTIVE"
    assert len(paypal.events("BILLING.SUBSCRIPTION.CREATED")) == 1

    def delivered_sale():
        return [
            d
            for d in receiver.received()
            if b"PAYMENT.SALE.COMPLETED" in d.body and created["id"].encode() in d.body
        ]

    delivery = wait_until(delivered_sale, "the sale's webhook")[0]
    assert delivery.headers["paypal-transmission-sig"]


def test_buyer_who_cancels_at_paypal_leaves_the_subscription_pending(paypal) -> None:
    created_plan = plan(paypal, plan_body(product(paypal)["id"]))
    sid = subscribe(paypal, created_plan["id"])["id"]

    declined = paypal.http.post(f"/_sandbox/billing/subscriptions/{sid}/cancel-approval")
    cancel = paypal.post(f"{SUBS}/{sid}/cancel", json={"reason": "never mind"})

    assert declined.json()["redirect_url"].startswith(CANCEL_URL + "?subscription_id=" + sid)
    assert show(paypal, sid)["status"] == "APPROVAL_PENDING"
    assert "billing_info" not in show(paypal, sid)
    assert cancel.status_code == 422
    validate_response(SPEC, f"{ONE_SUB}/cancel", "POST", 422, cancel.json())
    assert paypal.events("BILLING.SUBSCRIPTION.ACTIVATED") == []
    assert paypal.events("PAYMENT.SALE.COMPLETED") == []


def test_suspend_activate_and_cancel(paypal) -> None:
    _, sid = active_subscription(paypal)
    url = f"{SUBS}/{sid}"

    no_reason = paypal.post(f"{url}/suspend", json={})
    long_reason = paypal.post(f"{url}/suspend", json={"reason": "x" * 129})
    suspended = paypal.post(f"{url}/suspend", json={"reason": "Member asked for a pause"})
    status_suspended = show(paypal, sid)["status"]
    suspend_again = paypal.post(f"{url}/suspend", json={"reason": "again"})
    activated = paypal.post(f"{url}/activate", json={"reason": "Back"})
    status_active = show(paypal, sid)["status"]
    cancelled = paypal.post(f"{url}/cancel", json={"reason": "Leaving the club"})
    cancel_again = paypal.post(f"{url}/cancel", json={"reason": "again"})

    assert no_reason.status_code == 400
    # The operation's 400 enumerates only INVALID_STRING_MAX_LENGTH; a missing reason gets the
    # generic envelope.
    validate_schema(SPEC, "error_400", no_reason.json())
    assert no_reason.json()["details"][0]["issue"] == "MISSING_REQUIRED_PARAMETER"
    validate_response(SPEC, f"{ONE_SUB}/suspend", "POST", 400, long_reason.json())
    assert suspended.status_code == 204
    assert status_suspended == "SUSPENDED"
    validate_response(SPEC, f"{ONE_SUB}/suspend", "POST", 422, suspend_again.json())
    assert activated.status_code == 204
    assert status_active == "ACTIVE"
    assert cancelled.status_code == 204
    validate_response(SPEC, f"{ONE_SUB}/cancel", "POST", 204, cancelled.content)
    final = show(paypal, sid)
    assert final["status"] == "CANCELLED"
    assert final["status_change_note"] == "Leaving the club"
    assert cancel_again.json()["details"][0]["issue"] == "SUBSCRIPTION_STATUS_INVALID"
    kinds = [
        e["event_type"]
        for e in reversed(paypal.events())
        if e["event_type"].startswith("BILLING.SUB")
    ]
    assert kinds == [
        "BILLING.SUBSCRIPTION.CREATED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "BILLING.SUBSCRIPTION.SUSPENDED",
        "BILLING.SUBSCRIPTION.ACTIVATED",
        "BILLING.SUBSCRIPTION.CANCELLED",
    ]


def test_creating_a_subscription_is_idempotent_on_paypal_request_id(paypal) -> None:
    created_plan = plan(paypal, plan_body(product(paypal)["id"]))

    first = subscribe(paypal, created_plan["id"], **{"PayPal-Request-Id": "sub-attempt-1"})
    replay = subscribe(paypal, created_plan["id"], **{"PayPal-Request-Id": "sub-attempt-1"})
    other = subscribe(paypal, created_plan["id"], **{"PayPal-Request-Id": "sub-attempt-2"})

    assert replay["id"] == first["id"]
    assert other["id"] != first["id"]
    assert len(paypal.events("BILLING.SUBSCRIPTION.CREATED")) == 2


def test_unknown_subscription_and_sale_are_not_found(paypal) -> None:
    missing = paypal.get(f"{SUBS}/I-NOSUCHTHING1")
    no_sale = paypal.get("/v1/payments/sale/NOSUCHSALE0000000")

    assert missing.status_code == 404
    validate_response(SPEC, ONE_SUB, "GET", 404, missing.json())
    assert no_sale.status_code == 404
