"""PayPal Payments v2 refunds read as our `ProviderRefund`, and the refund request we send.

    PayPal refund status     ours
    COMPLETED                SUCCEEDED
    PENDING                  PENDING   (e-check funded, or held: PayPal settles it later)
    FAILED                   FAILED    (+ status_details.reason)
    CANCELLED                CANCELED

A refund's `custom_id` is our refund id: `refund_request` sets it on every refund we make, and
PayPal echoes it on the refund, on `PAYMENT.CAPTURE.REFUNDED` and in the order's
`purchase_units[].payments.refunds`. That is how a refund found after its PayPal-Request-Id
expired is recognised as ours (`refund_id_hint`); a refund made in PayPal's web UI has none.
(`invoice_id` is no hint: PayPal copies the capture's, our payment id, onto refunds.)

PayPal has no "refunds of a capture" list: an order shows every refund of its captures in
`purchase_units[].payments.refunds` (Orders v2 `payment_collection`), which is what
`refunds_of_order` reads. A refund without id, a known status or an amount cannot be read:
`ValueError`, which the adapter reports as a malformed answer (the refund may exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpay.domain import Money
from eventpay.ports import ProviderRefund, ProviderRefundStatus, RefundRequest
from eventpay.providers.paypal_money import from_paypal, to_paypal

__all__ = ["REFUND_STATUS", "is_complete", "refund_from", "refund_request", "refunds_of_order"]

REFUND_STATUS: Mapping[str, ProviderRefundStatus] = {
    "COMPLETED": ProviderRefundStatus.SUCCEEDED,
    "PENDING": ProviderRefundStatus.PENDING,
    "FAILED": ProviderRefundStatus.FAILED,
    "CANCELLED": ProviderRefundStatus.CANCELED,
}


def refund_request(request: RefundRequest) -> dict[str, Any]:
    """The `POST /v2/payments/captures/{id}/refund` body: amount and our refund id.

    The reason is ours, not a note for the buyer: PayPal shows `note_to_payer` to them.
    """
    return {"amount": to_paypal(request.amount), "custom_id": request.refund_id}


def is_complete(refund: Mapping[str, Any]) -> bool:
    """Whether an answer carries what `refund_from` reads (a minimal one does not)."""
    return "status" in refund and isinstance(refund.get("amount"), Mapping)


def refund_from(refund: Mapping[str, Any]) -> ProviderRefund:
    """One PayPal refund as ours; `ValueError`/`KeyError` when it cannot be read."""
    refund_id = refund["id"]
    if not isinstance(refund_id, str) or not refund_id:
        raise ValueError("a PayPal refund needs an id")
    status = REFUND_STATUS.get(str(refund.get("status")))
    if status is None:
        raise ValueError(f"unknown PayPal refund status {str(refund.get('status'))[:40]!r}")
    amount = refund["amount"]
    if not isinstance(amount, Mapping):
        raise ValueError("a PayPal refund needs an amount")
    details = refund.get("status_details") or {}
    custom_id = refund.get("custom_id")
    return ProviderRefund(
        provider_refund_id=refund_id,
        status=status,
        amount=from_paypal(amount),
        failure_reason=str(details["reason"]) if details.get("reason") else None,
        refund_id_hint=custom_id if isinstance(custom_id, str) and custom_id else None,
        fee_returned=fee_returned(refund),
    )


def fee_returned(refund: Mapping[str, Any]) -> Money | None:
    """The share of the capture's fee PayPal gave back with the refund
    (`seller_payable_breakdown.paypal_fee`); None when the refund does not say."""
    breakdown = refund.get("seller_payable_breakdown")
    fee = breakdown.get("paypal_fee") if isinstance(breakdown, Mapping) else None
    if not isinstance(fee, Mapping):
        return None
    try:
        return from_paypal(fee)
    except (ValueError, KeyError):
        return None


def refunds_of_order(order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every refund an order shows, over all its purchase units (we create one)."""
    found: list[Mapping[str, Any]] = []
    for unit in order["purchase_units"]:
        payments = unit.get("payments") or {}
        for refund in payments.get("refunds") or ():
            if not isinstance(refund, Mapping):
                raise ValueError("a PayPal refund must be an object")
            found.append(refund)
    return found
