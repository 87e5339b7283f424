"""Payouts v1: batch payouts to PayPal accounts, settling a moment after they are created.

`POST /v1/payments/payouts` validates the batch (PayPal's `VALIDATION_ERROR` with per-item
details) and answers 201 with the batch PENDING. A `sender_batch_id` already used is refused the
way PayPal refuses it in practice (the specification documents the rule but no example):
400 `USER_BUSINESS_ERROR` with detail `{"field": "SENDER_BATCH_ID", "issue": "Batch with given
sender_batch_id already exists"}` and a link to the original batch (a retry with the same
PayPal-Request-Id replays the original 201 instead: gateway.py). About a second later (or at
once on `POST /_sandbox/payouts/{id}/process`) each item settles as its receiver says
(payout_outcomes.py: SUCCESS, UNCLAIMED, RETURNED, FAILED or BLOCKED) with its
PAYMENT.PAYOUTS-ITEM.* event; the batch then becomes SUCCESS (PAYMENT.PAYOUTSBATCH.SUCCESS), or
DENIED (PAYMENT.PAYOUTSBATCH.DENIED) when no item could be paid. An UNCLAIMED item is RETURNED
by itself after `PayoutTiming.return_after_s` (PayPal's 30 days unless the app or
`/_sandbox/payouts/return-after` says otherwise). One currency per batch (a sandbox
simplification).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from . import identifiers, money, payout_outcomes
from .errors import BusinessError, Issue, link
from .gateway import Call, Reply
from .records import JSON, PayoutBatchRecord
from .store import Store

PROCESSING_DELAY_S = 1.0
RETURN_UNCLAIMED_AFTER_S = 30 * 24 * 3600.0  # PayPal returns unclaimed payouts after 30 days
UNCLAIMED_DOMAIN = payout_outcomes.UNCLAIMED_DOMAIN
_RECIPIENT_TYPES = ("EMAIL", "PHONE", "PAYPAL_ID")
_RECEIVER = {
    "EMAIL": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    "PHONE": re.compile(r"^\+?[0-9][0-9 -]{5,30}$"),
    "PAYPAL_ID": re.compile(r"^[2-9A-HJ-NP-Z]{13}$"),
}

Schedule = Callable[[float, Callable[[], object]], None]


class PayoutTiming:
    """When the sandbox does payout work by itself: settling batches, returning unclaimed items."""

    def __init__(self, schedule: Schedule, *, return_after_s: float | None = None) -> None:
        self.schedule = schedule
        self._default = RETURN_UNCLAIMED_AFTER_S if return_after_s is None else return_after_s
        self.return_after_s = self._default

    def set_return_after(self, seconds: float | None) -> None:
        """Seconds an item stays UNCLAIMED before it is RETURNED; None: the app's default."""
        self.return_after_s = self._default if seconds is None else seconds

    def reset(self) -> None:
        self.return_after_s = self._default


def batch_url(base_url: str, batch_id: str) -> str:
    return f"{base_url}/v1/payments/payouts/{batch_id}"


def item_url(base_url: str, item_id: str) -> str:
    return f"{base_url}/v1/payments/payouts-item/{item_id}"


def _validation(field: str, issue: str) -> BusinessError:
    detail = Issue(issue, field=field, location="body")
    return BusinessError(detail, name="VALIDATION_ERROR", message="Invalid request - see details")


def create(store: Store, call: Call, *, timing: PayoutTiming) -> Reply:
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
                process(store, batch_id, timing)

    timing.schedule(PROCESSING_DELAY_S, settle)
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


def process(store: Store, batch_id: str, timing: PayoutTiming) -> JSON:
    """Settle a PENDING batch now (idempotent); returns the batch as GET shows it."""
    record = store.batch(batch_id)
    header = record.header
    base = record.base_url
    if header["batch_status"] == "PENDING":
        outcomes = []
        for item_id in record.item_ids:
            item = store.state.payout_items[item_id]
            outcomes.append(payout_outcomes.settle(item))
            payout_outcomes.emit(store, item, render_item(item, base), base)
            if item["transaction_status"] == "UNCLAIMED":
                _return_later(store, item, timing)
        denied = all(status in payout_outcomes.DENIED for status in outcomes)
        header["batch_status"] = "DENIED" if denied else "SUCCESS"
        header["time_completed"] = identifiers.timestamp()
        store.emit(
            f"PAYMENT.PAYOUTSBATCH.{header['batch_status']}",
            {
                "batch_header": copy.deepcopy(header),
                "links": [link(batch_url(base, batch_id), "self")],
            },
            summary="Payouts batch was denied."
            if denied
            else "Payouts batch completed successfully.",
            base_url=base,
        )
    return render_batch(store, record, base)


def _return_later(store: Store, item: JSON, timing: PayoutTiming) -> None:
    item_id = item["payout_item_id"]

    def give_up() -> None:
        with store.lock:
            current = store.state.payout_items.get(item_id)
            if current is item and item["transaction_status"] == "UNCLAIMED":
                move_unclaimed(store, item_id, "RETURNED")

    timing.schedule(timing.return_after_s, give_up)


def move_unclaimed(store: Store, item_id: str, to: str) -> JSON:
    """An UNCLAIMED item is RETURNED or claimed (SUCCESS) now, with its event; the item."""
    item = store.payout_item(item_id)
    payout_outcomes.move_unclaimed(item, to)
    base = store.batch(item["payout_batch_id"]).base_url
    rendered = render_item(item, base)
    payout_outcomes.emit(store, item, rendered, base)
    return rendered


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
