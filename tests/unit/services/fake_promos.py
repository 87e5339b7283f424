"""In-memory promo codes: the same answers as `db.promo_repository`, on the fake unit of work's
tables (`promos`: one `PromoTables` holding the codes, the orders' uses and each buyer's count).

A fake unit of work is one transaction that commits all or nothing, so each method here is
atomic by construction; the races themselves are tested on SQLite and PostgreSQL
(tests/integration/test_promo_repository.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventpay.ports.promos import PromoClaim, PromoCodeRecord


@dataclass
class PromoUse:
    promo_id: str
    order_id: str
    buyer_id: str
    discount: int
    active: bool = True
    settled: bool = False


@dataclass
class PromoTables:
    codes: dict[str, PromoCodeRecord] = field(default_factory=dict)
    uses: dict[tuple[str, str], PromoUse] = field(default_factory=dict)  # (promo, order)
    buyers: dict[tuple[str, str], int] = field(default_factory=dict)  # (promo, buyer) -> uses


class FakePromoRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _t(self) -> PromoTables:
        tables: PromoTables = self._uow.tables.promos
        return tables

    def add(self, promo: PromoCodeRecord) -> bool:
        if any(
            (p.event_id, p.code) == (promo.event_id, promo.code) for p in self._t.codes.values()
        ):
            return False
        self._t.codes[promo.id] = promo
        return True

    def get(self, promo_id: str) -> PromoCodeRecord | None:
        return self._t.codes.get(promo_id)

    def get_by_code(self, event_id: str, code: str) -> PromoCodeRecord | None:
        for promo in self._t.codes.values():
            if (promo.event_id, promo.code) == (event_id, code):
                return promo
        return None

    def find(self, event_ids: Sequence[str], code: str) -> Sequence[PromoCodeRecord]:
        found = [
            p
            for p in self._t.codes.values()
            if p.event_id in event_ids and p.code == code and p.disabled_at is None
        ]
        return sorted(found, key=lambda p: p.event_id)

    def list_for_event(self, event_id: str) -> Sequence[PromoCodeRecord]:
        return sorted(
            (p for p in self._t.codes.values() if p.event_id == event_id), key=lambda p: p.code
        )

    def disable(self, promo_id: str, *, now: datetime) -> bool:
        promo = self._t.codes[promo_id]
        if promo.disabled_at is not None:
            return False
        self._t.codes[promo_id] = replace(promo, disabled_at=now)
        return True

    def claim(
        self, promo_id: str, *, buyer_id: str, order_id: str, discount: int, now: datetime
    ) -> PromoClaim:
        held = self._t.uses.get((promo_id, order_id))
        if held is not None and held.active:
            return PromoClaim.CLAIMED
        promo = self._t.codes[promo_id]
        if promo.max_uses is not None and promo.uses >= promo.max_uses:
            return PromoClaim.USED_UP
        count = self._t.buyers.get((promo_id, buyer_id), 0)
        if promo.max_uses_per_buyer is not None and count >= promo.max_uses_per_buyer:
            return PromoClaim.BUYER_LIMIT
        self._t.codes[promo_id] = replace(promo, uses=promo.uses + 1)
        self._t.buyers[(promo_id, buyer_id)] = count + 1
        self._t.uses[(promo_id, order_id)] = PromoUse(promo_id, order_id, buyer_id, discount)
        return PromoClaim.CLAIMED

    def settle_for_order(self, order_id: str) -> None:
        for (_, used_by), use in self._t.uses.items():
            if used_by == order_id and use.active:
                use.settled = True

    def released_for_order(self, order_id: str) -> Sequence[tuple[str, str, int]]:
        return [
            (promo_id, use.buyer_id, use.discount)
            for (promo_id, used_by), use in sorted(self._t.uses.items())
            if used_by == order_id and not use.active
        ]

    def lapsed_orders(self, *, now: datetime, limit: int | None = None) -> Sequence[str]:
        orders = self._uow.tables.orders
        due = sorted(
            {
                (orders[used_by].expires_at, used_by)
                for (_, used_by), use in self._t.uses.items()
                if use.active
                and not use.settled
                and orders[used_by].expires_at is not None
                and orders[used_by].expires_at <= now
            }
        )
        ids = [order_id for _, order_id in due]
        return ids if limit is None else ids[:limit]

    def release_for_order(self, order_id: str, *, now: datetime) -> Sequence[str]:
        released = []
        for (promo_id, used_by), use in sorted(self._t.uses.items()):
            if used_by != order_id or not use.active or use.settled:
                continue
            use.active = False
            promo = self._t.codes[promo_id]
            self._t.codes[promo_id] = replace(promo, uses=promo.uses - 1)
            self._t.buyers[(promo_id, use.buyer_id)] -= 1
            released.append(promo_id)
        return released
