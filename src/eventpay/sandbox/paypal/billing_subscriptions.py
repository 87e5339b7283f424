"""Subscriptions v1: create, show, cancel, suspend, activate, revise, capture, transactions.

- `POST /v1/billing/subscriptions` `{plan_id, subscriber?, application_context: {return_url,
  cancel_url, ...}?, custom_id?, start_time?}` → 201 APPROVAL_PENDING with an `approve` link to
  the buyer's page (billing_pages.py) and BILLING.SUBSCRIPTION.CREATED; minimal answer
  `{id, status, create_time, links}` unless `Prefer: return=representation`. An unknown plan is
  400 INVALID_PARAMETER_VALUE, an inactive one 422 PLAN_STATUS_INVALID, a quantity on a plan
  without `quantity_supported` 422 SUBSCRIPTION_CANNOT_HAVE_QUANTITY, a past start_time 400.
- `GET .../{id}` (`fields=last_failed_payment,plan`), `.../cancel` and `.../suspend` (`{reason}`
  required; 204 and the event; 422 SUBSCRIPTION_STATUS_INVALID from a status that does not
  allow it), `.../activate` (SUSPENDED only; 422 SUBSCRIPTION_CANNOT_BE_ACTIVATED while a
  subscription suspended by failed payments still owes its balance).
- `.../revise` `{plan_id}` → 200 `{plan_id, plan_overridden, links}`: another plan of the same
  product (else 422 PLAN_PRODUCT_NOT_COMPATIBLE; another currency CURRENCY_MISMATCH) needs the
  buyer's consent, so the answer carries an `approve` link; once approved the subscription
  changes plan (BILLING.SUBSCRIPTION.UPDATED) and the new price applies from the next billing
  date. PayPal does not prorate, and neither does the sandbox.
- `.../capture` `{note, capture_type: OUTSTANDING_BALANCE, amount}` collects (part of) the
  outstanding balance now → 200 the transaction (COMPLETED, or DECLINED while failures are
  armed); `.../transactions?start_time&end_time` lists payments, failed ones included.
- `GET /v1/payments/sale/{id}`: the v1 sale of a subscription payment.
Billing itself (periods, failures, retries, suspension) is billing_cycles.py's.
"""

from __future__ import annotations

import copy
from datetime import datetime
from urllib.parse import urlencode

from . import accounts, billing_cycles, identifiers, money
from .billing_catalog import plan as find_plan
from .billing_catalog import plan_currency
from .billing_records import (
    CANNOT_ACTIVATE,
    JSON,
    SubscriptionRecord,
    approval_token,
    billing_issue,
    found,
    invalid_field,
    missing_field,
    status_invalid,
    subscription_id,
)
from .billing_views import approve_url, minimal_subscription, render_sale, render_subscription
from .errors import InvalidRequest, Issue, UnprocessableEntity, link
from .gateway import Call, Reply
from .store import Store

_PAST_START = "Start time must be a valid future date and time."


def record_of(store: Store, sid: str) -> SubscriptionRecord:
    record: SubscriptionRecord = found(store.state.subscriptions.get(sid), "id", sid)
    return record


def _reason(call: Call, *, required: bool) -> str | None:
    reason = call.body.get("reason")
    if reason is None:
        if required:
            raise missing_field("/reason")
        return None
    if not isinstance(reason, str) or not reason:
        raise invalid_field("/reason", reason)
    if len(reason) > 128:
        raise invalid_field("/reason", reason, "INVALID_STRING_MAX_LENGTH")
    return reason


def _unprocessable(issue: str, description: str | None = None) -> UnprocessableEntity:
    return UnprocessableEntity(Issue(issue, location=None, description=description))


