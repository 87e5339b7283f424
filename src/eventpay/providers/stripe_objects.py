"""Reading Stripe's objects (PaymentIntents, Refunds, the events about them) into port values.

Every amount crosses through stripe_currency.py, so a value here is already in ISO minor units.
An object without the fields we rely on (`id`, `amount`, `currency`, a known status...) is
`malformed` (ProviderOutcomeUnknown "provider_malformed_answer") when it is Stripe's answer to
a call; events use the same readers, and their caller retries or dead-letters the event. A
refund event's amount stays optional (it only serves refunds made in Stripe's dashboard), so an
unusable one is left out there instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventpay.domain import Money, PaymentStatus
from eventpay.ports import (
    PaymentUpdate,
    ProviderPayment,
    ProviderRefund,
    ProviderRefundStatus,
    RefundUpdate,
)
from eventpay.providers.stripe_currency import StripeUnitsError, from_stripe
from eventpay.providers.stripe_errors import malformed

# PaymentIntent statuses as our attempt states. `requires_payment_method` after a confirmation
# is a failed try (last_payment_error set); before any try it is just "created".
_STATUS = {
    "requires_payment_method": PaymentStatus.CREATED,
    "requires_confirmation": PaymentStatus.CREATED,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}

EVENT_STATUS = {
    "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
    "payment_intent.payment_failed": PaymentStatus.FAILED,
    "payment_intent.requires_action": PaymentStatus.REQUIRES_ACTION,
    "payment_intent.processing": PaymentStatus.PROCESSING,
    "payment_intent.canceled": PaymentStatus.CANCELED,
}

REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})

_REFUND_STATUS = {
    "pending": ProviderRefundStatus.PENDING,
    "requires_action": ProviderRefundStatus.PENDING,
    "succeeded": ProviderRefundStatus.SUCCEEDED,
    "failed": ProviderRefundStatus.FAILED,
    "canceled": ProviderRefundStatus.CANCELED,
}


def _object(value: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise malformed(f"expected a {kind} object")
    if not isinstance(value.get("id"), str) or not value["id"]:
        raise malformed(f"a {kind} without an id")
    return value


def _money(obj: Mapping[str, Any], field: str = "amount") -> Money:
    try:
        return from_stripe(obj.get(field), obj.get("currency"))
    except StripeUnitsError as exc:
        raise malformed(f"{obj.get('id')} {field}: {exc}") from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def id_of(reference: Any) -> str | None:
    """The id of a referenced object (`latest_charge`, a refund's `charge`/`payment_intent`).

    Real Stripe sends an id; localstripe (and an expanded read) an object.
    """
    if isinstance(reference, Mapping):
        return _text(reference.get("id"))
    return _text(reference)


def _failure(intent: Mapping[str, Any]) -> tuple[str | None, str | None]:
    error = intent.get("last_payment_error")
    if not isinstance(error, Mapping):
        return None, None
    return _text(error.get("decline_code")) or _text(error.get("code")), _text(error.get("message"))


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return {}
    return {str(k): str(v) for k, v in metadata.items()}


def _received(intent: Mapping[str, Any]) -> int | None:
    if intent.get("amount_received") is None:
        return None  # localstripe leaves it out
    return _money(intent, "amount_received").amount


def _fee(intent: Mapping[str, Any]) -> Money | None:
    """Stripe's fee, from the expanded `latest_charge.balance_transaction`; None when the read
    did not expand it, or the balance settled in another currency than the charge."""
    charge = intent.get("latest_charge")
    transaction = charge.get("balance_transaction") if isinstance(charge, Mapping) else None
    if not isinstance(transaction, Mapping) or transaction.get("fee") is None:
        return None
    fee = _money(transaction, "fee")
    return fee if fee.currency == str(intent.get("currency", "")).lower() else None


def to_payment(value: Any) -> ProviderPayment:
    """A PaymentIntent as Stripe answered it."""
    intent = _object(value, "PaymentIntent")
    status = intent.get("status")
    if status not in _STATUS:
        raise malformed(f"PaymentIntent {intent['id']} has an unknown status {status!r}")
    ours = _STATUS[status]
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        ours = PaymentStatus.FAILED
    code, message = _failure(intent)
    return ProviderPayment(
        provider_ref=intent["id"],
        status=ours,
        amount=_money(intent),
        amount_received=_received(intent),
        client_secret=_text(intent.get("client_secret")),
        failure_code=code,
        failure_message=message,
        metadata=_metadata(intent),
        capture_id=id_of(intent.get("latest_charge")),
        fee=_fee(intent),
    )


def to_refund(value: Any) -> ProviderRefund:
    """A Refund as Stripe answered it; `refund_id_hint` is ours from `metadata.refund_id`."""
    refund = _object(value, "Refund")
    status = refund.get("status")
    if status not in _REFUND_STATUS:
        raise malformed(f"Refund {refund['id']} has an unknown status {status!r}")
    return ProviderRefund(
        provider_refund_id=refund["id"],
        status=_REFUND_STATUS[status],
        amount=_money(refund),
        failure_reason=_text(refund.get("failure_reason")),
        refund_id_hint=_metadata(refund).get("refund_id"),
    )


def payment_update(status: PaymentStatus, value: Any) -> PaymentUpdate:
    """A `payment_intent.*` event's object as the update it means."""
    intent = _object(value, "PaymentIntent")
    code, message = _failure(intent)
    return PaymentUpdate(
        provider_ref=intent["id"],
        status=status,
        payment_id_hint=_metadata(intent).get("payment_id"),
        amount=_money(intent),
        amount_received=_received(intent),
        failure_code=code,
        failure_message=message,
        capture_id=id_of(intent.get("latest_charge")),
    )


def refund_update(value: Any) -> RefundUpdate:
    """A `refund.*` event's object; made in the dashboard, it carries no id of ours."""
    refund = _object(value, "Refund")
    try:
        amount: Money | None = from_stripe(refund.get("amount"), refund.get("currency"))
    except StripeUnitsError:
        amount = None
    return RefundUpdate(
        provider_refund_id=refund["id"],
        refund_id_hint=_metadata(refund).get("refund_id"),
        status=_REFUND_STATUS.get(str(refund.get("status")), ProviderRefundStatus.PENDING),
        failure_reason=_text(refund.get("failure_reason")),
        payment_provider_ref=id_of(refund.get("payment_intent")),
        capture_id=id_of(refund.get("charge")),
        amount=amount,
    )
