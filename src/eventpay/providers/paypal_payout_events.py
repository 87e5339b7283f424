"""PayPal Payouts webhooks and item reads, reduced to the values the core applies to its payouts.

    event type                          resource        value
    PAYMENT.PAYOUTS-ITEM.<WORD>         payouts_item    PayoutItemUpdate
      SUCCEEDED, UNCLAIMED, RETURNED,
      FAILED, BLOCKED, CANCELED, DENIED,
      HELD, REFUNDED
    PAYMENT.PAYOUTSBATCH.<WORD>         payouts         PayoutBatchUpdate (the batch's status;
      SUCCESS, DENIED, PROCESSING                       PayPal puts no items in these events)
    anything else                       -               None

An item's `status` is PayPal's own word, its resource's `transaction_status` (the event's word
when the resource has none). `outcome` sorts PayPal's words by where the money is, which is all
the core needs to post the ledger and tell the organizer; what to do about it is the core's:

    outcome     PayPal's transaction_status                 the money
    PAID        SUCCESS                                     with the receiver
    UNCLAIMED   UNCLAIMED                                   left us; PayPal returns it if
                                                            nobody claims it (30 days)
    RETURNED    RETURNED, REFUNDED, REVERSED (and an item   back in our PayPal balance
                CANCELED by the sender)
    FAILED      FAILED, BLOCKED, DENIED                     never left
    PENDING     PENDING, ONHOLD (HELD), NEW, anything else  not decided yet

`get_payout_item` (paypal_payouts) answers the same `PayoutItemUpdate`, so a webhook and a poll
are handled alike. Only verified events reach this module; a payouts event that names no item
or batch raises `ValueError` rather than letting a payout's fate pass unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventpay.domain import Money
from eventpay.ports import PayoutItemUpdate, PayoutOutcome
from eventpay.providers.paypal_money import from_paypal

__all__ = [
    "PayoutBatchUpdate",
    "PayoutItemUpdate",
    "PayoutOutcome",
    "item_update",
    "outcome_of",
    "parse_payout_event",
]

ITEM_EVENT = "PAYMENT.PAYOUTS-ITEM."
BATCH_EVENT = "PAYMENT.PAYOUTSBATCH."


_OUTCOMES = {
    "SUCCESS": PayoutOutcome.PAID,
    "UNCLAIMED": PayoutOutcome.UNCLAIMED,
    "RETURNED": PayoutOutcome.RETURNED,
    "REFUNDED": PayoutOutcome.RETURNED,
    "REVERSED": PayoutOutcome.RETURNED,
    "CANCELED": PayoutOutcome.RETURNED,
    "FAILED": PayoutOutcome.FAILED,
    "BLOCKED": PayoutOutcome.FAILED,
    "DENIED": PayoutOutcome.FAILED,
}
# The event's last word, as the item status it announces.
_EVENT_STATUS = {"SUCCEEDED": "SUCCESS", "HELD": "ONHOLD"}


@dataclass(frozen=True, slots=True)
class PayoutBatchUpdate:
    provider_batch_id: str
    batch_id: str | None  # ours: sender_batch_id
    status: str  # PENDING, PROCESSING, SUCCESS, DENIED, CANCELED


def outcome_of(status: str) -> PayoutOutcome:
    return _OUTCOMES.get(status.upper(), PayoutOutcome.PENDING)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _money(value: Any) -> Money | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return from_paypal(value)
    except ValueError:
        return None


def item_update(resource: Mapping[str, Any], *, status: str | None = None) -> PayoutItemUpdate:
    """The update a payout item resource carries; `status` when the resource names none."""
    item_id, batch_id = resource.get("payout_item_id"), resource.get("payout_batch_id")
    if not _text(item_id) or not _text(batch_id):
        raise ValueError("a payout item needs payout_item_id and payout_batch_id")
    word = _text(resource.get("transaction_status")) or status or "PENDING"
    detail = resource.get("payout_item")
    detail = detail if isinstance(detail, Mapping) else {}
    errors = resource.get("errors")
    return PayoutItemUpdate(
        provider_item_id=str(item_id),
        provider_batch_id=str(batch_id),
        item_id=_text(detail.get("sender_item_id")),
        batch_id=_text(resource.get("sender_batch_id")),
        status=word,
        outcome=outcome_of(word),
        amount=_money(detail.get("amount")),
        fee=_money(resource.get("payout_item_fee")),
        transaction_id=_text(resource.get("transaction_id")),
        reason=_text(errors.get("name")) if isinstance(errors, Mapping) else None,
    )


def _batch_update(resource: Mapping[str, Any], word: str) -> PayoutBatchUpdate:
    header = resource.get("batch_header")
    header = header if isinstance(header, Mapping) else {}
    batch_id = _text(header.get("payout_batch_id"))
    if batch_id is None:
        raise ValueError("a payouts batch event needs batch_header.payout_batch_id")
    sender = header.get("sender_batch_header")
    sender = sender if isinstance(sender, Mapping) else {}
    return PayoutBatchUpdate(
        provider_batch_id=batch_id,
        batch_id=_text(sender.get("sender_batch_id")),
        status=_text(header.get("batch_status")) or word,
    )


def parse_payout_event(
    event_type: str, payload: Mapping[str, Any]
) -> PayoutItemUpdate | PayoutBatchUpdate | None:
    """The update a Payouts event carries; None for any other event."""
    if not event_type.startswith((ITEM_EVENT, BATCH_EVENT)):
        return None
    resource = payload.get("resource")
    if not isinstance(resource, Mapping):
        raise ValueError(f"{event_type} event has no resource")
    word = event_type.rsplit(".", 1)[1]
    if event_type.startswith(BATCH_EVENT):
        return _batch_update(resource, word)
    return item_update(resource, status=_EVENT_STATUS.get(word, word))
