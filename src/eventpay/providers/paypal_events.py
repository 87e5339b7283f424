"""PayPal webhook events reduced to the `PaymentUpdate` the core applies to one attempt, and
`PAYMENT.CAPTURE.REFUNDED` to the `RefundUpdate` it applies to one refund.

    event type                  resource    update
    CHECKOUT.ORDER.APPROVED     order       PROCESSING, capture_required (the core captures)
    PAYMENT.CAPTURE.COMPLETED   capture     SUCCEEDED, capture_id, amount, amount_received
    PAYMENT.CAPTURE.PENDING     capture     PROCESSING, capture_id
    PAYMENT.CAPTURE.DENIED      capture     FAILED, PayPal's reason (no capture_id: no money)
    PAYMENT.CAPTURE.DECLINED    capture     FAILED, PayPal's reason (no capture_id: no money)
    anything else               -           None (refunds, payouts, disputes and invoices are
                                            the core's later work, not a payment's state)

`provider_ref` is always the PayPal ORDER id (what the attempt stores): a capture names its
order in `supplementary_data.related_ids.order_id`, or else in its `up` link. The hint is our
payment id, sent as the purchase unit's `custom_id`, which PayPal copies onto the capture.
Only verified events reach this module; a capture event that names no order raises
`ValueError` rather than letting money arrive unnoticed.

A refund resource names its capture only in its `up` link (`/v2/payments/captures/{id}`);
its `custom_id` is our refund id when we made it, absent when someone refunded at PayPal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import PaymentUpdate, ProviderRefundStatus, RefundUpdate
from eventpay.providers.paypal_money import from_paypal
from eventpay.providers.paypal_orders import CaptureView, capture_failure_message
from eventpay.providers.paypal_refunds import REFUND_STATUS, fee_returned

__all__ = [
    "CAPTURES_PATH",
    "ORDERS_PATH",
    "capture_id_of_refund",
    "order_id_of_capture",
    "parse_event",
    "parse_refund_event",
]

ORDERS_PATH = "/v2/checkout/orders/"
CAPTURES_PATH = "/v2/payments/captures/"

_CAPTURE_EVENTS = {
    "PAYMENT.CAPTURE.COMPLETED": PaymentStatus.SUCCEEDED,
    "PAYMENT.CAPTURE.PENDING": PaymentStatus.PROCESSING,
    "PAYMENT.CAPTURE.DENIED": PaymentStatus.FAILED,
    "PAYMENT.CAPTURE.DECLINED": PaymentStatus.FAILED,
}


def order_id_of_capture(capture: Mapping[str, Any]) -> str | None:
    supplementary = capture.get("supplementary_data") or {}
    related = supplementary.get("related_ids") or {}
    if related.get("order_id"):
        return str(related["order_id"])
    return _linked_id(capture, ORDERS_PATH)


def _approved(order: Mapping[str, Any]) -> PaymentUpdate:
    units = order.get("purchase_units") or ()
    unit: Mapping[str, Any] = units[0] if units else {}
    amount = unit.get("amount")
    return PaymentUpdate(
        provider_ref=str(order["id"]),
        status=PaymentStatus.PROCESSING,
        payment_id_hint=str(unit["custom_id"]) if unit.get("custom_id") else None,
        amount=from_paypal(amount) if isinstance(amount, Mapping) else None,
        capture_required=True,
    )


def _capture(event_type: str, status: PaymentStatus, resource: Mapping[str, Any]) -> PaymentUpdate:
    capture = CaptureView(resource)
    order_id = order_id_of_capture(resource)
    if order_id is None:
        raise ValueError(f"{event_type} for capture {capture.id} names no order")
    failed = status is PaymentStatus.FAILED
    word = capture.status or event_type.rsplit(".", 1)[1]
    return PaymentUpdate(
        provider_ref=order_id,
        status=status,
        payment_id_hint=str(resource["custom_id"]) if resource.get("custom_id") else None,
        amount=capture.amount,
        amount_received=(
            capture.amount.amount
            if status is PaymentStatus.SUCCEEDED and capture.amount is not None
            else None
        ),
        failure_code=(capture.reason or word) if failed else None,
        failure_message=capture_failure_message(word, capture.reason) if failed else None,
        # A refused capture moved no money: nothing will refer to it.
        capture_id=None if failed else capture.id,
        fee=capture.fee if status is PaymentStatus.SUCCEEDED else None,
    )


def parse_event(event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None:
    """The update an event carries for one payment attempt; None when it moves none."""
    status = _CAPTURE_EVENTS.get(event_type)
    if status is None and event_type != "CHECKOUT.ORDER.APPROVED":
        return None
    resource = payload.get("resource")
    if not isinstance(resource, Mapping):
        raise ValueError(f"{event_type} event has no resource")
    if status is None:
        return _approved(resource)
    return _capture(event_type, status, resource)


def capture_id_of_refund(refund: Mapping[str, Any]) -> str | None:
    """The capture a refund returns money from: its `up` link, `.../v2/payments/captures/{id}`."""
    return _linked_id(refund, CAPTURES_PATH)


def _linked_id(resource: Mapping[str, Any], path: str) -> str | None:
    for link in resource.get("links") or ():
        if not isinstance(link, Mapping) or link.get("rel") != "up":
            continue
        href = str(link.get("href", ""))
        if path in href:
            found = href.split(path, 1)[1].split("/")[0].split("?")[0]
            if found:
                return found
    return None


def _refund_amount(refund: Mapping[str, Any]) -> Money | None:
    amount = refund.get("amount")
    if not isinstance(amount, Mapping):
        return None
    try:
        return from_paypal(amount)
    except ValueError:
        return None


def parse_refund_event(event_type: str, payload: Mapping[str, Any]) -> RefundUpdate | None:
    """`PAYMENT.CAPTURE.REFUNDED` carries the refund; our refund id is its `custom_id`.

    A refund made in PayPal's web UI has no `custom_id`; its capture (the `up` link) and its
    `amount` are what the core records it by. An unusable amount is left out (None) rather than
    refused: the core needs it only for a refund that is not ours, and decides then.
    """
    if event_type != "PAYMENT.CAPTURE.REFUNDED":
        return None
    resource = payload.get("resource")
    if not isinstance(resource, Mapping) or "id" not in resource:
        raise ValueError(f"{event_type} event has no refund resource")
    details = resource.get("status_details") or {}
    return RefundUpdate(
        provider_refund_id=str(resource["id"]),
        refund_id_hint=str(resource["custom_id"]) if resource.get("custom_id") else None,
        status=REFUND_STATUS.get(str(resource.get("status")), ProviderRefundStatus.PENDING),
        failure_reason=details.get("reason"),
        capture_id=capture_id_of_refund(resource),
        amount=_refund_amount(resource),
        fee_returned=fee_returned(resource),
    )
