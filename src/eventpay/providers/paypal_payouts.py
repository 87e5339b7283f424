"""PayPal Payouts v1: paying organizers out in batches (`PayoutProvider`).

Our batch id is PayPal's `sender_batch_id`, and each item's id its `sender_item_id`. PayPal
makes a batch at most once per `sender_batch_id` within 30 days; the request also carries a
`PayPal-Request-Id` derived from the batch id (PayPal keeps those 30 days too), so a retry after
a lost answer replays the original batch instead of being refused. A `sender_batch_id` reused
under another request id is refused: that becomes `DuplicatePayoutBatch`, code
`duplicate_batch`, carrying the original batch's PayPal id when PayPal links to it.

A created batch is PENDING and lists no items yet (PayPal processes it asynchronously);
`get_payout` reads the batch and every item's status (SUCCESS, UNCLAIMED, PENDING, ...), and
`get_payout_item` one item in full (`PayoutItemUpdate` of paypal_payout_events: status, where
the money is, fee, PayPal's reason), the same value a PAYMENT.PAYOUTS-ITEM.* webhook gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from eventpay.ports import PayoutBatch, PayoutItem, PayoutItemStatus
from eventpay.providers.paypal_http import PayPalApi, PayPalRejected, reading
from eventpay.providers.paypal_money import from_paypal, to_payouts
from eventpay.providers.paypal_payout_events import PayoutItemUpdate, item_update, outcome_of

__all__ = ["DuplicatePayoutBatch", "PayPalPayouts", "payout_request"]

PAYOUTS_PATH = "/v1/payments/payouts"
ITEMS_PATH = "/v1/payments/payouts-item"
_PAGE_SIZE = 1000  # PayPal's maximum
_MAX_PAGES = 15  # 15,000 items: PayPal's largest batch


class DuplicatePayoutBatch(PayPalRejected):
    """PayPal already has a batch with this `sender_batch_id`; nothing new was paid."""

    def __init__(self, batch_id: str, provider_batch_id: str | None, cause: PayPalRejected):
        super().__init__(
            "duplicate_batch",
            f"PayPal already has payout batch {batch_id}"
            + (f" as {provider_batch_id}" if provider_batch_id else ""),
            status_code=cause.status_code,
            body=cause.body,
        )
        self.batch_id = batch_id
        self.provider_batch_id = provider_batch_id


def _recipient_type(receiver: str) -> str:
    return "EMAIL" if "@" in receiver else "PAYPAL_ID"


def payout_request(
    *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
) -> dict[str, Any]:
    if not items:
        raise ValueError("a payout batch needs at least one item")
    if len({item.amount.currency for item in items}) != 1:
        raise ValueError("PayPal pays every item of a batch in one currency")
    if any(not item.amount.is_positive() for item in items):
        raise ValueError("payout amounts must be positive")
    body_items: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {
            "recipient_type": _recipient_type(item.receiver),
            "receiver": item.receiver,
            "amount": to_payouts(item.amount),
            "sender_item_id": item.item_id,
        }
        if item.note:
            entry["note"] = item.note[:4000]
        body_items.append(entry)
    return {
        "sender_batch_header": {"sender_batch_id": batch_id, "email_subject": email_subject[:255]},
        "items": body_items,
    }


def _links(value: Any) -> Iterator[str]:
    """Every HATEOAS href anywhere in a PayPal error body."""
    if isinstance(value, Mapping):
        if isinstance(value.get("href"), str):
            yield value["href"]
        for child in value.values():
            yield from _links(child)
    elif isinstance(value, list):
        for child in value:
            yield from _links(child)


def _is_duplicate(error: PayPalRejected) -> bool:
    body = error.body
    details = body.get("details")
    texts = [str(body.get("name", "")), str(body.get("message", ""))]
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, Mapping):
            if "sender_batch_id" in str(detail.get("field", "")).lower():
                return True
            texts += [str(detail.get("issue", "")), str(detail.get("description", ""))]
    said = " ".join(texts).lower()
    return "duplicate" in said or ("sender_batch_id" in said and "already" in said)


def _original_batch_id(error: PayPalRejected) -> str | None:
    for href in _links(error.body):
        if PAYOUTS_PATH + "/" in href:
            tail = href.split(PAYOUTS_PATH + "/", 1)[1].split("?")[0].strip("/")
            if tail:
                return tail
    return None


def _item_status(entry: Mapping[str, Any]) -> PayoutItemStatus:
    detail = entry.get("payout_item") or {}
    return PayoutItemStatus(
        item_id=str(detail.get("sender_item_id", "")),
        provider_item_id=str(entry["payout_item_id"]) if entry.get("payout_item_id") else None,
        status=str(entry.get("transaction_status") or "PENDING"),
        amount=from_paypal(detail["amount"]),
        outcome=outcome_of(str(entry.get("transaction_status") or "PENDING")),
    )


def batch_from(answer: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> PayoutBatch:
    header = answer["batch_header"]
    sender = header.get("sender_batch_header") or {}
    return PayoutBatch(
        batch_id=str(sender.get("sender_batch_id", "")),
        provider_batch_id=str(header["payout_batch_id"]),
        status=str(header.get("batch_status", "PENDING")),
        items=tuple(_item_status(entry) for entry in items),
    )


class PayPalPayouts:
    def __init__(self, api: PayPalApi) -> None:
        self._api = api

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch:
        body = payout_request(batch_id=batch_id, items=items, email_subject=email_subject)
        try:
            answer = self._api.call(
                "POST", PAYOUTS_PATH, json=body, request_id=f"eventpay-payout-{batch_id}"
            )
        except PayPalRejected as exc:
            if _is_duplicate(exc):
                raise DuplicatePayoutBatch(batch_id, _original_batch_id(exc), exc) from None
            raise
        with reading("payout batch"):
            return batch_from(answer, answer.get("items") or ())

    def get_payout(self, provider_batch_id: str) -> PayoutBatch:
        path = f"{PAYOUTS_PATH}/{provider_batch_id}"
        answer = self._api.call("GET", path, params={"page": "1", "page_size": str(_PAGE_SIZE)})
        items = list(answer.get("items") or ())
        # Large batches come in pages; follow PayPal's own `next` links page by page.
        for page in range(2, _MAX_PAGES + 1):
            if not any(link.get("rel") == "next" for link in answer.get("links") or ()):
                break
            answer = self._api.call(
                "GET", path, params={"page": str(page), "page_size": str(_PAGE_SIZE)}
            )
            items += answer.get("items") or ()
        with reading("payout batch"):
            return batch_from(answer, items)

    def get_payout_item(self, provider_item_id: str) -> PayoutItemUpdate:
        answer = self._api.call("GET", f"{ITEMS_PATH}/{provider_item_id}")
        with reading("payout item"):
            return item_update(answer)
