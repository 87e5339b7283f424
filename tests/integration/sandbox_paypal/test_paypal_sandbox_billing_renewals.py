"""A subscription over time: renewals, failed payments and their retries, suspension past the
plan's threshold, recovery, expiry and plan revisions, with the subscription's clock advanced
through the sandbox's control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing_steps import (
    ONE_SUB,
    SPEC,
    SUBS,
    active_subscription,
    advance,
    approve,
    fail_next,
    plan,
    plan_body,
    product,
    sales,
    show,
    subscribe,
)

from support.paypal_openapi import validate_response, validate_schema

LAST_FAILED = "last_failed_payment"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _days_between(earlier: str, later: str) -> float:
    return (_time(later) - _time(earlier)).total_seconds() / 86400


def _to_next_billing(paypal, sid: str, extra_days: float = 0.01) -> str:
    """Move the subscription's clock just past its next billing time; returns that time."""
    now = advance(paypal, sid, 0.0001)["now"]
    due = show(paypal, sid)["billing_info"]["next_billing_time"]
    advance(paypal, sid, _days_between(now, due) + extra_days)
    return str(due)


def _failures(paypal, sid: str) -> list[dict]:
    return [
        e["resource"]
        for e in reversed(paypal.events("BILLING.SUBSCRIPTION.PAYMENT.FAILED"))
        if e["resource"]["id"] == sid
    ]


def test_a_yearly_membership_renews_each_year_with_a_sale(paypal) -> None:
    _, sid = active_subscription(paypal)
    first_due = _to_next_billing(paypal, sid)

    renewed = show(paypal, sid)

    assert [s["amount"]["total"] for s in sales(paypal, sid)] == ["29.00", "29.00"]
    info = renewed["billing_info"]
    assert info["cycle_executions"][0]["cycles_completed"] == 2
    assert info["last_payment"]["time"] == first_due
    next_due = _time(info["next_billing_time"])
    assert next_due == _time(first_due).replace(year=_time(first_due).year + 1)
    assert sales(paypal, sid)[1]["billing_agreement_id"] == sid


def test_monthly_renewals_make_one_sale_per_month(paypal) -> None:
    _, sid = active_subscription(paypal, value="9.99", unit="MONTH")

    advance(paypal, sid, 95)  # three month starts fall in any 95 days, never four

    assert [s["amount"]["total"] for s in sales(paypal, sid)] == ["9.99"] * 4
    assert show(paypal, sid)["billing_info"]["cycle_executions"][0]["cycles_completed"] == 4


def test_a_failed_renewal_is_retried_and_recovers(paypal) -> None:
    _, sid = active_subscription(paypal, threshold=3)
    fail_next(paypal, sid, 2)

    due = _to_next_billing(paypal, sid)
    after_failure = show(paypal, sid, LAST_FAILED)
    advance(paypal, sid, 1)  # first retry, one day after the billing date: fails again
    after_retry = show(paypal, sid, LAST_FAILED)
    advance(paypal, sid, 2)  # second retry, day 3: goes through
    recovered = show(paypal, sid, LAST_FAILED)

    info = after_failure["billing_info"]
    assert after_failure["status"] == "ACTIVE"
    assert info["failed_payments_count"] == 1
    assert info["outstanding_balance"]["value"] == "29.00"
    failed = info[LAST_FAILED]
    assert failed["amount"]["value"] == "29.00"
    assert failed["reason_code"] == "PAYMENT_DENIED"
    assert _days_between(due, failed["next_payment_retry_time"]) == 1
    retry_info = after_retry["billing_info"]
    assert retry_info["failed_payments_count"] == 2
    assert _days_between(due, retry_info[LAST_FAILED]["next_payment_retry_time"]) == 3
    final = recovered["billing_info"]
    assert recovered["status"] == "ACTIVE"
    assert final["failed_payments_count"] == 0
    assert final["outstanding_balance"]["value"] == "0.00"
    assert _days_between(due, final["last_payment"]["time"]) == 3
    assert _time(final["next_billing_time"]) == _time(due).replace(year=_time(due).year + 1)
    assert [s["amount"]["total"] for s in sales(paypal, sid)] == ["29.00", "29.00"]
    failures = _failures(paypal, sid)
    assert [f["billing_info"]["failed_payments_count"] for f in failures] == [1, 2]
    validate_schema(SPEC, "subscription", failures[0])
    advance(paypal, sid, 10)
    assert len(_failures(paypal, sid)) == 2  # no retries once the balance is paid


