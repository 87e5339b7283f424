"""Sending the transfers of separate charges to organizers' connected accounts, and their
reversals.

Settlement queues one `connect_transfers` row per organizer when a separate charge succeeds
(`settlement.connect_transfers.queue_transfers`); this step sends the due ones, one call each,
outside any transaction, with the idempotency key stored on the row
(`transfer:<payment id>:<organizer id>`), so a retry after a lost answer makes the same
transfer, never a second one. The charge is the transfer's `source_transaction` (the money is
transferred from that charge's funds, whenever they become available) and the order id its
`transfer_group`. The answer goes back to settlement, which marks the row sent and posts
`transfer:<row id>:sent`; a lost answer reschedules the row with backoff; a definite refusal
marks it failed (audited; the organizer is still owed the amount, in the ledger).

Reversals a refund queued (`queue_reversals`) are sent the same way, each with its own key
(`reversal:<refund id>:<organizer id>`), once their transfer was sent (selected in SQL).
Called by the janitor (every few seconds), so a transfer leaves shortly after its charge
succeeded.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from eventpay.domain import Money, next_check_at
from eventpay.domain.schedule import may_resend_blind
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    CreateTransfer,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRegistry,
    ProviderRejected,
    TransferStatus,
    UnitOfWorkFactory,
    connect_of,
)
from eventpay.services import audit
from eventpay.services.settlement.connect_transfers import (
    reversal_refused,
    reversal_sent,
    transfer_refused,
    transfer_sent,
)

log = structlog.get_logger(__name__)

BATCH = 50


def send_due_transfers(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Send the due pending transfers; how many were sent."""
    gateway = connect_of(providers.get(ProviderName.STRIPE))
    if gateway is None:
        return 0
    with uow_factory() as uow:
        due = list(uow.connect.due_transfers(now=clock(), limit=limit))
        charges = {t.payment_id: uow.payments.get(t.payment_id) for t in due}
    window = providers[ProviderName.STRIPE].capabilities.idempotency_window
    sent = 0
    for transfer in due:
        if not _claim_send(uow_factory, transfer.id, clock, window):
            continue
        payment = charges.get(transfer.payment_id)
        request = CreateTransfer(
            amount=Money(transfer.amount, transfer.currency),
            destination=transfer.destination,
            transfer_group=transfer.transfer_group,
            source_transaction=None if payment is None else payment.capture_id,
            idempotency_key=transfer.idempotency_key,
            metadata={
                "transfer_id": transfer.id,
                "payment_id": transfer.payment_id,
                "organizer_id": transfer.organizer_id,
            },
        )
        try:
            answer = gateway.create_transfer(request)
        except ProviderRejected as exc:
            _finish(uow_factory, transfer.id, clock, refused=f"{exc.code}: {exc.message}")
            continue
        except ProviderOutcomeUnknown as exc:
            # Already rescheduled by `_claim_send`; its key replays it within the window.
            log.info("transfer.outcome_unknown", transfer_id=transfer.id, code=exc.code)
            continue
        sent += _finish(
            uow_factory,
            transfer.id,
            clock,
            provider_transfer_id=answer.transfer_id,
            sent_amount=answer.amount.amount,
        )
    return sent


def _finish(
    uow_factory: UnitOfWorkFactory,
    transfer_id: str,
    clock: Clock,
    *,
    provider_transfer_id: str | None = None,
    sent_amount: int = 0,
    refused: str | None = None,
) -> int:
    with uow_factory() as uow:
        transfer = uow.connect.get_transfer(transfer_id, for_update=True)
        # Cancelled meanwhile by a refund, yet sent: booked as sent, then taken back.
        open_ = (TransferStatus.PENDING,) + (
            (TransferStatus.CANCELED,) if provider_transfer_id else ()
        )
        if transfer is None or transfer.status not in open_:
            return 0  # another worker recorded it first
        if provider_transfer_id is not None:
            transfer_sent(
                uow,
                transfer,
                provider_transfer_id=provider_transfer_id,
                sent_amount=sent_amount,
                actor=SYSTEM_ACTOR,
                now=clock(),
            )
        else:
            transfer_refused(uow, transfer, reason=refused or "", actor=SYSTEM_ACTOR, now=clock())
        uow.commit()
        return 1 if provider_transfer_id is not None else 0


