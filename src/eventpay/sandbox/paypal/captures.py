"""Capturing an approved order, and what becomes of the capture afterwards.

`POST /v2/checkout/orders/{id}/capture` needs an APPROVED order (else ORDER_NOT_APPROVED) and
refuses a second capture of a completed one (ORDER_ALREADY_CAPTURED). Its result is whatever
the test set with `/_sandbox/orders/{id}/capture-outcome` (default COMPLETED), used once:

- COMPLETED: 201, order COMPLETED, capture COMPLETED, PAYMENT.CAPTURE.COMPLETED.
- PENDING: 201, order COMPLETED, capture PENDING with `status_details.reason` (default
  PENDING_REVIEW), PAYMENT.CAPTURE.PENDING; later `/_sandbox/captures/{id}/complete` (→ COMPLETED,
  PAYMENT.CAPTURE.COMPLETED) or `/deny` (→ DECLINED, PAYMENT.CAPTURE.DENIED).
- DECLINED: follows PayPal's "handle funding failures" guide for PayPal-wallet orders: 422
  UNPROCESSABLE_ENTITY with issue INSTRUMENT_DECLINED and a `redirect` link back to the approval
  page; the order returns to its pre-approval status so the buyer can choose another funding
  source and approve again, after which a new capture may succeed. The declined capture is kept
  (DECLINED, visible on the order and at GET /v2/payments/captures/{id}) and
  PAYMENT.CAPTURE.DECLINED is emitted, as PayPal does for declined captures.
"""

from __future__ import annotations

from . import identifiers, money
from .errors import Issue, UnprocessableEntity, invalid, link
from .gateway import Call, Reply
from .orders import checkout_url, render
from .payment_views import render_capture
from .records import CAPTURE_OUTCOMES, JSON, CaptureOutcome, CaptureRecord, OrderRecord
from .store import Store

REASONS = (
    "BUYER_COMPLAINT",
    "CHARGEBACK",
    "ECHECK",
    "INTERNATIONAL_WITHDRAWAL",
    "OTHER",
    "PENDING_REVIEW",
    "RECEIVING_PREFERENCE_MANDATES_MANUAL_ACTION",
    "REFUNDED",
    "TRANSACTION_APPROVED_AWAITING_FUNDING",
    "UNILATERAL",
    "VERIFICATION_REQUIRED",
)
_DEFAULT_REASON = {"PENDING": "PENDING_REVIEW", "DECLINED": "OTHER"}
_SUMMARY = {
    "COMPLETED": "Payment completed for {amount}",
    "PENDING": "Payment pending for {amount}",
    "DECLINED": "A payment capture for {amount} was declined.",
    "DENIED": "A payment capture for {amount} was denied.",
}


def set_outcome(store: Store, order_id: str, body: JSON) -> CaptureOutcome:
    """Program the next capture of an order: `{"status", "reason"?}`."""
    record = store.order(order_id)
    status = body.get("status")
    if status not in CAPTURE_OUTCOMES:
        raise invalid("/status", status)
    reason = body.get("reason")
    if reason is not None and (status == "COMPLETED" or reason not in REASONS):
        raise invalid("/reason", reason)
    record.outcome = CaptureOutcome(status, reason or _DEFAULT_REASON.get(status))
    return record.outcome


def capture_order(store: Store, call: Call) -> Reply:
    record = store.order(call.path("id"))
    order = record.order
    captured = [store.state.captures[cid] for cid in record.capture_ids]
    if any(c.capture["status"] != "DECLINED" for c in captured):
        raise UnprocessableEntity(Issue("ORDER_ALREADY_CAPTURED", location="path"))
    if order["status"] != "APPROVED":
        raise UnprocessableEntity(Issue("ORDER_NOT_APPROVED", location="path"))
    outcome, record.outcome = record.outcome, CaptureOutcome()
    capture = _new_capture(record, outcome)
    store.state.captures[capture.capture["id"]] = capture
    record.capture_ids.append(capture.capture["id"])
    order["update_time"] = capture.capture["update_time"]
    if outcome.status == "DECLINED":
        order["status"] = record.awaiting_status
        _emit(store, capture, "DECLINED", call.base_url)
        redirect = link(checkout_url(call.base_url, order["id"]), "redirect")
        raise UnprocessableEntity(Issue("INSTRUMENT_DECLINED", location="body"), links=[redirect])
    order["status"] = "COMPLETED"
    _emit(store, capture, outcome.status, call.base_url)
    if call.representation:
        return Reply(201, render(store, record, call.base_url, full=True))
    return Reply(201, _minimal(store, record, call.base_url))


def _minimal(store: Store, record: OrderRecord, base_url: str) -> JSON:
    """PayPal's default capture answer: the order's payments without the request's details."""
    full = render(store, record, base_url, full=True)
    unit = full["purchase_units"][0]
    return {
        "id": full["id"],
        "status": full["status"],
        "payment_source": full["payment_source"],
        "purchase_units": [{"reference_id": unit["reference_id"], "payments": unit["payments"]}],
        "payer": full["payer"],
        "links": full["links"],
    }


def _new_capture(record: OrderRecord, outcome: CaptureOutcome) -> CaptureRecord:
    unit = record.order["purchase_units"][0]
    currency = unit["amount"]["currency_code"]
    gross = money.parse(unit["amount"]["value"], currency)
    now = identifiers.timestamp()
    capture: JSON = {"id": identifiers.resource_id(), "status": outcome.status}
    if outcome.status != "COMPLETED":
        capture["status_details"] = {"reason": outcome.reason}
    capture["amount"] = money.amount(gross, currency)
    capture["final_capture"] = True
    capture["seller_protection"] = {
        "status": "ELIGIBLE",
        "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
    }
    if outcome.status != "DECLINED":
        fee = money.checkout_fee(gross, currency)
        capture["seller_receivable_breakdown"] = {
            "gross_amount": money.amount(gross, currency),
            "paypal_fee": money.amount(fee, currency),
            "net_amount": money.amount(gross - fee, currency),
        }
    for key in ("invoice_id", "custom_id"):
        if key in unit:
            capture[key] = unit[key]
    capture["create_time"] = capture["update_time"] = now
    return CaptureRecord(capture, record.order["id"], currency, gross)


def retrieve(store: Store, call: Call) -> Reply:
    record = store.capture(call.path("id"))
    return Reply(200, render_capture(record, call.base_url, standalone=True))


def settle_pending(store: Store, capture_id: str, *, completed: bool, base_url: str) -> JSON:
    """Move a PENDING capture on: COMPLETED, or DECLINED (PayPal's `DENIED` event)."""
    record = store.capture(capture_id)
    capture = record.capture
    if capture["status"] != "PENDING":
        raise UnprocessableEntity(Issue("INVALID_PARAMETER_VALUE", field="status", location="path"))
    capture["update_time"] = identifiers.timestamp()
    if completed:
        capture["status"] = "COMPLETED"
        capture.pop("status_details", None)
        _emit(store, record, "COMPLETED", base_url)
    else:
        capture["status"] = "DECLINED"
        capture.pop("seller_receivable_breakdown", None)
        capture["status_details"] = {"reason": "OTHER"}
        _emit(store, record, "DENIED", base_url)
    return render_capture(record, base_url, standalone=True)


def _emit(store: Store, record: CaptureRecord, what: str, base_url: str) -> None:
    shown = f"{record.capture['amount']['value']} {record.currency}"
    store.emit(
        f"PAYMENT.CAPTURE.{what}",
        render_capture(record, base_url, standalone=True),
        summary=_SUMMARY[what].format(amount=shown),
        base_url=base_url,
    )
