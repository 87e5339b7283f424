"""The promo codes port: codes an event's organizer created, and their atomic use counts.

`claim` and `release_for_order` are the only writes to the counts, each one conditional
statement in the adapter (`db.stock_models`), so the last use of a code goes to exactly one
of two racing buyers, and an order that is not paid gives its use back exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from eventpay.domain.money import Money
from eventpay.domain.promotions import PromoTerms


@dataclass(frozen=True, slots=True)
class PromoCodeRecord:
    id: str
    event_id: str
    code: str  # normalized: stripped and upper-cased
    percent_off: Decimal | None
    amount_off: int | None  # minor units of the event's currency
    applies_to: str | None  # a line kind ("registration", ...); None: every line of the event
    max_uses: int | None
    max_uses_per_buyer: int | None
    uses: int
    valid_from: datetime | None
    valid_until: datetime | None
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None

    @property
    def remaining(self) -> int | None:
        """Uses still to take (None: no total limit)."""
        return None if self.max_uses is None else max(self.max_uses - self.uses, 0)

    def terms(self, currency: str) -> PromoTerms:
        """The code's terms for the domain (`check_window`, `allocate_discount`); `currency`
        is its event's, the unit of `amount_off`."""
        return PromoTerms(
            percent_off=self.percent_off,
            amount_off=None if self.amount_off is None else Money(self.amount_off, currency),
            applies_to=self.applies_to,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_uses=self.max_uses,
            max_uses_per_buyer=self.max_uses_per_buyer,
        )


class PromoClaim(StrEnum):
    CLAIMED = "claimed"
    USED_UP = "used_up"  # max_uses reached
    BUYER_LIMIT = "buyer_limit"  # max_uses_per_buyer reached for this buyer


class PromoRepository(Protocol):
    def add(self, promo: PromoCodeRecord) -> bool:
        """Store a new code; False when the event already has this code."""
        ...

    def get(self, promo_id: str) -> PromoCodeRecord | None: ...

    def find(self, event_ids: Sequence[str], code: str) -> Sequence[PromoCodeRecord]:
        """The codes named `code` (normalized) of any of `event_ids`, except disabled ones: a
        disabled code is unknown to buyers."""
        ...

    def get_by_code(self, event_id: str, code: str) -> PromoCodeRecord | None:
        """The event's code named `code` (normalized), disabled or not."""
        ...

    def list_for_event(self, event_id: str) -> Sequence[PromoCodeRecord]:
        """Every code of the event, disabled ones too, by code."""
        ...

    def disable(self, promo_id: str, *, now: datetime) -> bool:
        """Disable the code from `now`; False when it already was (nothing changes then)."""
        ...

    def claim(
        self, promo_id: str, *, buyer_id: str, order_id: str, discount: int, now: datetime
    ) -> PromoClaim:
        """Count one use for `buyer_id`'s order if both limits allow it, atomically.

        Claiming again for an order that holds an active use of the code counts nothing and
        answers CLAIMED. Each buyer's active uses are counted even when the code has no
        per-buyer limit, so a limit set later counts the uses before it."""
        ...

    def settle_for_order(self, order_id: str) -> None:
        """The order is paid: its active uses are kept for good (never released again)."""
        ...

    def released_for_order(self, order_id: str) -> Sequence[tuple[str, str, int]]:
        """(promo id, buyer id, discount) of the order's uses given back when it lapsed."""
        ...

    def lapsed_orders(self, *, now: datetime, limit: int | None = None) -> Sequence[str]:
        """Orders holding an active (unpaid) use whose expiry has passed, longest first."""
        ...

    def release_for_order(self, order_id: str, *, now: datetime) -> Sequence[str]:
        """Give back the order's active uses (each exactly once); the promo ids released."""
        ...