def create(store: Store, call: Call) -> Reply:
    body = call.body
    pid = body.get("plan_id")
    if pid is None:
        raise missing_field("/plan_id")
    if not isinstance(pid, str) or pid not in store.state.plans:
        raise invalid_field("/plan_id", pid)
    plan = store.state.plans[pid]
    if plan["status"] != "ACTIVE":
        raise status_invalid("create")
    if "quantity" in body and not plan["quantity_supported"]:
        raise _unprocessable(
            "SUBSCRIPTION_CANNOT_HAVE_QUANTITY",
            "Subscription can't have quantity as the plan does not support quantity.",
        )
    now = identifiers.now()
    start_at = _start_time(body.get("start_time"), now)
    context = body.get("application_context") or {}
    if not isinstance(context, dict):
        raise invalid_field("/application_context", None, "INVALID_PARAMETER_SYNTAX")
    urls = {}
    for key in ("return_url", "cancel_url"):
        url = context.get(key)
        if url is not None and (not isinstance(url, str) or not 10 <= len(url) <= 4000):
            raise invalid_field(f"/application_context/{key}", url)
        urls[key] = url
    created = identifiers.rfc3339(now)
    sub: JSON = {
        "id": subscription_id(),
        "plan_id": pid,
        "status": "APPROVAL_PENDING",
        "status_update_time": created,
        "start_time": identifiers.rfc3339(start_at or now),
        "quantity": str(body.get("quantity", "1")),
        "plan_overridden": False,
        "create_time": created,
        "update_time": created,
    }
    subscriber = body.get("subscriber")
    if isinstance(subscriber, dict):
        sub["subscriber"] = copy.deepcopy(subscriber)
    custom_id = body.get("custom_id")
    if custom_id is not None:
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 127:
            raise invalid_field("/custom_id", custom_id)
        sub["custom_id"] = custom_id
    record = SubscriptionRecord(
        subscription=sub,
        return_url=urls["return_url"],
        cancel_url=urls["cancel_url"],
        approval_token=approval_token(),
        currency=plan_currency(plan),
        start_at=start_at,
    )
    store.state.subscriptions[sub["id"]] = record
    billing_cycles.emit(
        store, record, "BILLING.SUBSCRIPTION.CREATED", "Subscription created", call.base_url
    )
    if call.representation:
        return Reply(201, render_subscription(record, plan, call.base_url))
    return Reply(201, minimal_subscription(record, call.base_url))


def _start_time(raw: object, now: datetime) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid_field("/start_time", raw, "INVALID_PARAMETER_SYNTAX") from exc
    if moment.tzinfo is None:
        raise invalid_field("/start_time", raw, "INVALID_PARAMETER_SYNTAX")
    if moment < now.replace(microsecond=0):
        issue = Issue("INVALID_PARAMETER_VALUE", field="/start_time", description=_PAST_START)
        raise InvalidRequest(issue)
    return moment


