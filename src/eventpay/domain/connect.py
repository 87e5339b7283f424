"""Stripe Connect rules: which charge an order gets, and what moves to an organizer's account.

An order whose money all belongs to one organizer with a charge-enabled connected account is a
*destination charge*: Stripe moves the payment to the organizer's account and takes the
platform's fee back as the application fee, which is the organizer's platform fee as the order
was priced (`OrderShares.fee`). Only a payment of the whole order, with nothing paid before,
is made one: the fee of a part payment would be a guess. An order spanning several organizers
is a *separate charge* (one transfer group, the order's id) followed by one transfer per
organizer whose account can take it.

What the ledger moves from an organizer's payable to the provider (their transfer) is the
organizer's net of the money actually received, by the ledger's own share rule
(`ledger.order_position`, cumulative and floored): the change of their payable between the
order's net money before and after the payment. A refund reverses their transfer by the same
rule, so after any sequence of payments and refunds the organizer's payable for the order is
back to what the money still held says. Nothing here reads a clock, a database or a provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from eventpay.domain.errors import DomainError
from eventpay.domain.ledger import (
    Account,
    AccountKind,
    LedgerTransaction,
    OrderShares,
    build,
    order_position,
)


class ConnectError(DomainError):
    code = "connect_invalid"


@dataclass(frozen=True, slots=True)
class DestinationCharge:
    """A payment made as a destination charge to `account_id`, keeping `application_fee`."""

    organizer_id: str
    account_id: str
    application_fee: int


def organizers_of(shares: OrderShares) -> list[str]:
    """The organizers an order's money belongs to (a share of zero gross belongs to nobody)."""
    return sorted(owner for owner, gross in shares.gross.items() if gross > 0 and owner)


def destination_for(
    shares: OrderShares, *, amount: int, net_paid: int, enabled: Mapping[str, str]
) -> DestinationCharge | None:
    """The destination charge for a payment of `amount` when the order holds `net_paid`;
    None when it must be an ordinary charge. `enabled` maps organizer id to the connected
    account that can take charges."""
    owners = organizers_of(shares)
    if len(owners) != 1 or net_paid != 0 or amount != shares.total or amount <= 0:
        return None
    account = enabled.get(owners[0])
    if account is None:
        return None
    return DestinationCharge(owners[0], account, shares.fee[owners[0]])


def separate_charge(shares: OrderShares, enabled: Mapping[str, str]) -> bool:
    """Whether an order's payment is a separate charge followed by transfers: its money
    belongs to several organizers and at least one of them can take a transfer."""
    owners = organizers_of(shares)
    return len(owners) > 1 and any(owner in enabled for owner in owners)


def net_moved(shares: OrderShares, organizer_id: str, *, net_before: int, net_after: int) -> int:
    """How much an organizer's payable for the order changes when its net money goes from
    `net_before` to `net_after` (positive: owed more)."""
    if organizer_id not in shares.gross:
        raise ConnectError(f"organizer {organizer_id} has no share of this order")
    after = order_position(shares, net_after).payable[organizer_id]
    return after - order_position(shares, net_before).payable[organizer_id]


def transfers_for(
    shares: OrderShares, organizers: Iterable[str], *, net_before: int, net_after: int
) -> dict[str, int]:
    """Per organizer in `organizers`, the positive transfer a payment calls for."""
    moved = {
        owner: net_moved(shares, owner, net_before=net_before, net_after=net_after)
        for owner in sorted(organizers)
    }
    return {owner: amount for owner, amount in moved.items() if amount > 0}


def reversal_for(
    shares: OrderShares, organizer_id: str, *, net_before: int, net_after: int, left: int
) -> int:
    """What a refund taking the order's net money from `net_before` to `net_after` takes back
    from the organizer's transfer, never more than the `left` of it not yet reversed."""
    back = -net_moved(shares, organizer_id, net_before=net_before, net_after=net_after)
    return max(0, min(back, left))


def transfer_posting(
    *, cause: str, kind: str, organizer_id: str, provider: str, currency: str, amount: int
) -> LedgerTransaction | None:
    """Money leaving the provider's balance for an organizer's account (`amount` > 0: Dr
    their payable, Cr the provider's clearing) or coming back (`amount` < 0); None for zero.
    Keyed by `cause`, with no order: an order's own postings stay what its attempts say."""
    return build(
        cause=cause,
        kind=kind,
        amounts={
            Account(AccountKind.ORGANIZER_PAYABLE, organizer_id, currency): amount,
            Account(AccountKind.PROVIDER_CLEARING, provider, currency): -amount,
        },
    )
