"""Paying an organizer's connected Stripe account: a payout as a Connect transfer.

The payout run's batches are PayPal-shaped (`PayoutProvider`); on Stripe each item is one
transfer from the platform's balance to the organizer's connected account, keyed
`payout:<payout id>` so a batch sent again after a lost answer makes no second transfer. A
transfer is settled when Stripe answers (the money is in the connected account's balance; the
account's own payouts to its bank are Stripe's business), so an item comes back PAID, or FAILED
with Stripe's reason when Stripe refuses that transfer (the others are not affected). An answer
that is lost (a timeout, a 5xx) stops the batch: it is sent again later, and the keys of the
items already made replay them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from eventpay.ports import (
    PayoutBatch,
    PayoutItem,
    PayoutItemStatus,
    PayoutItemUpdate,
    PayoutOutcome,
    ProviderRejected,
)
from eventpay.ports.connect import ConnectProvider, CreateTransfer

PAID = "paid"  # Stripe's transfers have no status of their own: made is paid
REFUSED = "refused"


class StripeTransferPayouts:
    payout_key_window = timedelta(hours=24)  # Stripe keeps idempotency keys 24 hours

    def __init__(self, connect: ConnectProvider) -> None:
        self._connect = connect

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch:
        made = []
        for item in items:
            try:
                transfer = self._connect.create_transfer(
                    CreateTransfer(
                        amount=item.amount,
                        destination=item.receiver,
                        transfer_group=batch_id,
                        source_transaction=None,
                        idempotency_key=f"payout:{item.item_id}",
                        metadata={"payout_id": item.item_id},
                    )
                )
            except ProviderRejected as exc:  # refused: this item only; a lost answer raises
                made.append(
                    PayoutItemStatus(
                        item_id=item.item_id,
                        provider_item_id=f"refused:{item.item_id}",
                        status=REFUSED,
                        amount=item.amount,
                        outcome=PayoutOutcome.FAILED,
                        reason=f"{exc.code}: {exc}"[:500],
                    )
                )
                continue
            made.append(
                PayoutItemStatus(
                    item_id=item.item_id,
                    provider_item_id=transfer.transfer_id,
                    status=PAID,
                    amount=transfer.amount,
                    outcome=PayoutOutcome.PAID,
                )
            )
        return PayoutBatch(
            batch_id=batch_id, provider_batch_id=batch_id, status=PAID, items=tuple(made)
        )

    def get_payout(self, provider_batch_id: str) -> PayoutBatch:
        raise ProviderRejected(
            "not_supported", "Stripe transfers are settled when made; there is nothing to poll"
        )

    def get_payout_item(self, provider_item_id: str) -> PayoutItemUpdate:
        raise ProviderRejected(
            "not_supported", "Stripe transfers are settled when made; there is nothing to poll"
        )

    def parse_payout_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> PayoutItemUpdate | None:
        return None
