"""Stripe Connect in settlement: the transfers of separate charges and their reversals.

An order spanning several organizers is one charge (transfer group: the order id); when it
succeeds, `queue_transfers` writes one `connect_transfers` row per organizer whose account can
take charges, for their net of the money received (`domain.connect.transfers_for`), and the
janitor sends them (`services.transfers`). `transfer_sent` books what Stripe sent
(`transfer:<row id>:sent`: Dr the organizer's payable, Cr Stripe clearing, no order). A refund
(`queue_reversals`) lowers a transfer not asked for yet, or queues a reversal of the sent one
for the organizer's share of the refund, sent by the janitor once its transfer was;
`reversal_sent` books it (`reversal:<row id>:sent`, the other way). Every change is audited.
Called by `settlement.connect` and `services.transfers` only; nothing here calls a provider.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from eventpay.domain.connect import organizers_of, reversal_for, transfer_posting, transfers_for
from eventpay.domain.ledger import OrderShares
from eventpay.ports import (
    SYSTEM_ACTOR,
    OrderRecord,
    PaymentRecord,
    Principal,
    ProviderName,
    RefundRecord,
    TransferRecord,
    TransferReversalRecord,
    TransferStatus,
    UnitOfWork,
)
from eventpay.services import audit


def sent_cause(transfer_id: str) -> str:
    return f"transfer:{transfer_id}:sent"


def reversal_sent_cause(reversal_id: str) -> str:
    return f"reversal:{reversal_id}:sent"


def transfer_key(payment_id: str, organizer_id: str) -> str:
    return f"transfer:{payment_id}:{organizer_id}"


def queue_transfers(
    uow: UnitOfWork,
    order: OrderRecord,
    payment: PaymentRecord,
    shares: OrderShares,
    group: str,
    net_before: int,
    net_after: int,
    actor: Principal | str,
    now: datetime,
) -> None:
    """A separate charge succeeded: one transfer per organizer whose account can take it."""
    if uow.connect.transfers_for_payment(payment.id):
        return
    enabled = uow.connect.charge_enabled(organizers_of(shares))
    due = transfers_for(shares, enabled, net_before=net_before, net_after=net_after)
    for organizer_id, amount in due.items():
        transfer = TransferRecord(
            id=str(uuid.uuid4()),
            payment_id=payment.id,
            order_id=order.id,
            organizer_id=organizer_id,
            destination=enabled[organizer_id],
            amount=amount,
            currency=payment.currency,
            transfer_group=group,
            status=TransferStatus.PENDING,
            idempotency_key=transfer_key(payment.id, organizer_id),
            created_at=now,
            updated_at=now,
            next_check_at=now,
        )
        uow.connect.add_transfer(transfer)
        audit.record_payment(
            uow,
            payment,
            "transfer.queued",
            actor=actor,
            now=now,
            details={
                "transfer_id": transfer.id,
                "organizer_id": organizer_id,
                "destination": transfer.destination,
                "amount": amount,
                "currency": transfer.currency,
                "transfer_group": group,
            },
        )


def queue_reversals(
    uow: UnitOfWork,
    refund: RefundRecord,
    payment: PaymentRecord,
    shares: OrderShares,
    net_before: int,
    net_after: int,
    now: datetime,
) -> None:
    """A refund of a separate charge: take back from each organizer's transfer their share of
    it, sent by the janitor once the transfer itself was sent. A refund that fails after
    succeeding gives nothing back to the organizers' accounts: they stay owed it (payable)."""
    for transfer in uow.connect.transfers_for_payment(payment.id, for_update=True):
        if transfer.status in (TransferStatus.FAILED, TransferStatus.CANCELED):
            continue
        taken = sum(r.amount for r in uow.connect.reversals_for_transfer(transfer.id))
        back = reversal_for(
            shares,
            transfer.organizer_id,
            net_before=net_before,
            net_after=net_after,
            left=transfer.amount - taken,
        )
        if back <= 0:
            continue
        if transfer.status is TransferStatus.PENDING and transfer.checks == 0:
            # Never asked for yet: send less (Stripe refuses more than the charge still holds).
            # One whose outcome was unknown keeps its amount (its key must send the same
            # request) and is taken back once sent.
            transfer.amount -= back
            transfer.updated_at = now
            if transfer.amount == 0:
                transfer.status = TransferStatus.CANCELED
            uow.connect.save_transfer(transfer)
            _audit_transfer(uow, transfer, "transfer.reduced", actor=SYSTEM_ACTOR, now=now)
            continue
        _queue_reversal(uow, transfer, back, refund_id=refund.id, now=now)


def _queue_reversal(
    uow: UnitOfWork, transfer: TransferRecord, amount: int, *, refund_id: str, now: datetime
) -> None:
    reversal = TransferReversalRecord(
        id=str(uuid.uuid4()),
        transfer_id=transfer.id,
        refund_id=refund_id,
        amount=amount,
        status=TransferStatus.PENDING,
        idempotency_key=f"reversal:{refund_id}:{transfer.organizer_id}",
        created_at=now,
        updated_at=now,
        next_check_at=now,
    )
    uow.connect.add_reversal(reversal)
    _audit_reversal(
        uow, transfer, reversal, "transfer_reversal.queued", actor=SYSTEM_ACTOR, now=now
    )


