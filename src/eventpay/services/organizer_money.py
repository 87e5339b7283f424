"""What the platform owes an organizer, read from the ledger, for that organizer or an admin.

An organizer sees only their own money: another organizer's id answers exactly as an unknown
one does (NotFound). `available` is the organizer's payable balance less what is held; `held`
(reserves until after an event, open disputes) and `pending` (payouts on their way) are part
of the payout flow and are zero until it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventpay.domain import AccountKind, Money
from eventpay.ports import Principal, Role, UnitOfWorkFactory
from eventpay.services.errors import NotFound


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
    *, uow_factory: UnitOfWorkFactory, caller: Principal, organizer_id: str
) -> list[OrganizerBalance]:
    """The organizer's balance per currency they were ever owed money in, by currency."""
    with uow_factory() as uow:
        if not _may_see(caller, organizer_id) or uow.catalog.get_organizer(organizer_id) is None:
            raise NotFound(
                "organizer_not_found", "No such organizer.", {"organizer_id": organizer_id}
            )
        owed = uow.ledger.balances(kind=AccountKind.ORGANIZER_PAYABLE, owner=organizer_id)
    out = []
    for account, amount in sorted(owed.items()):
        zero = Money.zero(account.currency)
        out.append(
            OrganizerBalance(
                currency=account.currency,
                available=Money(-amount, account.currency),  # a liability: credit balance
                held=zero,
                pending=zero,
            )
        )
    return out