def retrieve(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    plan = billing_cycles.plan_of(store, record)
    fields = call.query.get("fields", "")
    return Reply(200, render_subscription(record, plan, call.base_url, fields))


def cancel(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    reason = _reason(call, required=True) or ""
    if record.subscription["status"] not in ("ACTIVE", "SUSPENDED"):
        raise status_invalid("cancel")
    billing_cycles.cancel(store, record, record.now(), reason, call.base_url)
    return Reply(204)


def suspend(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    reason = _reason(call, required=True) or ""
    if record.subscription["status"] != "ACTIVE":
        raise status_invalid("suspend")
    billing_cycles.suspend(store, record, record.now(), reason, call.base_url)
    return Reply(204)


def activate(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    reason = _reason(call, required=False)
    if record.subscription["status"] != "SUSPENDED":
        raise status_invalid("activate")
    if record.suspended_by_failures and record.outstanding_minor > 0:
        raise _unprocessable("SUBSCRIPTION_CANNOT_BE_ACTIVATED", CANNOT_ACTIVATE)
    billing_cycles.resume(store, record, reason, call.base_url)
    return Reply(204)


def revise(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    if record.subscription["status"] not in ("ACTIVE", "SUSPENDED"):
        raise _unprocessable(
            "SUBSCRIPTION_STATUS_INVALID", "Subscription status is not valid for revision."
        )
    pid = call.body.get("plan_id")
    if pid is None:
        raise missing_field("/plan_id")
    if not isinstance(pid, str) or pid not in store.state.plans:
        raise invalid_field("/plan_id", pid)
    new_plan = find_plan(store, pid)
    old_plan = billing_cycles.plan_of(store, record)
    if new_plan["status"] != "ACTIVE":
        raise status_invalid("create")
    if new_plan["product_id"] != old_plan["product_id"]:
        raise _unprocessable(
            "PLAN_PRODUCT_NOT_COMPATIBLE",
            "The old and the new plans should be for the same product.",
        )
    if plan_currency(new_plan) != record.currency:
        raise _unprocessable(
            "CURRENCY_MISMATCH", "The currency code is different from the plan's currency code."
        )
    out: JSON = {"plan_id": pid, "plan_overridden": False}
    links = []
    if pid != record.subscription["plan_id"]:
        record.pending_plan_id = pid
        record.approval_token = approval_token()
        context = call.body.get("application_context")
        if isinstance(context, dict):
            record.return_url = context.get("return_url", record.return_url)
            record.cancel_url = context.get("cancel_url", record.cancel_url)
        links.append(link(approve_url(call.base_url, record.approval_token), "approve"))
    url = f"{call.base_url}/v1/billing/subscriptions/{record.subscription['id']}"
    links += [link(url, "edit", "PATCH"), link(url, "self")]
    out["links"] = links
    return Reply(200, out)


def capture(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    body = call.body
    for key in ("note", "capture_type", "amount"):
        if key not in body:
            raise missing_field(f"/{key}")
    if body["capture_type"] != "OUTSTANDING_BALANCE":
        raise invalid_field("/capture_type", body["capture_type"])
    amount = body["amount"]
    if not isinstance(amount, dict):
        raise invalid_field("/amount", None, "INVALID_PARAMETER_SYNTAX")
    if amount.get("currency_code") != record.currency:
        raise _unprocessable("CURRENCY_MISMATCH")
    try:
        minor = money.parse(amount.get("value"), record.currency)
    except money.MoneyProblem as exc:
        raise InvalidRequest(billing_issue("INVALID_PARAMETER_VALUE", "/amount/value")) from exc
    if record.subscription["status"] not in ("ACTIVE", "SUSPENDED"):
        raise _unprocessable("SUBSCRIPTION_STATUS_INVALID")
    if record.outstanding_minor == 0:
        raise _unprocessable("ZERO_OUTSTANDING_BALANCE")
    if minor <= 0 or minor > record.outstanding_minor:
        raise _unprocessable("AMOUNT_GREATER_THAN_OUTSTANDING_BALANCE")
    entry = billing_cycles.attempt(store, record, minor, record.now(), call.base_url, new_debt=0)
    return Reply(200, copy.deepcopy(entry))


def transactions(store: Store, call: Call) -> Reply:
    record = record_of(store, call.path("id"))
    bounds = []
    for key in ("start_time", "end_time"):
        raw = call.query.get(key)
        if raw is None:
            raise missing_field(key)
        try:
            bounds.append(datetime.fromisoformat(raw.replace("Z", "+00:00")))
        except ValueError as exc:
            raise invalid_field(key, raw, "INVALID_PARAMETER_SYNTAX") from exc
    start, end = bounds
    chosen = [
        copy.deepcopy(t)
        for t in record.transactions
        if start <= datetime.fromisoformat(t["time"].replace("Z", "+00:00")) <= end
    ]
    url = f"{call.base_url}/v1/billing/subscriptions/{record.subscription['id']}/transactions"
    return Reply(
        200,
        {
            "transactions": chosen,
            "total_items": len(chosen),
            "total_pages": 1,
            "links": [link(url, "self")],
        },
    )


def retrieve_sale(store: Store, call: Call) -> Reply:
    sale_id = call.path("id")
    sale: JSON = found(store.state.sales.get(sale_id), "sale_id", sale_id)
    return Reply(200, render_sale(sale, call.base_url))


def approve(store: Store, record: SubscriptionRecord, base: str) -> str | None:
    """The test buyer consents (to the subscription, or to a revision); where the browser goes."""
    status = record.subscription["status"]
    if record.pending_plan_id is not None:
        billing_cycles.switch_plan(store, record, record.pending_plan_id, base)
    elif status == "APPROVAL_PENDING":
        subscriber = record.subscription.setdefault("subscriber", {})
        subscriber.update(email_address=accounts.BUYER_EMAIL, payer_id=accounts.BUYER_PAYER_ID)
        subscriber.setdefault(
            "name", {"given_name": accounts.BUYER_GIVEN_NAME, "surname": accounts.BUYER_SURNAME}
        )
        billing_cycles.start(store, record, base)
    else:
        raise _unprocessable("SUBSCRIPTION_STATUS_INVALID", "Nothing is waiting for approval.")
    return _redirect(record.return_url, record)


def decline(record: SubscriptionRecord) -> str | None:
    """The buyer cancels at PayPal: nothing changes; the browser goes to cancel_url."""
    return _redirect(record.cancel_url, record)


def _redirect(url: str | None, record: SubscriptionRecord) -> str | None:
    if url is None:
        return None
    query = {
        "subscription_id": record.subscription["id"],
        "ba_token": record.approval_token,
        "token": record.approval_token.removeprefix("BA-"),
    }
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
