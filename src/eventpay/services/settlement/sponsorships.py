"""Settling sponsor invoices: each payment recorded once, posted once, the status derived.

A verified invoice event (`ports.sponsorships.SponsorInvoiceEvent`: every payment the invoice
has received so far, or that it is overdue) is applied under the sponsorship's row lock. Each
payment the table has not seen is recorded (unique by the provider's payment id), added to what
was paid, and posted to the ledger once (cause `sponsorship:<provider>:<payment id>`): into the
provider's clearing account, the organizer owed the payment less its slice of the platform fee
(`domain.sponsorships.fee_slice`, the fee fixed when the invoice was issued under the event's
fee policy, as for an order), the slice to the platform's fee revenue. Paid in full activates
the sponsorship (`sponsorship.activated`). An invoice that is not ours changes nothing.

What the provider kept of a payment is learnt later (`services.sponsor_fees` reads it with no
transaction open): `payment_fee_known` books it once, cause `sponsorship:<provider>:<payment
id>:fee`, the provider's fee expense out of its clearing account, as an order payment's fee;
reconciliation compares it with the fee the provider lists. Not known yet: read again later,
backing off to daily.

What must not live here: provider calls, HTTP, reading event payloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from eventpay.domain import Money
from eventpay.domain.ledger import Account, AccountKind, LedgerTransaction, build
from eventpay.domain.schedule import backoff_delay
from eventpay.domain.sponsorships import SponsorshipStatus, fee_slice, status_after
from eventpay.ports import UnitOfWork
from eventpay.ports.identity import ProviderName
from eventpay.ports.sponsorships import (
    InvoicePayment,
    SponsorInvoiceEvent,
    SponsorPaymentRecord,
    Sponsorship,
    sponsor_invoices_of,
)
from eventpay.services import audit

SPONSORSHIP_PAID = "sponsorship_paid"
FEE_RECHECK = timedelta(minutes=1)
FEE_RECHECK_CAP = timedelta(days=1)


def payment_transaction(
    sponsorship: Sponsorship, organizer_id: str, payment: InvoicePayment, *, fee: int
) -> LedgerTransaction | None:
    provider = sponsorship.provider.value
    currency = payment.amount.currency
    return build(
        cause=f"sponsorship:{provider}:{payment.payment_ref}",
        kind=SPONSORSHIP_PAID,
        amounts={
            Account(AccountKind.PROVIDER_CLEARING, provider, currency): payment.amount.amount,
            Account(AccountKind.ORGANIZER_PAYABLE, organizer_id, currency): -(
                payment.amount.amount - fee
            ),
            Account(AccountKind.PLATFORM_FEE_REVENUE, "", currency): -fee,
        },
    )


def _find(
    uow: UnitOfWork, provider: ProviderName, event: SponsorInvoiceEvent
) -> Sponsorship | None:
    invoice_id = event.provider_invoice_id or None
    found = (
        None
        if invoice_id is None
        else uow.sponsorships.by_invoice(provider, invoice_id, for_update=True)
    )
    if found is None and event.sponsorship_id is not None:
        # The invoice's event may come before its id was stored (issue's last step); a payment
        # that does not name its invoice is known by the sponsorship alone.
        candidate = uow.sponsorships.get(event.sponsorship_id, for_update=True)
        if (
            candidate is not None
            and candidate.provider is provider
            and (invoice_id is None or candidate.provider_invoice_id in (None, invoice_id))
        ):
            if candidate.provider_invoice_id is None and invoice_id is not None:
                candidate.provider_invoice_id = invoice_id
            found = candidate
    return found


def apply_invoice_event(
    uow: UnitOfWork,
    event: SponsorInvoiceEvent,
    *,
    provider: ProviderName,
    actor: str,
    now: datetime,
) -> bool:
    """Apply `event` to its sponsorship; False when the invoice is not one of ours."""
    sponsorship = _find(uow, provider, event)
    if sponsorship is None:
        return False
    sponsor_event = uow.catalog.get_event(sponsorship.event_id)
    organizer_id = "" if sponsor_event is None else sponsor_event.organizer_id
    before = sponsorship.status
    changed = False
    for payment in event.payments:
        if payment.amount.currency != sponsorship.amount.currency:
            continue
        if not uow.sponsorships.add_payment(sponsorship.id, provider, payment, at=now):
            continue
        paid_before = sponsorship.paid
        sponsorship.paid += payment.amount.amount
        fee = fee_slice(
            fee=sponsorship.platform_fee,
            amount=sponsorship.amount.amount,
            paid_before=paid_before,
            paid_after=sponsorship.paid,
        )
        transaction = payment_transaction(sponsorship, organizer_id, payment, fee=fee)
        if transaction is not None:
            uow.ledger.post(transaction, at=now)
        audit.record(
            uow,
            entity_type="sponsorship",
            entity_id=sponsorship.id,
            action="sponsorship.payment_received",
            actor=actor,
            now=now,
            details={
                "payment_ref": payment.payment_ref,
                "amount": payment.amount.amount,
                "currency": payment.amount.currency,
                "paid": sponsorship.paid,
            },
        )
        changed = True
    status = status_after(
        before, amount=sponsorship.amount.amount, paid=sponsorship.paid, overdue=event.overdue
    )
    if status is not before:
        sponsorship.status = status
        changed = True
        audit.record(
            uow,
            entity_type="sponsorship",
            entity_id=sponsorship.id,
            action="sponsorship.activated"
            if status is SponsorshipStatus.PAID
            else f"sponsorship.{status.value}",
            actor=actor,
            now=now,
            details={"from": before.value, "paid": sponsorship.paid},
        )
        if status is SponsorshipStatus.PAID and sponsorship.activated_at is None:
            sponsorship.activated_at = now
    if changed:
        sponsorship.updated_at = now
        uow.sponsorships.save(sponsorship)
    return True


def apply_provider_event(
    uow: UnitOfWork,
    provider: object,
    *,
    name: ProviderName,
    event_type: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> bool | None:
    """Settle a verified event if it concerns a sponsor invoice: None when it does not, False
    when the invoice is not one of ours, True when it was applied."""
    gateway = sponsor_invoices_of(provider)
    if gateway is None:
        return None
    parsed = gateway.parse_invoice_event(event_type, payload)
    if parsed is None:
        return None
    return apply_invoice_event(uow, parsed, provider=name, actor=f"{name.value}-webhook", now=now)


def is_invoice_payment(provider: object, event_type: str, payload: Mapping[str, Any]) -> bool:
    """Whether a payment event pays a sponsor invoice (its invoice events settle it)."""
    gateway = sponsor_invoices_of(provider)
    return gateway is not None and gateway.is_invoice_payment(event_type, payload)


def fee_cause(provider: ProviderName, payment_ref: str) -> str:
    return f"sponsorship:{provider.value}:{payment_ref}:fee"


def fee_transaction(
    *, provider: ProviderName, payment_ref: str, fee: Money
) -> LedgerTransaction | None:
    """The provider kept `fee` of a sponsor's payment: an expense out of its clearing."""
    return build(
        cause=fee_cause(provider, payment_ref),
        kind="provider_fee",
        amounts={
            Account(AccountKind.PROVIDER_FEE_EXPENSE, provider.value, fee.currency): fee.amount,
            Account(AccountKind.PROVIDER_CLEARING, provider.value, fee.currency): -fee.amount,
        },
    )


