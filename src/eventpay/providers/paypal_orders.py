"""PayPal Orders v2 shapes: the create-order body we send and the order we read back.

Status mapping (an order read, or the answer to a capture):

    PayPal order                    its capture          our PaymentStatus
    CREATED, SAVED,
    PAYER_ACTION_REQUIRED           none or refused      REQUIRES_ACTION (waits for the buyer
                                                         to approve at `approve_url`)
    APPROVED                        none or refused      PROCESSING (approved, not captured:
                                                         capture is still required)
    any                             COMPLETED,
                                    PARTIALLY_REFUNDED,
                                    REFUNDED             SUCCEEDED (+ capture_id, received)
    any                             PENDING              PROCESSING (+ capture_id)
    COMPLETED                       DECLINED, FAILED     FAILED (+ PayPal's reason)
    COMPLETED                       none                 PROCESSING
    VOIDED                          -                    CANCELED

A refunded capture still means the money arrived: refunds are separate attempts in the core.
A refused capture moved no money, so its id is never reported as the `capture_id`. When an
order holds several captures (a refused one, then one after the buyer changed funding), the
one that moved money counts.
Only one purchase unit is ever created, so only the first is read. Mapping never decides
anything; a shape we cannot read raises `ValueError` and the adapter reports it as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import CreatePayment, PaymentLine, ProviderPayment
from eventpay.providers.paypal_money import from_paypal, to_paypal

__all__ = [
    "BRAND_NAME",
    "CaptureView",
    "approve_link",
    "capture_failure_message",
    "current_capture",
    "order_request",
    "payment_from_order",
]

BRAND_NAME = "Car Audio Events"
_TEXT_LIMIT = 127  # PayPal's maximum for item names and purchase unit descriptions

_ORDER_STATUS = {
    "CREATED": PaymentStatus.REQUIRES_ACTION,
    "SAVED": PaymentStatus.REQUIRES_ACTION,
    "PAYER_ACTION_REQUIRED": PaymentStatus.REQUIRES_ACTION,
    "APPROVED": PaymentStatus.PROCESSING,
    "VOIDED": PaymentStatus.CANCELED,
}

CAPTURE_STATUS = {
    "COMPLETED": PaymentStatus.SUCCEEDED,
    "PARTIALLY_REFUNDED": PaymentStatus.SUCCEEDED,
    "REFUNDED": PaymentStatus.SUCCEEDED,
    "PENDING": PaymentStatus.PROCESSING,
    "DECLINED": PaymentStatus.FAILED,
    "FAILED": PaymentStatus.FAILED,
}


def _clip(text: str, fallback: str) -> str:
    text = " ".join(text.split())
    return (text or fallback)[:_TEXT_LIMIT]


def _items(request: CreatePayment) -> tuple[list[dict[str, Any]], Money, Money]:
    """PayPal items, item total and discount for the request's lines.

    PayPal items cannot be negative, so a negative line (a discount, a credit) goes to the
    breakdown's `discount`; zero lines carry no money and are left out.
    """
    lines: Sequence[PaymentLine] = request.lines or (
        PaymentLine(request.description, request.amount),
    )
    currency = request.amount.currency
    items: list[dict[str, Any]] = []
    item_total = Money.zero(currency)
    discount = Money.zero(currency)
    for line in lines:
        if line.amount.currency != currency:
            raise ValueError("every payment line must be in the payment's currency")
        if line.amount.is_negative():
            discount = discount - line.amount
        elif line.amount.is_positive():
            item_total = item_total + line.amount
            items.append(
                {
                    "name": _clip(line.description, "Registration"),
                    "quantity": "1",
                    "unit_amount": to_paypal(line.amount),
                }
            )
    if item_total - discount != request.amount:
        raise ValueError("the payment lines do not add up to the payment amount")
    return items, item_total, discount


def order_request(request: CreatePayment) -> dict[str, Any]:
    """The `POST /v2/checkout/orders` body for one payment attempt."""
    if not request.amount.is_positive():
        raise ValueError("a PayPal order needs a positive amount")
    items, item_total, discount = _items(request)
    breakdown: dict[str, Any] = {"item_total": to_paypal(item_total)}
    if discount.is_positive():
        breakdown["discount"] = to_paypal(discount)
    experience: dict[str, Any] = {
        "brand_name": BRAND_NAME,
        "user_action": "PAY_NOW",
        "shipping_preference": "NO_SHIPPING",
    }
    if request.return_url:
        experience["return_url"] = request.return_url
    if request.cancel_url:
        experience["cancel_url"] = request.cancel_url
    return {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "reference_id": request.order_id,
                # custom_id comes back on captures and their webhooks: it finds the attempt.
                "custom_id": request.payment_id,
                # Unique per attempt: PayPal refuses to capture a reused invoice id.
                "invoice_id": request.payment_id,
                "description": _clip(request.description, "Car Audio Events order"),
                "amount": {**to_paypal(request.amount), "breakdown": breakdown},
                "items": items,
            }
        ],
        "payment_source": {"paypal": {"experience_context": experience}},
    }


def approve_link(resource: Mapping[str, Any]) -> str | None:
    """Where the buyer approves: `payer-action` (with a payment source) or `approve`."""
    links = {
        str(link.get("rel")): str(link.get("href"))
        for link in resource.get("links") or ()
        if isinstance(link, Mapping) and link.get("href")
    }
    return links.get("payer-action") or links.get("approve")


class CaptureView:
    """The parts of a PayPal capture the core cares about."""

    def __init__(self, capture: Mapping[str, Any]) -> None:
        self.id = str(capture["id"])
        self.status = str(capture.get("status", ""))
        amount = capture.get("amount")
        self.amount = from_paypal(amount) if isinstance(amount, Mapping) else None
        details = capture.get("status_details") or {}
        self.reason = str(details["reason"]) if details.get("reason") else None
        # PayPal's fee on a completed capture: seller_receivable_breakdown.paypal_fee.
        breakdown = capture.get("seller_receivable_breakdown")
        fee = breakdown.get("paypal_fee") if isinstance(breakdown, Mapping) else None
        self.fee = from_paypal(fee) if isinstance(fee, Mapping) else None


def capture_failure_message(status: str, reason: str | None) -> str:
    said = "PayPal declined the capture" if status == "DECLINED" else "The PayPal capture failed"
    return f"{said} ({reason})" if reason else said


def current_capture(order: Mapping[str, Any]) -> CaptureView | None:
    """The capture that tells what became of the money.

    An order can hold a refused capture and, after the buyer chose another funding source, a
    good one: a capture that moved money wins, then one still pending, then the latest.
    """
    units = order.get("purchase_units") or ()
    payments = (units[0].get("payments") or {}) if units else {}
    captures = [CaptureView(capture) for capture in payments.get("captures") or ()]
    for wanted in (PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING):
        for capture in captures:
            if CAPTURE_STATUS.get(capture.status) is wanted:
                return capture
    return captures[-1] if captures else None


def payment_from_order(order: Mapping[str, Any]) -> ProviderPayment:
    """A PayPal order (any status) as our `ProviderPayment`; see the table above."""
    unit = order["purchase_units"][0]
    amount = from_paypal(unit["amount"])
    status_word = str(order.get("status", ""))
    if status_word not in _ORDER_STATUS and status_word != "COMPLETED":
        raise ValueError(f"unknown PayPal order status {status_word[:40]!r}")
    status = _ORDER_STATUS.get(status_word, PaymentStatus.PROCESSING)
    capture = current_capture(order)
    if capture is not None and capture.status not in CAPTURE_STATUS:
        raise ValueError(f"unknown PayPal capture status {capture.status[:40]!r}")
    captured = CAPTURE_STATUS[capture.status] if capture is not None else None
    moved = capture if captured in (PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING) else None
    received: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    if moved is not None and captured is not None:
        status = captured
        if captured is PaymentStatus.SUCCEEDED:
            received = (moved.amount or amount).amount
    elif capture is not None and status_word == "COMPLETED":
        status = PaymentStatus.FAILED
        failure_code = capture.reason or capture.status
        failure_message = capture_failure_message(capture.status, capture.reason)
    metadata = {
        key: str(unit[field])
        for key, field in (("payment_id", "custom_id"), ("order_id", "reference_id"))
        if unit.get(field)
    }
    return ProviderPayment(
        provider_ref=str(order["id"]),
        status=status,
        amount=amount,
        amount_received=received,
        approve_url=approve_link(order),
        failure_code=failure_code,
        failure_message=failure_message,
        metadata=metadata,
        # A refused capture moved no money: nothing to refund or dispute refers to it.
        capture_id=moved.id if moved is not None else None,
        fee=moved.fee if moved is not None and received is not None else None,
    )
