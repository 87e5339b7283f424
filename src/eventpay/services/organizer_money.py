"""What the platform owes an organizer, and how it got there, read from the ledger.

For that organizer or an admin.

An organizer sees only their own money: another organizer's id answers exactly as an unknown
one does (NotFound). `available` is the organizer's payable balance less what is on its way
(`pending`: payouts sent, not settled) and what is `held` (reserves until after an event, or
everything under an admin's hold; see `domain.payouts`). The statement lists, for a period,
every transaction that changed what the organizer is owed (payments, refunds, reversals,
payouts) with the platform fee it moved, between the opening and the closing balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventpay.domain import Money
from eventpay.domain.ledger import StatementEntry
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.services import payable
from eventpay.services.errors import InvalidRequest, NotFound
from eventpay.services.payable import HeldNow, positions


@dataclass(frozen=True, slots=True)
class OrganizerBalance:
    currency: str
    available: Money
    held: Money
    pending: Money


def _may_see(caller: Principal, organizer_id: str) -> bool:
    return caller.role is Role.ADMIN or (
        caller.role is Role.ORGANIZER and caller.organizer_id == organizer_id
    )


def balance(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    organizer_id: str,
    now: datetime,
) -> list[OrganizerBalance]:
    """The organizer's balance per currency they were ever owed money in, by currency:
    `available` is what the next payout run would pay them (`domain.payouts.position`)."""
    with uow_factory() as uow:
        _check_access(uow, caller, organizer_id)
        found = positions(uow, organizer_id, now=now)
    return [
        OrganizerBalance(currency=p.currency, available=p.available, held=p.held, pending=p.pending)
        for p in found
    ]


def _check_access(uow: UnitOfWork, caller: Principal, organizer_id: str) -> None:
    if not _may_see(caller, organizer_id) or uow.catalog.get_organizer(organizer_id) is None:
        raise NotFound("organizer_not_found", "No such organizer.", {"organizer_id": organizer_id})


def held_now(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, organizer_id: str, now: datetime
) -> HeldNow:
    """What holds the organizer's money back now (an admin's hold, each event's reserve),
    with their balance per currency: the statement's closing part."""
    with uow_factory() as uow:
        _check_access(uow, caller, organizer_id)
        return payable.held_now(uow, organizer_id, now=now)


def organizer_name(*, uow_factory: UnitOfWorkFactory, caller: Principal, organizer_id: str) -> str:
    """The organizer's name, for a statement's heading; NotFound exactly as for the statement."""
    with uow_factory() as uow:
        _check_access(uow, caller, organizer_id)
        found = uow.catalog.get_organizer(organizer_id)
    assert found is not None  # _check_access refused an unknown id
    return found.name


@dataclass(frozen=True, slots=True)
class CurrencyStatement:
    currency: str
    opening: Money
    entries: tuple[StatementEntry, ...]
    closing: Money


def statement(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    organizer_id: str,
    since: datetime,
    until: datetime,
) -> list[CurrencyStatement]:
    """Per currency: the balance owed at `since`, each transaction until `until`, and the
    balance owed then (opening + the entries)."""
    if since >= until:
        raise InvalidRequest(
            "invalid_period", "`from` must be before `to`.", {"from": since.isoformat()}
        )
    with uow_factory() as uow:
        _check_access(uow, caller, organizer_id)
        opening = uow.ledger.payable_before(organizer_id=organizer_id, at=since)
        entries = uow.ledger.statement(organizer_id=organizer_id, since=since, until=until)
    currencies = sorted({*opening, *(e.currency for e in entries)})
    out = []
    for currency in currencies:
        mine = tuple(e for e in entries if e.currency == currency)
        start = opening.get(currency, 0)
        out.append(
            CurrencyStatement(
                currency=currency,
                opening=Money(start, currency),
                entries=mine,
                closing=Money(start + sum(e.payable for e in mine), currency),
            )
        )
    return out
