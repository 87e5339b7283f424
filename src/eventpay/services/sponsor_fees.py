"""The provider's fee on sponsor invoice payments, read after the fact (a janitor task).

Stripe reports what it kept of a charge only on the charge's balance transaction, never in the
events that pay an invoice; so, as `janitor.read_fees` does for order payments, each sponsor
payment whose fee is unknown is read from a gateway that can say (`InvoicePaymentFees`) with no
transaction open, then `settlement.sponsorships.payment_fee_known` books it once under the
payment's row lock, or schedules the next read, for `FEES_FOR` after the payment. A provider
whose gateway cannot say (PayPal's invoices name no fee) is not asked.

What must not live here: the posting itself (settlement), reading webhooks.
"""

from __future__ import annotations

from datetime import timedelta

from eventpay.domain import Money
from eventpay.ports import Clock, ProviderName, ProviderRegistry, UnitOfWorkFactory
from eventpay.ports.sponsorships import InvoicePaymentFees, sponsor_invoices_of
from eventpay.services import fee_reads
from eventpay.services.settlement.sponsorships import payment_fee_known

FEES_FOR = timedelta(days=30)
BATCH = 50


def read_payment_fees(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Read the due sponsor payments' fees; how many fees were booked."""
    booked = 0
    for name in ProviderName:
        gateway = sponsor_invoices_of(providers.get(name))
        if not isinstance(gateway, InvoicePaymentFees):
            continue
        now = clock()
        with uow_factory() as uow:
            due = uow.sponsorships.payments_without_fee(
                name, now=now, received_after=now - FEES_FOR, limit=limit
            )
        booked += fee_reads.read_each(
            due,
            read=lambda listed, gateway=gateway: gateway.payment_fee(listed.payment_ref),
            book=lambda listed, fee, name=name: _book(
                uow_factory, name, listed.payment_ref, fee, clock
            ),
            names=lambda listed: {"payment": listed.payment_ref},
            event="sponsorship.fee",
        )
    return booked


def _book(
    uow_factory: UnitOfWorkFactory, name: ProviderName, ref: str, fee: Money | None, clock: Clock
) -> bool:
    """Book `fee` of the payment `ref` (None: schedule its next read); True when booked now."""
    with uow_factory() as uow:
        payment = uow.sponsorships.payment(name, ref, for_update=True)
        booked = payment is not None and payment_fee_known(
            uow, payment, fee, actor="janitor", now=clock()
        )
        uow.commit()
    return booked
