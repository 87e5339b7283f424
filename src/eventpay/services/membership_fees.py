"""Stripe's fee on membership charges, read after the fact (a janitor task).

Stripe reports what it kept of a charge only on the charge's balance transaction, never in the
events that pay a membership invoice; so, as `janitor.read_fees` does for order payments, each
membership charge whose fee is unknown is read (its PaymentIntent, with the balance transaction
expanded) with no transaction open, then `settlement.memberships.charge_fee_known` books the
fee once under the charge's row lock, or schedules the next read (backing off to daily) for
`FEES_FOR` after the charge. PayPal's sale carries its fee, booked with the sale.

What must not live here: the posting itself (settlement), reading webhooks.
"""

from __future__ import annotations

from datetime import timedelta

from eventpay.domain import Money
from eventpay.ports import Clock, ProviderName, ProviderRegistry, UnitOfWorkFactory
from eventpay.services import fee_reads
from eventpay.services.settlement.memberships import charge_fee_known

FEES_FOR = timedelta(days=30)
BATCH = 50


def read_charge_fees(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Read the due Stripe membership charges' fees; how many fees were booked."""
    gateway = providers.get(ProviderName.STRIPE)
    if gateway is None:
        return 0
    now = clock()
    with uow_factory() as uow:
        due = uow.memberships.charges_without_fee(
            ProviderName.STRIPE, now=now, created_after=now - FEES_FOR, limit=limit
        )
    return fee_reads.read_each(
        due,
        read=lambda listed: gateway.retrieve_payment(listed.payment_ref).fee,
        book=lambda listed, fee: _book(uow_factory, listed.ref, fee, clock),
        names=lambda listed: {"charge": listed.ref},
        event="membership.fee",
    )


def _book(uow_factory: UnitOfWorkFactory, ref: str, fee: Money | None, clock: Clock) -> bool:
    """Book `fee` of the charge `ref` (None: schedule its next read); True when booked now."""
    with uow_factory() as uow:
        charge = uow.memberships.charge(ProviderName.STRIPE, ref, for_update=True)
        booked = charge is not None and charge_fee_known(
            uow, charge, fee, actor="janitor", now=clock()
        )
        uow.commit()
    return booked
