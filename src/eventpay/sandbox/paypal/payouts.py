"""Payouts v1: batch payouts to PayPal accounts, settling a moment after they are created.

`POST /v1/payments/payouts` validates the batch (PayPal's `VALIDATION_ERROR` with per-item
details) and answers 201 with the batch PENDING. A `sender_batch_id` already used is refused the
way PayPal refuses it in practice (the specification documents the rule but no example):
400 `USER_BUSINESS_ERROR` with detail `{"field": "SENDER_BATCH_ID", "issue": "Batch with given
sender_batch_id already exists"}` and a link to the original batch. About a second later (or at
once on `POST /_sandbox/payouts/{id}/process`) each item settles: SUCCESS, or UNCLAIMED with
`RECEIVER_UNREGISTERED` when the receiver ends in `@unknown.example.com`; the batch becomes
SUCCESS. Events: PAYMENT.PAYOUTS-ITEM.SUCCEEDED / .UNCLAIMED per item, then
PAYMENT.PAYOUTSBATCH.SUCCESS. One currency per batch (a sandbox simplification).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from . import identifiers, money
from .errors import BusinessError, Issue, link
from .gateway import Call, Reply
from .records import JSON, PayoutBatchRecord
from .store import Store

PROCESSING_DELAY_S = 1.0
UNCLAIMED_DOMAIN = "@unknown.example.com"
_RECIPIENT_TYPES = ("EMAIL", "PHONE", "PAYPAL_ID")
_RECEIVER = {
    "EMAIL": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "PHONE": re.compile(r"^\+?[0-9][0-9 -]{5,30}$"),
    "PAYPAL_ID": re.compile(r"^[2-9A-HJ-NP-Z]{13}$"),
}
_INFO = "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors"

Schedule = Callable[[float, Callable[[], object]], None]


def batch_url(base_url: str, batch_id: str) -> str:
    return f"{base_url}/v1/payments/payouts/{batch_id}"


def item_url(base_url: str, item_id: str) -> str:
    return f"{base_url}/v1/payments/payouts-item/{item_id}"


def _validation(field: str, issue: str) -> BusinessError:
    detail = Issue(issue, field=field, location="body")
    return BusinessError(detail, name="VALIDATION_ERROR", message="Invalid request - see details")


def create(store: Store, call: Call, *, schedule: Schedule) -> Reply:
    header = call.body.get("sender_batch_header")
    if not isinstance(header, dict):
        raise _validation("sender_batch_header", "Required field missing")
    sender_batch_id = header.get("sender_batch_id")
    if sender_batch_id is not None and not isinstance(sender_batch_id, str):
        raise _validation("sender_batch_header.sender_batch_id", "Invalid value")
    original = store.state.sender_batch_ids.get(sender_batch_id or "")
    if original is not None:
        raise BusinessError(
            Issue(
                "Batch with given sender_batch_id already exists",
                field="SENDER_BATCH_ID",
                value=sender_batch_id,
                location="body",
            ),
            name="USER_BUSINESS_ERROR",
            message="User business error.",
            links=[link(batch_url(call.base_url, original), "self")],
        )
    default_type = header.get("recipient_type", "EMAIL")
    items, currency = _items(call.body.get("items"), default_type)
    batch_id = identifiers.payout_id()
    total = sum(money.parse(i["payout_item"]["amount"]["value"], currency) for i in items)
    fees = sum(money.parse(i["payout_item_fee"]["value"], currency) for i in items)
    kept = ("sender_batch_id", "email_subject", "email_message", "recipient_type")
    batch_header: JSON = {
        "payout_batch_id": batch_id,
        "batch_status": "PENDING",
        "time_created": identifiers.timestamp(),
        "sender_batch_header": {k: header[k] for k in kept if k in header},
        "funding_source": "BALANCE",
        "amount": money.payout_amount(total, currency),
        "fees": money.payout_amount(fees, currency),
    }
    for item in items:
        item["payout_item_id"] = identifiers.payout_id()
        item["payout_batch_id"] = batch_id
        if sender_batch_id is not None:
            item["sender_batch_id"] = sender_batch_id
        store.state.payout_items[item["payout_item_id"]] = item
    record = PayoutBatchRecord(batch_header, [i["payout_item_id"] for i in items], call.base_url)
    store.state.batches[batch_id] = record
    if sender_batch_id is not None:
        store.state.sender_batch_ids[sender_batch_id] = batch_id

    def settle() -> None:
        with store.lock:
            if store.state.batches.get(batch_id) is record:
                process(store, batch_id)

    schedule(PROCESSING_DELAY_S, settle)
    shown = {k: batch_header[k] for k in ("payout_batch_id", "batch_status", "time_created")}
    shown["sender_batch_header"] = batch_header["sender_batch_header"]
    return Reply(
        201, {"batch_header": shown, "links": [link(batch_url(call.base_url, batch_id), "self")]}
    )


def _items(raw: Any, default_type: Any) -> tuple[list[JSON], str]:
    if not isinstance(raw, list) or not raw:
        raise _validation("items", "Required field missing")
    currencies = set()
    items: list[JSON] = []
    for index, entry in enumerate(raw):
        at = f"items[{index}]"
        if not isinstance(entry, dict):
            raise _validation(at, "Invalid value")
        kind = entry.get("recipient_type", default_type)
        if kind not in _RECIPIENT_TYPES:
            raise _validation(f"{at}.recipient_type", "Invalid recipient type")
        receiver = entry.get("receiver")
        if not isinstance(receiver, str) or not _RECEIVER[kind].match(receiver):
            raise _validation(f"{at}.receiver", "Receiver is invalid or does not match with type")
        amount = entry.get("amount")
        if not isinstance(amount, dict) or "value" not in amount or "currency" not in amount:
            raise _validation(f"{at}.amount", "Required field missing")
        try:
            minor = money.parse(amount["value"], amount["currency"])
        except money.MoneyProblem as problem:
            raise _validation(f"{at}.amount", f"Invalid amount: {problem}") from problem
        if minor <= 0:
            raise _validation(f"{at}.amount.value", "Amount must be greater than zero")
        currencies.add(amount["currency"])
        detail: JSON = {
            "recipient_type": kind,
            "amount": money.payout_amount(minor, amount["currency"]),
        }
        for key in ("note", "sender_item_id", "purpose"):
            if isinstance(entry.get(key), str):
                detail[key] = entry[key]
        detail["receiver"] = receiver
        detail["recipient_wallet"] = "PAYPAL"
        fee = money.payout_fee(minor, amount["currency"])
        items.append(
            {
                "transaction_status": "PENDING",
                "payout_item_fee": money.payout_amount(fee, amount["currency"]),
                "payout_item": detail,
            }
        )
    if len(currencies) > 1:
        raise _validation("items", "All items of a batch must use the same currency")
    return items, currencies.pop()


def process(store: Store, batch_id: str) -> JSON:
    """Settle a PENDING batch now (idempotent); returns the batch as GET shows it."""
    record = store.batch(batch_id)
    header = record.header
    base = record.base_url
    if header["batch_status"] == "PENDING":
        for item_id in record.item_ids:
            item = store.state.payout_items[item_id]
            unclaimed = item["payout_item"]["receiver"].lower().endswith(UNCLAIMED_DOMAIN)
            item["transaction_id"] = identifiers.resource_id()
            item["transaction_status"] = "UNCLAIMED" if unclaimed else "SUCCESS"
            item["time_processed"] = identifiers.timestamp()
            if unclaimed:
                item["errors"] = {
                    "name": "RECEIVER_UNREGISTERED",
                    "message": "Receiver is unregistered",
                    "debug_id": identifiers.debug_id(),
                    "information_link": _INFO,
                    "details": [],
                }
            event = "UNCLAIMED" if unclaimed else "SUCCEEDED"
            store.emit(
                f"PAYMENT.PAYOUTS-ITEM.{event}",
                render_item(item, base),
                summary=f"A payout item is {'unclaimed' if unclaimed else 'succeeded'}",
                base_url=base,
            )
        header["batch_status"] = "SUCCESS"
        header["time_completed"] = identifiers.timestamp()
        store.emit(
            "PAYMENT.PAYOUTSBATCH.SUCCESS",
            {
                "batch_header": copy.deepcopy(header),
                "links": [link(batch_url(base, batch_id), "self")],
            },
            summary="Payouts batch completed successfully.",
            base_url=base,
        )
    return render_batch(store, record, base)


def render_item(item: JSON, base_url: str) -> JSON:
    out = copy.deepcopy(item)
    out["links"] = [
        link(item_url(base_url, item["payout_item_id"]), "item"),
        link(batch_url(base_url, item["payout_batch_id"]), "batch"),
    ]
    return out


def render_batch(store: Store, record: PayoutBatchRecord, base_url: str) -> JSON:
    batch_id = record.header["payout_batch_id"]
    items = [store.state.payout_items[i] for i in record.item_ids]
    rendered = []
    for item in items:
        shown = render_item(item, base_url)
        shown.pop("sender_batch_id", None)
        shown["links"] = shown["links"][:1]
        rendered.append(shown)
    return {
        "batch_header": copy.deepcopy(record.header),
        "items": rendered,
        "links": [link(batch_url(base_url, batch_id), "self")],
    }


def retrieve_batch(store: Store, call: Call) -> Reply:
    return Reply(200, render_batch(store, store.batch(call.path("id")), call.base_url))


def retrieve_item(store: Store, call: Call) -> Reply:
    return Reply(200, render_item(store.payout_item(call.path("id")), call.base_url))
