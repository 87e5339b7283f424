"""The double-entry ledger: accounts, balanced transactions, and what each money event posts.

Every cent that enters or leaves is a posting on an account; the postings of one transaction
sum to zero in every currency (debits positive, credits negative), which `LedgerTransaction`
enforces when it is built. A transaction names its cause (`payment:<id>:succeeded`,
`refund:<id>:succeeded`, ...), which the database keeps unique, so a replayed webhook or a
retried janitor run can never post twice. Balances are sums of postings; nothing is updated.

Accounts (``AccountKind``): money held at a provider (`provider_clearing`, per provider and
currency, an asset); what the platform owes each organizer (`organizer_payable`), its own fee
revenue, the provider's fee as an expense, money received beyond an order's total and owed back
to the buyer (`overpayment`), and the accounts later flows use (dispute losses, customer
credit, payouts in transit).

How a payment or refund posts (``order_movement``): an order's position is a function of the
money it holds net (``net_paid = paid - refunded``). Up to the total, that money is recognized
and shared between the organizers of its lines (by their lines' amounts) and, within each
share, between the organizer's payable and the platform fee, in proportion to the order's fee;
beyond the total it is an over-payment owed back. A money event posts the difference between
the position before and after it, plus the movement at the provider. So a refund returns the
platform fee in proportion (the platform keeps no fee on money it gave back), a late fee kept
under the refund terms stays recognized, and the postings of any sequence of events add up to
the position of the final state, exact to the minor unit (the shares are cumulative, never
rounded step by step). Tax is the organizer's to remit and is part of their payable.

What must not live here: storage, clocks, provider calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from eventpay.domain.errors import DomainError
from eventpay.domain.money import Money


class AccountKind(StrEnum):
    PROVIDER_CLEARING = "provider_clearing"
    """Asset: money a provider holds for the platform (owner: the provider)."""
    ORGANIZER_PAYABLE = "organizer_payable"
    """Liability: what the platform owes an organizer (owner: the organizer)."""
    PLATFORM_FEE_REVENUE = "platform_fee_revenue"
    """Revenue: the platform's fee on the money it keeps."""
    PROVIDER_FEE_EXPENSE = "provider_fee_expense"
    """Expense: what Stripe or PayPal kept as their fee (owner: the provider)."""
    OVERPAYMENT = "overpayment"
    """Liability: money received beyond an order's total, owed back to the buyer."""
    DISPUTE_LOSSES = "dispute_losses"
    """Expense: money lost to chargebacks (the after-sale flows post here)."""
    CUSTOMER_CREDIT = "customer_credit"
    """Liability: store credit owed to buyers (the after-sale flows post here)."""
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"
    """Asset: payouts sent to organizers and not yet confirmed paid."""


class LedgerError(DomainError):
    code = "ledger_invalid"


@dataclass(frozen=True, slots=True, order=True)
class Account:
    kind: AccountKind
    owner: str
    currency: str

    @property
    def code(self) -> str:
        """The account's stable name: `kind:owner:currency`."""
        return f"{self.kind.value}:{self.owner}:{self.currency}"


@dataclass(frozen=True, slots=True)
class Posting:
    """An amount on an account: debit positive, credit negative (minor units)."""

    account: Account
    amount: int


@dataclass(frozen=True, slots=True)
class LedgerTransaction:
    """One balanced set of postings with the cause that makes it unique."""

    cause: str
    kind: str
    postings: tuple[Posting, ...]
    order_id: str | None = None

    def __post_init__(self) -> None:
        if not self.cause or not self.postings:
            raise LedgerError("a ledger transaction needs a cause and at least one posting")
        unbalanced = {
            currency: total for currency, total in sums_by_currency(self.postings).items() if total
        }
        if unbalanced:
            raise LedgerError(f"transaction {self.cause} does not balance: {unbalanced}")