def payment_fee_known(
    uow: UnitOfWork, payment: SponsorPaymentRecord, fee: Money | None, *, actor: str, now: datetime
) -> bool:
    """What the provider kept of `payment` (locked by the caller): posted once; None (not known
    yet, or in another currency) schedules the next read. True when the fee was booked now."""
    if payment.fee is not None:
        return False
    if fee is None or fee.currency != payment.amount.currency or fee.is_negative():
        payment.fee_checks += 1
        payment.fee_check_at = now + backoff_delay(
            attempts=payment.fee_checks, base=FEE_RECHECK, cap=FEE_RECHECK_CAP, jitter=0.5
        )
        uow.sponsorships.save_payment(payment)
        return False
    payment.fee = fee.amount
    payment.fee_check_at = None
    uow.sponsorships.save_payment(payment)
    transaction = fee_transaction(
        provider=payment.provider, payment_ref=payment.payment_ref, fee=fee
    )
    if transaction is not None:
        uow.ledger.post(transaction, at=now)
    audit.record(
        uow,
        entity_type="sponsorship",
        entity_id=payment.sponsorship_id,
        action="sponsorship.provider_fee",
        actor=actor,
        now=now,
        details={"payment_ref": payment.payment_ref, "fee": fee.amount, "currency": fee.currency},
    )
    return True
