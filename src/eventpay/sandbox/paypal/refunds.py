"""Payments v2 refunds: `POST .../captures/{id}/refund` and `GET /v2/payments/refunds/{id}`.

A refund without `amount` refunds what is left of the capture. Refunds never exceed the
captured amount in total (REFUND_AMOUNT_EXCEEDED; CAPTURE_FULLY_REFUNDED once nothing is left),
must be in the capture's currency (REFUND_CAPTURE_CURRENCY_MISMATCH), and are refused for a
PENDING capture (PENDING_CAPTURE) or a DECLINED one (REFUND_NOT_ALLOWED). Each refund completes
at once, moves the capture to PARTIALLY_REFUNDED or REFUNDED and emits PAYMENT.CAPTURE.REFUNDED.
PayPal keeps the percentage part of its fee refunded in proportion and the fixed part; so does
this sandbox. `Prefer: return=minimal` (default) answers `{id, status, links}`.
"""

from __future__ import annotations

from typing import Any

from . import accounts, identifiers, money
from .errors import Issue, UnprocessableEntity, invalid, missing
from .gateway import Call, Reply
from .payment_views import render_refund
from .records import JSON, CaptureRecord, RefundRecord
from .store import Store

_TEXT_LIMITS = {"invoice_id": 127, "note_to_payer": 255, "custom_id": 127}


def refund_capture(store: Store, call: Call) -> Reply:
    capture = store.capture(call.path("id"))
    status = capture.capture["status"]
    if status == "PENDING":
        raise UnprocessableEntity(Issue("PENDING_CAPTURE", location="path"))
    if status == "DECLINED":
        raise UnprocessableEntity(Issue("REFUND_NOT_ALLOWED", location="path"))
    remaining = capture.amount_minor - capture.refunded_minor
    if remaining <= 0:
        raise UnprocessableEntity(Issue("CAPTURE_FULLY_REFUNDED", location="path"))
    body = call.body
    texts = {
        key: _text(body[key], key, limit) for key, limit in _TEXT_LIMITS.items() if key in body
    }
    minor = remaining if body.get("amount") is None else _amount(body["amount"], capture)
    if minor > remaining:
        raise UnprocessableEntity(Issue("REFUND_AMOUNT_EXCEEDED", field="/amount/value"))
    record = _new_refund(capture, minor, texts)
    store.state.refunds[record.refund["id"]] = record
    capture.refund_ids.append(record.refund["id"])
    capture.refunded_minor += minor
    capture.capture["status"] = (
        "REFUNDED" if capture.refunded_minor == capture.amount_minor else "PARTIALLY_REFUNDED"
    )
    capture.capture["update_time"] = record.refund["update_time"]
    rendered = render_refund(record, call.base_url)
    store.emit(
        "PAYMENT.CAPTURE.REFUNDED",
        rendered,
        summary=f"A {money.format_minor(minor, capture.currency)} {capture.currency} capture "
        "payment was refunded",
        base_url=call.base_url,
    )
    if call.representation:
        return Reply(201, rendered)
    return Reply(201, {k: rendered[k] for k in ("id", "status", "links")})


def retrieve(store: Store, call: Call) -> Reply:
    return Reply(200, render_refund(store.refund(call.path("id")), call.base_url))


def _amount(raw: Any, capture: CaptureRecord) -> int:
    if not isinstance(raw, dict):
        raise invalid("/amount", None, "INVALID_PARAMETER_SYNTAX")
    for key in ("currency_code", "value"):
        if key not in raw:
            raise missing(f"/amount/{key}")
    if raw["currency_code"] != capture.currency:
        field = "/amount/currency_code"
        raise UnprocessableEntity(Issue("REFUND_CAPTURE_CURRENCY_MISMATCH", field=field))
    try:
        minor = money.parse(raw["value"], raw["currency_code"])
    except money.MoneyProblem as problem:
        if problem.issue == "INVALID_PARAMETER_SYNTAX":
            raise invalid("/amount/value", raw["value"], problem.issue) from problem
        raise UnprocessableEntity(Issue(problem.issue, field="/amount/value")) from problem
    if minor <= 0:
        raise UnprocessableEntity(Issue("CANNOT_BE_ZERO_OR_NEGATIVE", field="/amount/value"))
    return minor


def _text(raw: Any, key: str, limit: int) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw) <= limit:
        raise invalid(f"/{key}", raw, "INVALID_STRING_LENGTH")
    return raw


def _new_refund(capture: CaptureRecord, minor: int, texts: dict[str, str]) -> RefundRecord:
    currency = capture.currency
    fee_back = money.share(minor, money.FEE_RATE)
    total = capture.refunded_minor + minor
    now = identifiers.timestamp()
    refund: JSON = {
        "id": identifiers.resource_id(),
        "amount": money.amount(minor, currency),
        "seller_payable_breakdown": {
            "gross_amount": money.amount(minor, currency),
            "paypal_fee": money.amount(fee_back, currency),
            "net_amount": money.amount(minor - fee_back, currency),
            "total_refunded_amount": money.amount(total, currency),
        },
        **texts,
        "status": "COMPLETED",
        "payer": accounts.payee(),
        "create_time": now,
        "update_time": now,
    }
    refund.setdefault("invoice_id", capture.capture.get("invoice_id"))
    if refund["invoice_id"] is None:
        del refund["invoice_id"]
    return RefundRecord(refund, capture.capture["id"])
