"""Reconciliation: our money movements against the provider's own list, mismatch by mismatch.

Both sides are reduced to movements keyed by the provider's id of the money movement (a Stripe
charge or refund, a PayPal capture or refund): what we recorded (a succeeded payment's
counted amount and the fee we booked; a succeeded refund's amount, negative) and what the
provider lists (its balance transactions or transaction search). `compare` names every
difference by kind, in a stable order, so the same two lists always give the same answer:

- `missing_here`: the provider moved money we have no record of (a charge outside eventpay, a
  webhook never applied);
- `missing_there`: we recorded money the provider does not list;
- `currency_differs`, `amount_differs`, `fee_differs`: both know it, and disagree.

Besides an order's money, the money that left for organizers is matched too (`ORGANIZER_KINDS`):
a Stripe transfer to a connected account (`transfer`, negative, keyed by its `tr_` id; `fee`
the application fee the platform took back from a destination charge's transfer) and a
reversal of one (`transfer_reversal`, positive, its `trr_` id); a PayPal payout item
(`payout`, negative, PayPal's transaction id; `fee` what PayPal charged for it) and the money a
returned payout brought back (`payout_return`, positive). We never learn a return's own id, so
a return is keyed by the payout it returns (`return_ref`): PayPal's return names it as its
reference. `related` is the provider's link from a movement to another (a transfer's source
charge, a reversal's source refund, a return's payout); it takes no part in the comparison, but
`linked` keys by it our movements whose provider id we never stored (the transfer Stripe makes
itself for a destination charge, and its reversal by a refund).

Provider movements of other kinds (Stripe's own payouts to the platform's bank, application
fees, fees of their own) are not ours to match and are left out by the caller. What must not
live here: provider calls, storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from eventpay.domain.money import Money

ORGANIZER_KINDS = frozenset({"transfer", "transfer_reversal", "payout", "payout_return"})
RETURN_SUFFIX = ":return"


def return_ref(payout_ref: str) -> str:
    """The key of the money a returned payout brought back: its payout's, marked."""
    return payout_ref + RETURN_SUFFIX


class MismatchKind(StrEnum):
    MISSING_HERE = "missing_here"
    MISSING_THERE = "missing_there"
    CURRENCY_DIFFERS = "currency_differs"
    AMOUNT_DIFFERS = "amount_differs"
    FEE_DIFFERS = "fee_differs"


@dataclass(frozen=True, slots=True)
class Movement:
    """One money movement: `amount` signed from the platform's side (+ in, - out); `fee` what
    the provider kept of it (None: not known on this side)."""

    ref: str
    kind: str  # "payment" | "refund" | one of ORGANIZER_KINDS
    amount: Money
    fee: Money | None = None
    our_id: str | None = None  # our payment, refund, transfer or payout id, on our side
    related: str | None = None  # the provider's link to another movement, on its side


MovementRow = tuple[str, str, str, int, int | None]
"""A movement as bulk readers carry it: (ref, kind, currency, amount, fee or None), the fields
of `Movement` without the objects (a million of them cost seconds)."""


def movement_of(row: MovementRow, *, our_id: str | None = None) -> Movement:
    ref, kind, currency, amount, fee = row
    return Movement(
        ref=ref,
        kind=kind,
        amount=Money(amount, currency),
        fee=None if fee is None else Money(fee, currency),
        our_id=our_id,
    )


def row_of(movement: Movement) -> MovementRow:
    fee = None if movement.fee is None else movement.fee.amount
    return (movement.ref, movement.kind, movement.amount.currency, movement.amount.amount, fee)


def linked(ours: Iterable[tuple[str, Movement]], theirs: Iterable[Movement]) -> list[Movement]:
    """Our movements whose provider id we never stored, each given with the link the provider
    names it by (`related`: a destination charge's transfer names our charge, its reversal our
    refund): keyed by the id of the provider's movement of the same kind naming that link, or
    `<link>:<kind>` when none does (then it is missing there)."""
    named = {(m.kind, m.related): m.ref for m in theirs if m.related is not None}
    return [
        replace(movement, ref=named.get((movement.kind, link), f"{link}:{movement.kind}"))
        for link, movement in ours
    ]


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: MismatchKind
    ref: str
    ours: Money | None
    theirs: Money | None
    our_id: str | None
    detail: str


def compare(ours: Iterable[Movement], theirs: Iterable[Movement]) -> list[Mismatch]:
    """Every difference between the two sides, ordered by reference then kind."""
    mine = {m.ref: m for m in ours}
    listed = {m.ref: m for m in theirs}
    found: list[Mismatch] = []
    for ref in sorted(mine.keys() | listed.keys()):
        here, there = mine.get(ref), listed.get(ref)
        if here is None:
            assert there is not None  # the ref came from one side or the other
            found.append(
                Mismatch(
                    MismatchKind.MISSING_HERE,
                    ref,
                    None,
                    there.amount,
                    None,
                    f"the provider lists a {there.kind} of {there.amount} we have no record of",
                )
            )
        elif there is None:
            found.append(
                Mismatch(
                    MismatchKind.MISSING_THERE,
                    ref,
                    here.amount,
                    None,
                    here.our_id,
                    f"we recorded a {here.kind} of {here.amount} the provider does not list",
                )
            )
        else:
            found.extend(_differences(here, there))
    return found


def _differences(here: Movement, there: Movement) -> list[Mismatch]:
    def mismatch(
        kind: MismatchKind, ours: Money | None, theirs: Money | None, what: str
    ) -> Mismatch:
        return Mismatch(kind, here.ref, ours, theirs, here.our_id, what)

    if here.amount.currency != there.amount.currency:
        return [
            mismatch(
                MismatchKind.CURRENCY_DIFFERS,
                here.amount,
                there.amount,
                f"{here.kind} in {here.amount.currency} here, {there.amount.currency} there",
            )
        ]
    found = []
    if here.amount != there.amount:
        found.append(
            mismatch(
                MismatchKind.AMOUNT_DIFFERS,
                here.amount,
                there.amount,
                f"{here.kind} of {here.amount} here, {there.amount} there",
            )
        )
    if here.fee is not None and there.fee is not None and here.fee != there.fee:
        found.append(
            mismatch(
                MismatchKind.FEE_DIFFERS,
                here.fee,
                there.fee,
                f"fee of {here.fee} booked here, {there.fee} kept there",
            )
        )
    return found
