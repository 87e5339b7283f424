"""The one place that changes a payout's status, and books what that moved, in one unit of work.

A provider's report (a PAYMENT.PAYOUTS-ITEM.* webhook, a poll by the janitor, the answer to
the batch) becomes a `PayoutStatus`; `domain.payouts.next_status` decides whether it moves the
payout (a late or repeated report changes nothing), and the transition's ledger transaction is
posted here with the status change, keyed by payout and step, so a replay never posts twice.
A payout that failed or came back leaves the organizer's money available again and tells them
why (its status and reason, readable through the API, and an audit entry).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eventpay.domain.payouts import (
    PayoutFacts,
    PayoutStatus,
    fee_posting,
    next_status,
    posting_for,
)
from eventpay.domain.schedule import next_check_at
from eventpay.ports import PayoutItemUpdate, PayoutOutcome, UnitOfWork
from eventpay.ports.payouts import PayoutRecord
from eventpay.services.audit import record

# Paid, failed and returned payouts are not polled again (a return after success arrives as a
# webhook); the janitor selects by status anyway.
_NEVER = timedelta(days=3650)

_REPORTED = {
    PayoutOutcome.PAID: PayoutStatus.PAID,
    PayoutOutcome.UNCLAIMED: PayoutStatus.UNCLAIMED,
    PayoutOutcome.RETURNED: PayoutStatus.RETURNED,
    PayoutOutcome.FAILED: PayoutStatus.FAILED,
    PayoutOutcome.PENDING: PayoutStatus.SENT,
}


def facts(payout: PayoutRecord) -> PayoutFacts:
    return PayoutFacts(
        payout_id=payout.id,
        organizer_id=payout.organizer_id,
        provider=payout.provider,
        amount=payout.amount,
    )


def move_payout(
    uow: UnitOfWork,
    payout: PayoutRecord,
    reported: PayoutStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> bool:
    """Move `payout` to `reported` if that is a step forward, posting what it moved; saves the
    payout either way (its next check). True when the status changed."""
    after = next_status(payout.status, reported)
    payout.updated_at = now
    if after is None:
        uow.payouts.save(payout)
        return False
    before = payout.status
    transaction = posting_for(facts(payout), before, after)
    if transaction is not None:
        uow.ledger.post(transaction, at=now)
    payout.status = after
    if after.is_final or after is PayoutStatus.PAID:
        payout.next_check_at = now + _NEVER
    if reason is not None:
        payout.failure_reason = reason[:500]
    uow.payouts.save(payout)
    record(
        uow,
        entity_type="payout",
        entity_id=payout.id,
        action=f"payout.{after.value}",
        actor=actor,
        now=now,
        details={
            "organizer_id": payout.organizer_id,
            "from": before.value,
            "amount": payout.amount.amount,
            "currency": payout.amount.currency,
            **({"reason": reason} if reason else {}),
            **(details or {}),
        },
    )
    return True


def apply_item_update(
    uow: UnitOfWork, update: PayoutItemUpdate, *, provider: str, actor: str, now: datetime
) -> bool:
    """Apply what the provider says about one payout item; False when it is not ours."""
    payout = uow.payouts.find_by_item(provider, update.provider_item_id)
    if payout is None and update.item_id is not None:
        payout = uow.payouts.get(update.item_id, for_update=True)
        if payout is not None and payout.provider != provider:
            payout = None
    if payout is None:
        return False
    payout.provider_item_id = payout.provider_item_id or update.provider_item_id
    payout.provider_batch_id = payout.provider_batch_id or update.provider_batch_id
    payout.provider_status = update.status[:32]
    payout.transaction_id = update.transaction_id or payout.transaction_id
    payout.checks += 1
    payout.next_check_at = next_check_at(now=now, checks_done=payout.checks)
    paid_now = next_status(payout.status, _REPORTED[update.outcome]) is PayoutStatus.PAID
    if paid_now and update.fee is not None and payout.fee is None:
        # The provider's fee for a payout that reached its receiver, booked with that step.
        fee_tx = fee_posting(facts(payout), update.fee)
        if fee_tx is not None:
            uow.ledger.post(fee_tx, at=now)
        payout.fee = update.fee
    move_payout(
        uow,
        payout,
        _REPORTED[update.outcome],
        actor=actor,
        now=now,
        reason=update.reason,
        details={"provider_status": update.status},
    )
    return True