def _claim_send(
    uow_factory: UnitOfWorkFactory, transfer_id: str, clock: Clock, window: timedelta
) -> bool:
    """Mark the transfer as asked for before asking (its next check, one more try), so a
    refund meanwhile takes it back by a reversal instead of changing the amount its key must
    send; False when it must not be sent blind any more (Stripe may have forgotten its key:
    a person checks Stripe, and it stays pending, never paid out another way)."""
    with uow_factory() as uow:
        transfer = uow.connect.get_transfer(transfer_id, for_update=True)
        if transfer is None or transfer.status is not TransferStatus.PENDING:
            return False
        now = clock()
        if transfer.checks > 0 and not may_resend_blind(
            first_sent=transfer.created_at, now=now, window=window
        ):
            transfer.next_check_at = now + timedelta(days=3650)
            transfer.failure_reason = "unanswered past Stripe's idempotency window: check Stripe"
            uow.connect.save_transfer(transfer)
            audit.record(
                uow,
                entity_type="transfer",
                entity_id=transfer.id,
                action="transfer.needs_review",
                actor=SYSTEM_ACTOR,
                now=now,
                order_id=transfer.order_id,
                details={"organizer_id": transfer.organizer_id, "amount": transfer.amount},
            )
            uow.commit()
            log.error("transfer.needs_review", transfer_id=transfer.id)
            return False
        transfer.checks += 1
        transfer.next_check_at = next_check_at(now=now, checks_done=transfer.checks)
        transfer.updated_at = now
        uow.connect.save_transfer(transfer)
        uow.commit()
        return True


def send_due_reversals(
    *, uow_factory: UnitOfWorkFactory, providers: ProviderRegistry, clock: Clock, limit: int = BATCH
) -> int:
    """Take back the due parts of sent transfers that refunds call for; how many were taken."""
    gateway = connect_of(providers.get(ProviderName.STRIPE))
    if gateway is None:
        return 0
    with uow_factory() as uow:
        due = [
            (reversal, uow.connect.get_transfer(reversal.transfer_id))
            for reversal in uow.connect.due_reversals(now=clock(), limit=limit)
        ]
    taken = 0
    for reversal, transfer in due:
        if transfer is None or transfer.provider_transfer_id is None:  # pragma: no cover
            continue  # selected only once their transfer was sent
        try:
            answer = gateway.create_transfer_reversal(
                transfer_id=transfer.provider_transfer_id,
                amount=Money(reversal.amount, transfer.currency),
                idempotency_key=reversal.idempotency_key,
            )
        except ProviderRejected as exc:
            _finish_reversal(uow_factory, reversal.id, clock, refused=f"{exc.code}: {exc.message}")
            continue
        except ProviderOutcomeUnknown as exc:
            log.info("transfer_reversal.outcome_unknown", reversal_id=reversal.id, code=exc.code)
            _reschedule_reversal(uow_factory, reversal.id, clock)
            continue
        taken += _finish_reversal(
            uow_factory, reversal.id, clock, reversed_by=answer.reversal_id or reversal.id
        )
    return taken


def _finish_reversal(
    uow_factory: UnitOfWorkFactory,
    reversal_id: str,
    clock: Clock,
    *,
    reversed_by: str | None = None,
    refused: str | None = None,
) -> int:
    with uow_factory() as uow:
        reversal = uow.connect.get_reversal(reversal_id, for_update=True)
        if reversal is None or reversal.status is not TransferStatus.PENDING:
            return 0
        transfer = uow.connect.get_transfer(reversal.transfer_id, for_update=True)
        assert transfer is not None  # foreign key
        if reversed_by is not None:
            reversal_sent(
                uow,
                transfer,
                reversal,
                provider_reversal_id=reversed_by,
                actor=SYSTEM_ACTOR,
                now=clock(),
            )
        else:
            reversal_refused(
                uow, transfer, reversal, reason=refused or "", actor=SYSTEM_ACTOR, now=clock()
            )
        uow.commit()
        return 1 if reversed_by is not None else 0


def _reschedule_reversal(uow_factory: UnitOfWorkFactory, reversal_id: str, clock: Clock) -> None:
    with uow_factory() as uow:
        reversal = uow.connect.get_reversal(reversal_id, for_update=True)
        if reversal is None or reversal.status is not TransferStatus.PENDING:
            return
        now = clock()
        reversal.checks += 1
        reversal.next_check_at = next_check_at(now=now, checks_done=reversal.checks)
        reversal.updated_at = now
        uow.connect.save_reversal(reversal)
        uow.commit()
