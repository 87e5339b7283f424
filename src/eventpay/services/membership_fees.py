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

import structlog

from eventpay.domain import Money
from eventpay.ports import (
    Clock,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services.settlement.memberships import charge_fee_known

log = structlog.get_logger(__name__)

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
    booked = 0
    for listed in due:
        fee: Money | None = None
        try:
            fee = gateway.retrieve_payment(listed.payment_ref).fee
        except (ProviderOutcomeUnknown, ProviderRejected) as exc:
            log.info("membership.fee_read_failed", charge=listed.ref, code=exc.code)
        except Exception as exc:
            # Any other failure reschedules this charge too, or the oldest one would block every
            # later one. Only the error's type is logged: an SDK message may quote request data.
            log.warning("membership.fee_read_error", charge=listed.ref, error=type(exc).__name__)
        try:
            booked += _book(uow_factory, listed.ref, fee, clock)
        except Exception as exc:
            log.warning("membership.fee_book_error", charge=listed.ref, error=type(exc).__name__)
            if fee is not None:
                _reschedule_quietly(uow_factory, listed.ref, clock)
    return booked


def _book(uow_factory: UnitOfWorkFactory, ref: str, fee: Money | None, clock: Clock) -> int:
    """Book `fee` of the charge `ref` (None: schedule its next read); 1 when booked now."""
    with uow_factory() as uow:
        charge = uow.memberships.charge(ProviderName.STRIPE, ref, for_update=True)
        booked = charge is not None and charge_fee_known(
            uow, charge, fee, actor="janitor", now=clock()
        )
        uow.commit()
    return int(booked)


def _reschedule_quietly(uow_factory: UnitOfWorkFactory, ref: str, clock: Clock) -> None:
    try:
        _book(uow_factory, ref, None, clock)
    except Exception as exc:
        log.warning("membership.fee_reschedule_error", charge=ref, error=type(exc).__name__)
