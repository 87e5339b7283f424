"""Synthetic books for the ledger benchmark: order templates priced and posted by the domain.

A template is one order's whole history (its lines, payment and refund attempts, and the
ledger transactions those post) computed once in Python with the same domain functions the
services call (`order_shares`, `order_movement`, `provider_fee`), so the generated books are
right by construction. `ledger_verify.py` loads the templates into scratch tables and copies
them into the real tables with `INSERT ... SELECT` over `generate_series`, order n taking
template n mod K, with ids derived from n.

The mix (weights of `PATTERNS`): one card payment; one PayPal payment; a failed attempt and then
a paid one; a short payment topped up by a second; a double payment refunded or still owed back;
partial and full refunds; a refund that failed. About one order in six spans two organizers,
half of those with the shares stored at pricing (migration 0010), half shared by line amounts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from eventpay.domain import Money
from eventpay.domain.ledger import (
    LedgerTransaction,
    OrderShares,
    order_movement,
    order_shares,
    order_shares_given,
    provider_fee,
)

ORGANIZERS = 20
EVENTS = 40  # event e belongs to organizer e % ORGANIZERS
PRICES = {"usd": [2500, 4000, 4500, 6000, 8500], "eur": [3000, 5500], "jpy": [3000, 8000]}
CURRENCIES = ["usd"] * 8 + ["eur", "jpy"]


def organizer_id(n: int) -> str:
    return f"org-bench-{n:02d}"


def event_id(n: int) -> str:
    return f"event-bench-{n:02d}"


@dataclass
class Payment:
    provider: str
    amount: int
    received: int | None
    status: str


@dataclass
class Refund:
    payment: int
    amount: int
    status: str


@dataclass
class Template:
    currency: str
    total: int
    fee: int
    lines: list[tuple[int, int]]  # (event number, amount)
    stored: dict[str, list[int]] | None
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    # (cause head, cause tail, kind, postings): cause = head + order id + tail
    transactions: list[tuple[str, str, str, list[tuple[str, str, str, int]]]] = field(
        default_factory=list
    )

    def shares(self) -> OrderShares:
        total, fee = Money(self.total, self.currency), Money(self.fee, self.currency)
        if self.stored:
            by = {o: (g, f) for o, (g, f) in self.stored.items()}
            return order_shares_given(total=total, platform_fee=fee, by_organizer=by)
        lines = [(organizer_id(e % ORGANIZERS), a) for e, a in self.lines]
        return order_shares(total=total, platform_fee=fee, lines=lines)

    def post(self, head: str, tail: str, transaction: LedgerTransaction | None) -> None:
        if transaction is not None:
            self.transactions.append(
                (
                    head,
                    tail,
                    transaction.kind,
                    [
                        (p.account.kind.value, p.account.owner, p.account.currency, p.amount)
                        for p in transaction.postings
                    ],
                )
            )


def _fee_of(amount: int) -> int:
    return amount * 5 // 100 + 50  # the default FeePolicy: 5 % + 50 minor units


class _History:
    """Replays one order's money events through the domain, as settlement posts them."""

    def __init__(self, template: Template) -> None:
        self.t = template
        self.shares = template.shares()
        self.net = 0

    def _move(self, cause: tuple[str, str], kind: str, provider: str, change: int) -> None:
        self.t.post(
            *cause,
            order_movement(
                cause="x",
                kind=kind,
                order_id="x",
                shares=self.shares,
                provider=provider,
                net_before=self.net,
                net_after=self.net + change,
            ),
        )
        self.net += change

    def pay(
        self, provider: str, amount: int, *, received: int | None = None, ok: bool = True
    ) -> int:
        index = len(self.t.payments)
        self.t.payments.append(Payment(provider, amount, received, "succeeded" if ok else "failed"))
        if ok:
            counted = amount if received is None else received
            tail = f"-p{index}"
            self._move(("payment:", f"{tail}:succeeded"), "payment_succeeded", provider, counted)
            rate = (29, 30) if provider == "stripe" else (349, 49)  # ‰ / 10 and fixed part
            kept = Money(counted * rate[0] // 1000 + rate[1], self.t.currency)
            fee = provider_fee(cause="x", order_id="x", provider=provider, fee=kept)
            self.t.post("payment:", f"{tail}:fee", fee)
        return index

    def refund(self, payment: int, amount: int, *, ok: bool = True) -> None:
        index = len(self.t.refunds)
        self.t.refunds.append(Refund(payment, amount, "succeeded" if ok else "failed"))
        if ok:
            provider = self.t.payments[payment].provider
            cause = ("refund:", f"-r{index}:succeeded")
            self._move(cause, "refund_succeeded", provider, -amount)


def _card(h: _History) -> None:
    h.pay("stripe", h.t.total)


def _paypal(h: _History) -> None:
    h.pay("paypal", h.t.total)


def _failed_then_paid(h: _History) -> None:
    h.pay("stripe", h.t.total, ok=False)
    h.pay("stripe", h.t.total)


def _short_then_topped_up(h: _History) -> None:
    short = h.t.total // 2
    h.pay("stripe", h.t.total, received=short)
    h.pay("paypal", h.t.total - short)


def _double_refunded(h: _History) -> None:
    h.pay("stripe", h.t.total)
    second = h.pay("stripe", h.t.total)
    h.refund(second, h.t.total)


def _double_owed(h: _History) -> None:
    h.pay("paypal", h.t.total)
    h.pay("stripe", h.t.total)


def _partly_refunded(h: _History) -> None:
    h.refund(h.pay("stripe", h.t.total), h.t.total // 3)


def _fully_refunded(h: _History) -> None:
    h.refund(h.pay("paypal", h.t.total), h.t.total)


def _refund_failed(h: _History) -> None:
    h.refund(h.pay("stripe", h.t.total), h.t.total, ok=False)


PATTERNS: list[tuple[Callable[[_History], None], int]] = [
    (_card, 50),
    (_paypal, 12),
    (_failed_then_paid, 8),
    (_short_then_topped_up, 5),
    (_double_refunded, 5),
    (_double_owed, 2),
    (_partly_refunded, 10),
    (_fully_refunded, 5),
    (_refund_failed, 3),
]


def templates(count: int, *, seed: int = 8) -> list[Template]:
    rng = random.Random(seed)
    patterns, weights = zip(*PATTERNS, strict=True)
    made = []
    for _ in range(count):
        currency = rng.choice(CURRENCIES)
        first = rng.randrange(EVENTS)
        lines = [(first, rng.choice(PRICES[currency]))]
        stored = None
        if rng.random() < 1 / 6:
            second = (first + 1 + rng.randrange(ORGANIZERS - 1)) % EVENTS  # another organizer
            lines.append((second, rng.choice(PRICES[currency])))
            if rng.random() < 0.5:
                stored = {}
                for e, amount in lines:
                    stored[organizer_id(e % ORGANIZERS)] = [amount, _fee_of(amount)]
        total = sum(a for _, a in lines)
        fee = sum(f for _, f in stored.values()) if stored else _fee_of(total)
        template = Template(currency, total, fee, lines, stored)
        rng.choices(patterns, weights)[0](_History(template))
        made.append(template)
    return made