def reversal_sent(
    uow: UnitOfWork,
    transfer: TransferRecord,
    reversal: TransferReversalRecord,
    *,
    provider_reversal_id: str,
    actor: Principal | str,
    now: datetime,
) -> None:
    """Stripe took the amount back from the organizer's account: mark it and post it once
    (`reversal:<row id>:sent`, Dr Stripe clearing, Cr the organizer's payable)."""
    reversal.status = TransferStatus.SENT
    reversal.provider_reversal_id = provider_reversal_id
    reversal.updated_at = now
    uow.connect.save_reversal(reversal)
    transfer.reversed_amount += reversal.amount
    transfer.updated_at = now
    uow.connect.save_transfer(transfer)
    transaction = transfer_posting(
        cause=reversal_sent_cause(reversal.id),
        kind="connect_transfer_reversal",
        organizer_id=transfer.organizer_id,
        provider=ProviderName.STRIPE.value,
        currency=transfer.currency,
        amount=-reversal.amount,
    )
    if transaction is not None:
        uow.ledger.post(transaction, at=now)
    _audit_reversal(uow, transfer, reversal, "transfer_reversal.sent", actor=actor, now=now)


def reversal_refused(
    uow: UnitOfWork,
    transfer: TransferRecord,
    reversal: TransferReversalRecord,
    *,
    reason: str,
    actor: Principal | str,
    now: datetime,
) -> None:
    """Stripe refused to take it back (the organizer's balance cannot cover it): a person
    settles it with the organizer; nothing moves in the ledger."""
    reversal.status = TransferStatus.FAILED
    reversal.failure_reason = reason[:500]
    reversal.updated_at = now
    uow.connect.save_reversal(reversal)
    _audit_reversal(uow, transfer, reversal, "transfer_reversal.failed", actor=actor, now=now)


def _audit_reversal(
    uow: UnitOfWork,
    transfer: TransferRecord,
    reversal: TransferReversalRecord,
    action: str,
    *,
    actor: Principal | str,
    now: datetime,
) -> None:
    audit.record(
        uow,
        entity_type="transfer_reversal",
        entity_id=reversal.id,
        payment_id=transfer.payment_id,
        order_id=transfer.order_id,
        action=action,
        actor=actor,
        now=now,
        details={
            "transfer_id": transfer.id,
            "refund_id": reversal.refund_id,
            "organizer_id": transfer.organizer_id,
            "amount": reversal.amount,
            "currency": transfer.currency,
            "provider_reversal_id": reversal.provider_reversal_id,
            "failure_reason": reversal.failure_reason,
        },
    )


def transfer_sent(
    uow: UnitOfWork,
    transfer: TransferRecord,
    *,
    provider_transfer_id: str,
    sent_amount: int,
    actor: Principal | str,
    now: datetime,
) -> None:
    """Stripe made the transfer: mark it sent and move the money out of the organizer's
    payable, once (keyed by the transfer row). A refund may have lowered (or cancelled) the
    transfer while it was on its way: what Stripe sent is booked, and the difference is taken
    back by a reversal."""
    owed = transfer.amount if transfer.status is TransferStatus.PENDING else 0
    transfer.status = TransferStatus.SENT
    transfer.provider_transfer_id = provider_transfer_id
    transfer.amount = sent_amount
    transfer.updated_at = now
    uow.connect.save_transfer(transfer)
    if sent_amount > owed:
        _queue_reversal(
            uow, transfer, sent_amount - owed, refund_id=f"transfer:{transfer.id}", now=now
        )
    transaction = transfer_posting(
        cause=sent_cause(transfer.id),
        kind="connect_transfer",
        organizer_id=transfer.organizer_id,
        provider=ProviderName.STRIPE.value,
        currency=transfer.currency,
        amount=transfer.amount,
    )
    if transaction is not None:
        uow.ledger.post(transaction, at=now)
    _audit_transfer(uow, transfer, "transfer.sent", actor=actor, now=now)


def transfer_refused(
    uow: UnitOfWork, transfer: TransferRecord, *, reason: str, actor: Principal | str, now: datetime
) -> None:
    """Stripe definitely refused the transfer: it stays owed (payable), for a person to see."""
    transfer.status = TransferStatus.FAILED
    transfer.failure_reason = reason[:500]
    transfer.updated_at = now
    uow.connect.save_transfer(transfer)
    _audit_transfer(uow, transfer, "transfer.failed", actor=actor, now=now)


def _audit_transfer(
    uow: UnitOfWork, transfer: TransferRecord, action: str, *, actor: Principal | str, now: datetime
) -> None:
    audit.record(
        uow,
        entity_type="transfer",
        entity_id=transfer.id,
        payment_id=transfer.payment_id,
        order_id=transfer.order_id,
        action=action,
        actor=actor,
        now=now,
        details={
            "organizer_id": transfer.organizer_id,
            "destination": transfer.destination,
            "amount": transfer.amount,
            "currency": transfer.currency,
            "provider_transfer_id": transfer.provider_transfer_id,
            "failure_reason": transfer.failure_reason,
        },
    )
