"""Paying organizers what they are owed: what may be paid now, a payout's life, its postings.

What an organizer may be paid (``position``): the payable balance (what the ledger says the
platform owes them), less what is already on its way (``pending``: payouts sent and not yet
settled), less what is **held**: the organizer's share of every order for an event whose
reserve has not been released (until N days after the event ends, 7 by default, so refunds
and chargebacks of that event are still covered), or everything while an admin holds their
payouts. Only the rest is ``available``; a payout run pays exactly that, never more.

A payout's life (``next_status``), whatever the provider's word for it:

    created --> sent --> paid --> returned        (PayPal REVERSED/REFUNDED after success)
       |         |   \\-> unclaimed -> paid | returned
       |         |-> failed | returned
       \\-> (any of the above: a read may see the end directly)

``created``: the run committed to it and booked it (the money is no longer available);
``sent``: the provider accepted it; ``unclaimed``: the receiver has no account yet (the money
left us; the provider returns it after 30 days unless claimed); ``failed`` and ``returned``:
the money is back in the platform's balance and the organizer's available balance again.

Postings (``posting_for``), all with no order, keyed ``payout:<id>:<step>``:

    sent      Dr payouts_in_transit(organizer)   Cr provider_clearing(provider)
    paid      Dr organizer_payable(organizer)    Cr payouts_in_transit(organizer)
    failed /  Dr provider_clearing(provider)     Cr payouts_in_transit(organizer)
    returned    (after paid: Cr organizer_payable: the debt is owed again)
    fee       Dr provider_fee_expense(provider)  Cr provider_clearing(provider)

So the payable falls only when the money reached the organizer, and at every moment
payable = gross - platform fee - refunds - paid payouts, to the minor unit.

What must not live here: storage, clocks, provider calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from eventpay.domain.errors import DomainError
from eventpay.domain.ledger import Account, AccountKind, LedgerTransaction, Posting, build
from eventpay.domain.money import Money


class PayoutStatus(StrEnum):
    CREATED = "created"
    SENT = "sent"
    UNCLAIMED = "unclaimed"
    PAID = "paid"
    FAILED = "failed"
    RETURNED = "returned"

    @property
    def is_final(self) -> bool:
        return self in (PayoutStatus.FAILED, PayoutStatus.RETURNED)

    @property
    def money_out(self) -> bool:
        """The money is with the provider or the receiver, not in our balance."""
        return self in (
            PayoutStatus.CREATED,
            PayoutStatus.SENT,
            PayoutStatus.UNCLAIMED,
            PayoutStatus.PAID,
        )


_ALLOWED: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    PayoutStatus.CREATED: frozenset(
        {
            PayoutStatus.SENT,
            PayoutStatus.UNCLAIMED,
            PayoutStatus.PAID,
            PayoutStatus.FAILED,
            PayoutStatus.RETURNED,
        }
    ),
    PayoutStatus.SENT: frozenset(
        {PayoutStatus.UNCLAIMED, PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.RETURNED}
    ),
    PayoutStatus.UNCLAIMED: frozenset({PayoutStatus.PAID, PayoutStatus.RETURNED}),
    PayoutStatus.PAID: frozenset({PayoutStatus.RETURNED}),
    PayoutStatus.FAILED: frozenset(),
    PayoutStatus.RETURNED: frozenset(),
}


class PayoutError(DomainError):
    code = "payout_invalid"


def next_status(current: PayoutStatus, reported: PayoutStatus) -> PayoutStatus | None:
    """The status to move to when the provider reports `reported`; None when it changes
    nothing (the same status again, or a stale report of an earlier step)."""
    if reported is current or reported not in _ALLOWED[current]:
        return None
    return reported


@dataclass(frozen=True, slots=True)
class PayablePosition:
    """What an organizer is owed in one currency, split by what may be paid now."""

    payable: Money  # what the ledger says the platform owes them
    pending: Money  # payouts on their way
    held: Money  # reserves until after events, or everything under an admin hold
    available: Money  # payable - pending - held: what a payout run pays

    @property
    def currency(self) -> str:
        return self.payable.currency


def position(*, payable: Money, pending: Money, reserve: Money, on_hold: bool) -> PayablePosition:
    """Split what is owed. `reserve` is the organizer's share of orders for events still in
    their reserve period; it never holds more than is free, and nothing is held when the free
    amount is negative (the organizer owes the platform: nothing to pay, nothing to hold)."""
    currency = payable.currency
    if pending.currency != currency or reserve.currency != currency:
        raise PayoutError("a payable position is in one currency")
    free = payable.amount - pending.amount
    if free <= 0:
        held = 0
    elif on_hold:
        held = free
    else:
        held = min(max(reserve.amount, 0), free)
    return PayablePosition(
        payable=payable,
        pending=pending,
        held=Money(held, currency),
        available=Money(free - held, currency),
    )


@dataclass(frozen=True, slots=True)
class PayoutFacts:
    """What the postings of one payout need to know."""

    payout_id: str
    organizer_id: str
    provider: str
    amount: Money


def _accounts(facts: PayoutFacts) -> tuple[Account, Account, Account]:
    currency = facts.amount.currency
    return (
        Account(AccountKind.PAYOUTS_IN_TRANSIT, facts.organizer_id, currency),
        Account(AccountKind.PROVIDER_CLEARING, facts.provider, currency),
        Account(AccountKind.ORGANIZER_PAYABLE, facts.organizer_id, currency),
    )


def sent_posting(facts: PayoutFacts) -> LedgerTransaction:
    """The run committed the money: it leaves the provider balance, on its way."""
    in_transit, clearing, _ = _accounts(facts)
    amount = facts.amount.amount
    if amount <= 0:
        raise PayoutError(f"payout {facts.payout_id}: amount must be positive")
    tx = build(
        cause=f"payout:{facts.payout_id}:sent",
        kind="payout_sent",
        amounts={in_transit: amount, clearing: -amount},
    )
    assert tx is not None  # amount is positive
    return tx


def posting_for(
    facts: PayoutFacts, before: PayoutStatus, after: PayoutStatus
) -> LedgerTransaction | None:
    """What moving from `before` to `after` posts; None when the money did not move (sent,
    unclaimed: the money is still on its way)."""
    in_transit, clearing, payable = _accounts(facts)
    amount = facts.amount.amount
    if after is PayoutStatus.PAID:
        return build(
            cause=f"payout:{facts.payout_id}:paid",
            kind="payout_paid",
            amounts={payable: amount, in_transit: -amount},
        )
    if after.is_final:
        source = payable if before is PayoutStatus.PAID else in_transit
        return build(
            cause=f"payout:{facts.payout_id}:{after.value}",
            kind=f"payout_{after.value}",
            amounts={clearing: amount, source: -amount},
        )
    return None


def fee_posting(facts: PayoutFacts, fee: Money) -> LedgerTransaction | None:
    """The provider's fee for sending the payout, paid by the platform."""
    if fee.currency != facts.amount.currency:
        raise PayoutError(f"payout {facts.payout_id}: fee in another currency")
    _, clearing, _ = _accounts(facts)
    expense = Account(AccountKind.PROVIDER_FEE_EXPENSE, facts.provider, fee.currency)
    return build(
        cause=f"payout:{facts.payout_id}:fee",
        kind="payout_fee",
        amounts={expense: fee.amount, clearing: -fee.amount},
    )


