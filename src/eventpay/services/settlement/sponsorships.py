"""Settling sponsor invoices: each payment recorded once, posted once, the status derived.

A verified invoice event (`ports.sponsorships.SponsorInvoiceEvent`: every payment the invoice
has received so far, or that it is overdue) is applied under the sponsorship's row lock. Each
payment the table has not seen is recorded (unique by the provider's payment id), added to what
was paid, and posted to the ledger once (cause `sponsorship:<provider>:<payment id>`): into the
provider's clearing account, the organizer owed the payment less its slice of the platform fee
(`domain.sponsorships.fee_slice`, the fee fixed when the invoice was issued under the event's
fee policy, as for an order), the slice to the platform's fee revenue. Paid in full activates
the sponsorship (`sponsorship.activated`). An invoice that is not ours changes nothing.

What must not live here: provider calls, HTTP, reading event payloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eventpay.domain.ledger import Account, AccountKind, LedgerTransaction, build
from eventpay.domain.sponsorships import SponsorshipStatus, fee_slice, status_after
from eventpay.ports import UnitOfWork
from eventpay.ports.identity import ProviderName
from eventpay.ports.sponsorships import (
    InvoicePayment,
    SponsorInvoiceEvent,
    Sponsorship,
    sponsor_invoices_of,
)
from eventpay.services import audit

SPONSORSHIP_PAID = "sponsorship_paid"


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
    found = uow.sponsorships.by_invoice(provider, event.provider_invoice_id, for_update=True)
    if found is None and event.sponsorship_id is not None:
        # The invoice's event may come before its id was stored (issue's last step).
        candidate = uow.sponsorships.get(event.sponsorship_id, for_update=True)
        if (
            candidate is not None
            and candidate.provider is provider
            and candidate.provider_invoice_id in (None, event.provider_invoice_id)
        ):
            candidate.provider_invoice_id = event.provider_invoice_id
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