def sums_by_currency(postings: Iterable[Posting]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for posting in postings:
        totals[posting.account.currency] += posting.amount
    return dict(totals)


def build(
    *, cause: str, kind: str, amounts: Mapping[Account, int], order_id: str | None = None
) -> LedgerTransaction | None:
    """A transaction of the non-zero `amounts`, in a stable order; None when all are zero."""
    postings = tuple(
        Posting(account, amount) for account, amount in sorted(amounts.items()) if amount
    )
    if not postings:
        return None
    return LedgerTransaction(cause=cause, kind=kind, postings=postings, order_id=order_id)


# ---------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class OrderShares:
    """How an order's total divides: per organizer, its gross share and its part of the fee."""

    currency: str
    total: int
    gross: Mapping[str, int]
    fee: Mapping[str, int]


def order_shares(
    *, total: Money, platform_fee: Money, lines: Sequence[tuple[str, int]]
) -> OrderShares:
    """Share `total` and `platform_fee` over organizers by their lines' amounts.

    `lines` are (organizer id, line amount); an order with no priced line is its first
    organizer's (or the platform's, owner "", when it has none).
    """
    if total.currency != platform_fee.currency or total.is_negative():
        raise LedgerError("an order's total and fee are one non-negative currency amount")
    weights: dict[str, int] = defaultdict(int)
    for organizer, amount in lines:
        weights[organizer] += max(amount, 0)
    owners = sorted(weights) or [""]
    ratios = [weights.get(owner, 0) for owner in owners]
    if not any(ratios):
        ratios = [1] + [0] * (len(owners) - 1)
    gross = dict(zip(owners, (m.amount for m in total.allocate(ratios)), strict=True))
    fee = dict(zip(owners, (m.amount for m in platform_fee.allocate(ratios)), strict=True))
    return OrderShares(
        currency=total.currency,
        total=total.amount,
        gross=MappingProxyType(gross),
        fee=MappingProxyType(fee),
    )


def order_shares_given(
    *, total: Money, platform_fee: Money, by_organizer: Mapping[str, tuple[int, int]]
) -> OrderShares:
    """The shares an order stored when it was priced: per organizer (gross, fee), where each
    organizer's fee came from their own events' policies. They must add up to the order."""
    if not by_organizer:
        raise LedgerError("stored shares need at least one organizer")
    if sum(g for g, _ in by_organizer.values()) != total.amount or (
        sum(f for _, f in by_organizer.values()) != platform_fee.amount
    ):
        raise LedgerError(f"stored shares {dict(by_organizer)} do not add up to the order")
    return OrderShares(
        currency=total.currency,
        total=total.amount,
        gross=MappingProxyType({o: g for o, (g, _) in sorted(by_organizer.items())}),
        fee=MappingProxyType({o: f for o, (_, f) in sorted(by_organizer.items())}),
    )


def shares_for(
    *,
    total: Money,
    platform_fee: Money,
    stored: Mapping[str, tuple[int, int]] | None,
    lines: Sequence[tuple[str, int]],
) -> OrderShares:
    """An order's shares: as priced when the order stored them (each organizer's own fee),
    else by its lines' amounts (orders priced before shares were stored)."""
    if stored:
        return order_shares_given(total=total, platform_fee=platform_fee, by_organizer=stored)
    return order_shares(total=total, platform_fee=platform_fee, lines=lines)


@dataclass(frozen=True, slots=True)
class OrderPosition:
    """What an order's net money is, in the ledger's terms."""

    payable: Mapping[str, int]
    fee: Mapping[str, int]
    overpaid: int


def order_position(shares: OrderShares, net_paid: int) -> OrderPosition:
    """The recognized shares of `net_paid` (capped at the total) and the over-payment."""
    recognized = min(max(net_paid, 0), shares.total)
    owners = sorted(shares.gross)
    weights = [shares.gross[o] for o in owners]
    if any(weights):
        parts = Money(recognized, shares.currency).allocate(weights)
    else:
        parts = [Money(recognized if i == 0 else 0, shares.currency) for i in range(len(owners))]
    payable: dict[str, int] = {}
    fee: dict[str, int] = {}
    for owner, part in zip(owners, parts, strict=True):
        gross = shares.gross[owner]
        # Cumulative and floored: at the full share this is exactly the owner's fee.
        fee[owner] = shares.fee[owner] * part.amount // gross if gross else 0
        payable[owner] = part.amount - fee[owner]
    return OrderPosition(
        payable=MappingProxyType(payable),
        fee=MappingProxyType(fee),
        overpaid=max(net_paid - shares.total, 0),
    )


def order_movement(
    *,
    cause: str,
    kind: str,
    order_id: str,
    shares: OrderShares,
    provider: str,
    net_before: int,
    net_after: int,
) -> LedgerTransaction | None:
    """The transaction for money moving at `provider` that takes an order's net money from
    `net_before` to `net_after` (a payment in, a refund out, a refund that failed later)."""
    currency = shares.currency
    before = order_position(shares, net_before)
    after = order_position(shares, net_after)
    amounts: dict[Account, int] = defaultdict(int)
    amounts[Account(AccountKind.PROVIDER_CLEARING, provider, currency)] += net_after - net_before
    for owner in shares.gross:
        payable = Account(AccountKind.ORGANIZER_PAYABLE, owner, currency)
        amounts[payable] -= after.payable[owner] - before.payable[owner]
        revenue = Account(AccountKind.PLATFORM_FEE_REVENUE, "", currency)
        amounts[revenue] -= after.fee[owner] - before.fee[owner]
    amounts[Account(AccountKind.OVERPAYMENT, "", currency)] -= after.overpaid - before.overpaid
    return build(cause=cause, kind=kind, amounts=amounts, order_id=order_id)


def provider_fee(
    *, cause: str, order_id: str, provider: str, fee: Money
) -> LedgerTransaction | None:
    """The provider kept `fee` of what it holds for us: an expense of the platform."""
    return build(
        cause=cause,
        kind="provider_fee",
        order_id=order_id,
        amounts={
            Account(AccountKind.PROVIDER_FEE_EXPENSE, provider, fee.currency): fee.amount,
            Account(AccountKind.PROVIDER_CLEARING, provider, fee.currency): -fee.amount,
        },
    )


# ---------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One transaction as an organizer's statement shows it: what it changed in what the
    platform owes them (`payable`, positive: owed more) and the platform fee it moved."""

    at: datetime
    cause: str
    kind: str
    order_id: str | None
    currency: str
    payable: int
    platform_fee: int


# ---------------------------------------------------------------------------- checks


def order_discrepancy(
    *,
    order_id: str,
    shares: OrderShares,
    net_by_provider: Mapping[str, int],
    postings: Iterable[Posting],
) -> str | None:
    """The first way an order's postings disagree with its attempts, in words; None if none.

    `net_by_provider` is what the order's succeeded payments brought through each provider
    less its succeeded refunds there. The postings must hold exactly that at each provider and
    the position (`order_position`) of the order's total net money.
    """
    held: dict[Account, int] = defaultdict(int)
    for posting in postings:
        held[posting.account] += posting.amount
    currency = shares.currency
    for provider, net in sorted(net_by_provider.items()):
        clearing = held.get(Account(AccountKind.PROVIDER_CLEARING, provider, currency), 0)
        fees = held.get(Account(AccountKind.PROVIDER_FEE_EXPENSE, provider, currency), 0)
        if clearing + fees != net:
            return (
                f"order {order_id}: {provider} holds {clearing + fees} {currency} before fees in "
                f"the ledger, but its attempts say {net}"
            )
    position = order_position(shares, sum(net_by_provider.values()))
    expected = {
        **{
            Account(AccountKind.ORGANIZER_PAYABLE, owner, currency): -amount
            for owner, amount in position.payable.items()
        },
        Account(AccountKind.PLATFORM_FEE_REVENUE, "", currency): -sum(position.fee.values()),
        Account(AccountKind.OVERPAYMENT, "", currency): -position.overpaid,
    }
    for account, amount in sorted(expected.items()):
        if held.get(account, 0) != amount:
            return (
                f"order {order_id}: {account.code} is {held.get(account, 0)} in the ledger, "
                f"but its attempts make it {amount}"
            )
    return None