def payout_discrepancy(
    facts: PayoutFacts, status: PayoutStatus, fee: Money | None, postings: Sequence[Posting]
) -> str | None:
    """What is wrong with one payout's postings given where it is now, or None. Whatever way it
    came, a payout's postings net to: its amount in transit while it is on its way, its amount
    off the organizer's payable once paid (and not returned), its amount out of the provider
    balance while the money is out, and the provider's fee as an expense."""
    in_transit, clearing, payable = _accounts(facts)
    expense = Account(AccountKind.PROVIDER_FEE_EXPENSE, facts.provider, facts.amount.currency)
    amount = facts.amount.amount
    fee_amount = 0 if fee is None else fee.amount
    moving = status.money_out and status is not PayoutStatus.PAID
    expected = {
        in_transit: amount if moving else 0,
        payable: amount if status is PayoutStatus.PAID else 0,
        clearing: (-amount if status.money_out else 0) - fee_amount,
        expense: fee_amount,
    }
    actual: dict[Account, int] = dict.fromkeys(expected, 0)
    for posting in postings:
        if posting.account not in actual:
            return f"payout {facts.payout_id}: a posting on {posting.account.code}"
        actual[posting.account] += posting.amount
    for account, want in expected.items():
        if actual[account] != want:
            return (
                f"payout {facts.payout_id} ({status.value}): {account.code} is "
                f"{actual[account]}, expected {want}"
            )
    return None
