"""What each organizer is owed, split into available, held and pending (`domain.payouts`).

Read inside the caller's unit of work: the payout run plans from it, the balance route shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventpay.domain import Money
from eventpay.domain.payouts import PayablePosition, position
from eventpay.ports import UnitOfWork
from eventpay.ports.payouts import ReserveHold


def positions(uow: UnitOfWork, organizer_id: str, *, now: datetime) -> list[PayablePosition]:
    """One position per currency the organizer was ever owed or paid in, by currency.

    Stripe Connect transfers not sent yet are still in the payable: those on their way count
    as pending, refused ones (waiting for a person) as held; neither is paid out twice."""
    settings = uow.payouts.settings(organizer_id)
    on_hold = settings is not None and settings.on_hold
    out = []
    for currency, f in sorted(uow.payouts.figures(organizer_id, now=now).items()):
        out.append(
            position(
                payable=Money(f.payable, currency),
                pending=Money(f.in_transit + f.transfers_pending, currency),
                reserve=Money(f.reserved + f.transfers_failed, currency),
                on_hold=on_hold,
            )
        )
    return out


def position_in(
    uow: UnitOfWork, organizer_id: str, currency: str, *, now: datetime
) -> PayablePosition:
    for found in positions(uow, organizer_id, now=now):
        if found.currency == currency:
            return found
    zero = Money.zero(currency)
    return position(payable=zero, pending=zero, reserve=zero, on_hold=False)


@dataclass(frozen=True, slots=True)
class HeldNow:
    """What keeps an organizer's money from being paid out now, and why."""

    admin_hold_reason: str | None  # an admin holds every payout (None: no such hold)
    reserves: tuple[ReserveHold, ...]  # by event, soonest released first
    positions: tuple[PayablePosition, ...]


def held_now(uow: UnitOfWork, organizer_id: str, *, now: datetime) -> HeldNow:
    settings = uow.payouts.settings(organizer_id)
    on_hold = settings is not None and settings.on_hold
    return HeldNow(
        admin_hold_reason=(settings.hold_reason or "held by an admin")
        if settings is not None and on_hold
        else None,
        reserves=tuple(uow.payouts.reserve_holds(organizer_id, now=now)),
        positions=tuple(positions(uow, organizer_id, now=now)),
    )