def test_failures_reaching_the_threshold_suspend_until_the_balance_is_collected(paypal):
    _, sid = active_subscription(paypal, threshold=2)
    fail_next(paypal, sid, 10)

    _to_next_billing(paypal, sid)
    advance(paypal, sid, 1)
    suspended = show(paypal, sid)
    advance(paypal, sid, 30)
    reactivate_owing = paypal.post(f"{SUBS}/{sid}/activate", json={"reason": "paid up"})
    fail_next(paypal, sid, 0)
    capture_body = {
        "note": "Collect the missed renewal",
        "capture_type": "OUTSTANDING_BALANCE",
        "amount": {"currency_code": "USD", "value": "29.00"},
    }
    captured = paypal.post(f"{SUBS}/{sid}/capture", json=capture_body)
    reactivated = paypal.post(f"{SUBS}/{sid}/activate", json={"reason": "paid up"})

    assert suspended["status"] == "SUSPENDED"
    assert suspended["billing_info"]["failed_payments_count"] == 2
    assert len(_failures(paypal, sid)) == 2  # nothing retried while suspended
    [suspension] = paypal.events("BILLING.SUBSCRIPTION.SUSPENDED")
    assert suspension["resource"]["id"] == sid
    assert reactivate_owing.status_code == 422
    validate_response(SPEC, f"{ONE_SUB}/activate", "POST", 422, reactivate_owing.json())
    assert reactivate_owing.json()["details"][0]["issue"] == "SUBSCRIPTION_CANNOT_BE_ACTIVATED"
    assert captured.status_code == 200, captured.text
    validate_response(SPEC, f"{ONE_SUB}/capture", "POST", 200, captured.json())
    assert captured.json()["status"] == "COMPLETED"
    assert reactivated.status_code == 204
    final = show(paypal, sid)
    assert final["status"] == "ACTIVE"
    assert final["billing_info"]["outstanding_balance"]["value"] == "0.00"
    assert final["billing_info"]["failed_payments_count"] == 0


def test_a_cancelled_subscription_bills_nothing_more(paypal) -> None:
    _, sid = active_subscription(paypal)
    paypal.post(f"{SUBS}/{sid}/cancel", json={"reason": "Leaving"})

    advance(paypal, sid, 800)

    assert len(sales(paypal, sid)) == 1
    assert show(paypal, sid)["status"] == "CANCELLED"


def test_a_fixed_term_plan_expires_after_its_last_cycle(paypal) -> None:
    _, sid = active_subscription(paypal, value="15.00", unit="MONTH", total_cycles=2)

    advance(paypal, sid, 70)

    assert [s["amount"]["total"] for s in sales(paypal, sid)] == ["15.00", "15.00"]
    expired = show(paypal, sid)
    assert expired["status"] == "EXPIRED"
    assert "next_billing_time" not in expired["billing_info"]
    assert expired["billing_info"]["cycle_executions"][0]["cycles_remaining"] == 0
    assert [e["resource"]["id"] for e in paypal.events("BILLING.SUBSCRIPTION.EXPIRED")] == [sid]


def test_a_revision_needs_the_buyers_approval_and_bills_the_new_price_next(paypal) -> None:
    prod = product(paypal)["id"]
    pro = plan(paypal, plan_body(prod, value="29.00"))
    retailer = plan(paypal, plan_body(prod, value="99.00"))
    elsewhere = plan(paypal, plan_body(product(paypal, "Other")["id"]))
    sid = subscribe(paypal, pro["id"])["id"]
    approve(paypal, sid)

    revised = paypal.post(f"{SUBS}/{sid}/revise", json={"plan_id": retailer["id"]})
    before_approval = show(paypal, sid)["plan_id"]
    approve(paypal, sid)
    after_approval = show(paypal, sid)
    incompatible = paypal.post(f"{SUBS}/{sid}/revise", json={"plan_id": elsewhere["id"]})
    _to_next_billing(paypal, sid)

    assert revised.status_code == 200
    validate_response(SPEC, f"{ONE_SUB}/revise", "POST", 200, revised.json())
    assert "approve" in {link["rel"] for link in revised.json()["links"]}
    assert before_approval == pro["id"]
    assert after_approval["plan_id"] == retailer["id"]
    assert paypal.events("BILLING.SUBSCRIPTION.UPDATED")[0]["resource"]["id"] == sid
    assert incompatible.status_code == 422
    validate_response(SPEC, f"{ONE_SUB}/revise", "POST", 422, incompatible.json())
    assert [s["amount"]["total"] for s in sales(paypal, sid)] == ["29.00", "99.00"]


def test_transactions_list_payments_and_declines(paypal) -> None:
    _, sid = active_subscription(paypal)
    fail_next(paypal, sid, 1)
    _to_next_billing(paypal, sid)
    advance(paypal, sid, 1)
    start = show(paypal, sid)["start_time"]
    end = (_time(start) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")

    listed = paypal.get(f"{SUBS}/{sid}/transactions", params={"start_time": start, "end_time": end})
    no_range = paypal.get(f"{SUBS}/{sid}/transactions")

    assert listed.status_code == 200, listed.text
    validate_response(SPEC, f"{ONE_SUB}/transactions", "GET", 200, listed.json())
    statuses = [t["status"] for t in listed.json()["transactions"]]
    assert statuses == ["COMPLETED", "DECLINED", "COMPLETED"]
    assert no_range.status_code == 400


def test_a_subscription_starting_later_waits_approved_until_its_start_time(paypal) -> None:
    created_plan = plan(paypal, plan_body(product(paypal)["id"]))
    start = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = paypal.post(SUBS, json={"plan_id": created_plan["id"], "start_time": start})
    sid = response.json()["id"]
    past = paypal.post(
        SUBS, json={"plan_id": created_plan["id"], "start_time": "2020-01-01T00:00:00Z"}
    )

    approve(paypal, sid)
    waiting = show(paypal, sid)["status"]
    sales_while_waiting = len(sales(paypal, sid))
    advance(paypal, sid, 3)

    assert response.status_code == 201
    assert past.status_code == 400
    validate_response(SPEC, SUBS, "POST", 400, past.json())
    assert waiting == "APPROVED"
    assert sales_while_waiting == 0
    started = show(paypal, sid)
    assert started["status"] == "ACTIVE"
    assert started["start_time"] == start
    assert [s["amount"]["total"] for s in sales(paypal, sid)] == ["29.00"]
