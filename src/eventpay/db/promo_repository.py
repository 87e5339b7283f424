"""Promo codes in SQL: their rows, and use counts changed only by conditional statements.

`claim` is three statements in the caller's transaction:

1. `UPDATE promo_codes SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses <
   max_uses)`: on PostgreSQL the update's row lock makes a second claimer wait and re-check the
   condition after the first commits; on SQLite every writer is serialized (`BEGIN IMMEDIATE`).
   No row changed: the code is used up.
2. The buyer's count, an upsert on `promo_buyer_uses` whose update only happens while the count
   is below `max_uses_per_buyer`; no row returned: the buyer's limit is reached, and step 1 is
   undone. Buyers are counted even when the code has no per-buyer limit (the count is what a
   limit added later would be checked against).
3. The order's use row (`active`), unique per code and order.

`release_for_order` moves each active use to `released` with `WHERE status = 'active'`, and
gives the counts back only when that statement changed the row: two releases of one order (the
expiry janitor and a cancellation at once) give back one use.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CursorResult, Select, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventpay.db.models import OrderRow
from eventpay.db.stock_models import PromoBuyerUseRow, PromoCodeRow, PromoCodeUseRow
from eventpay.domain.promotions import percent_from_bps
from eventpay.ports.promos import PromoClaim, PromoCodeRecord

ACTIVE = "active"
RELEASED = "released"
SETTLED = "settled"  # the order was paid: the use is kept for good


def _record(row: PromoCodeRow) -> PromoCodeRecord:
    return PromoCodeRecord(
        id=row.id,
        event_id=row.event_id,
        code=row.code,
        percent_off=None if row.percent_off_bps is None else percent_from_bps(row.percent_off_bps),
        amount_off=row.amount_off,
        applies_to=row.applies_to,
        max_uses=row.max_uses,
        max_uses_per_buyer=row.max_uses_per_buyer,
        uses=row.uses,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        created_at=row.created_at,
        created_by=row.created_by,
        disabled_at=row.disabled_at,
    )


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


def _bps(promo: PromoCodeRecord) -> int | None:
    return None if promo.percent_off is None else int(promo.percent_off * 100)


class SqlPromoRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, promo: PromoCodeRecord) -> bool:
        try:
            with self._s.begin_nested():
                self._s.add(
                    PromoCodeRow(
                        id=promo.id,
                        event_id=promo.event_id,
                        code=promo.code,
                        percent_off_bps=_bps(promo),
                        amount_off=promo.amount_off,
                        applies_to=promo.applies_to,
                        max_uses=promo.max_uses,
                        max_uses_per_buyer=promo.max_uses_per_buyer,
                        uses=promo.uses,
                        valid_from=promo.valid_from,
                        valid_until=promo.valid_until,
                        created_at=promo.created_at,
                        created_by=promo.created_by,
                        disabled_at=promo.disabled_at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def _fresh(self, stmt: Select[PromoCodeRow]) -> list[PromoCodeRow]:
        # Counts change by bulk UPDATE; the identity map must not answer with an older `uses`.
        return list(self._s.scalars(stmt.execution_options(populate_existing=True)))

    def get(self, promo_id: str) -> PromoCodeRecord | None:
        rows = self._fresh(select(PromoCodeRow).where(PromoCodeRow.id == promo_id))
        return _record(rows[0]) if rows else None

    def get_by_code(self, event_id: str, code: str) -> PromoCodeRecord | None:
        rows = self._fresh(
            select(PromoCodeRow)
            .where(PromoCodeRow.event_id == event_id)
            .where(PromoCodeRow.code == code)
        )
        return _record(rows[0]) if rows else None

    def find(self, event_ids: Sequence[str], code: str) -> Sequence[PromoCodeRecord]:
        if not event_ids:
            return []
        rows = self._fresh(
            select(PromoCodeRow)
            .where(PromoCodeRow.event_id.in_(list(event_ids)))
            .where(PromoCodeRow.code == code)
            .where(PromoCodeRow.disabled_at.is_(None))
            .order_by(PromoCodeRow.event_id)
        )
        return [_record(r) for r in rows]

    def list_for_event(self, event_id: str) -> Sequence[PromoCodeRecord]:
        rows = self._fresh(
            select(PromoCodeRow)
            .where(PromoCodeRow.event_id == event_id)
            .order_by(PromoCodeRow.code)
        )
        return [_record(r) for r in rows]

    def disable(self, promo_id: str, *, now: datetime) -> bool:
        result = self._s.execute(
            update(PromoCodeRow)
            .where(PromoCodeRow.id == promo_id)
            .where(PromoCodeRow.disabled_at.is_(None))
            .values(disabled_at=now)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def claim(
        self, promo_id: str, *, buyer_id: str, order_id: str, discount: int, now: datetime
    ) -> PromoClaim:
        held = self._s.scalar(
            select(PromoCodeUseRow)
            .where(PromoCodeUseRow.promo_code_id == promo_id)
            .where(PromoCodeUseRow.order_id == order_id)
            .execution_options(populate_existing=True)
        )
        if held is not None and held.status in (ACTIVE, SETTLED):
            return PromoClaim.CLAIMED
        counted = self._s.execute(
            update(PromoCodeRow)
            .where(PromoCodeRow.id == promo_id)
            .where(PromoCodeRow.max_uses.is_(None) | (PromoCodeRow.uses < PromoCodeRow.max_uses))
            .values(uses=PromoCodeRow.uses + 1)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(counted) == 0:
            return PromoClaim.USED_UP
        limit = self._s.scalar(
            select(PromoCodeRow.max_uses_per_buyer).where(PromoCodeRow.id == promo_id)
        )
        if not self._count_buyer(promo_id, buyer_id, limit):
            self._s.execute(
                update(PromoCodeRow)
                .where(PromoCodeRow.id == promo_id)
                .values(uses=PromoCodeRow.uses - 1)
                .execution_options(synchronize_session=False)
            )
            return PromoClaim.BUYER_LIMIT
        if held is not None:
            # A use this order gave back, taken again (its row is unique per code and order).
            held.status, held.buyer_id, held.discount = ACTIVE, buyer_id, discount
            held.created_at, held.released_at = now, None
        else:
            self._s.add(
                PromoCodeUseRow(
                    id=str(uuid.uuid4()),
                    promo_code_id=promo_id,
                    order_id=order_id,
                    buyer_id=buyer_id,
                    discount=discount,
                    status=ACTIVE,
                    created_at=now,
                )
            )
        self._s.flush()
        return PromoClaim.CLAIMED

    def _count_buyer(self, promo_id: str, buyer_id: str, limit: int | None) -> bool:
        table = PromoBuyerUseRow.__table__
        assert isinstance(table, Table)
        dialect = self._s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table).values(promo_code_id=promo_id, buyer_id=buyer_id, uses=1)
        where = None if limit is None else table.c.uses < limit
        # RETURNING, not rowcount: psycopg reports -1 for an upsert run through the session.
        counted = self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.promo_code_id, table.c.buyer_id],
                set_={"uses": table.c.uses + 1},
                where=where,
            ).returning(table.c.uses)
        ).first()
        return counted is not None

    def settle_for_order(self, order_id: str) -> None:
        self._s.execute(
            update(PromoCodeUseRow)
            .where(PromoCodeUseRow.order_id == order_id)
            .where(PromoCodeUseRow.status == ACTIVE)
            .values(status=SETTLED)
            .execution_options(synchronize_session=False)
        )

    def released_for_order(self, order_id: str) -> Sequence[tuple[str, str, int]]:
        rows = self._s.execute(
            select(
                PromoCodeUseRow.promo_code_id, PromoCodeUseRow.buyer_id, PromoCodeUseRow.discount
            )
            .where(PromoCodeUseRow.order_id == order_id)
            .where(PromoCodeUseRow.status == RELEASED)
            .order_by(PromoCodeUseRow.promo_code_id)
        ).all()
        return [(promo_id, buyer_id, discount) for promo_id, buyer_id, discount in rows]

    def lapsed_orders(self, *, now: datetime, limit: int | None = None) -> Sequence[str]:
        stmt = (
            select(PromoCodeUseRow.order_id, func.min(OrderRow.expires_at))
            .join(OrderRow, OrderRow.id == PromoCodeUseRow.order_id)
            .where(PromoCodeUseRow.status == ACTIVE)
            .where(OrderRow.expires_at <= now)
            .group_by(PromoCodeUseRow.order_id)
            .order_by(func.min(OrderRow.expires_at), PromoCodeUseRow.order_id)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [order_id for order_id, _ in self._s.execute(stmt)]

    def release_for_order(self, order_id: str, *, now: datetime) -> Sequence[str]:
        uses = self._s.execute(
            select(PromoCodeUseRow.id, PromoCodeUseRow.promo_code_id, PromoCodeUseRow.buyer_id)
            .where(PromoCodeUseRow.order_id == order_id)
            .where(PromoCodeUseRow.status == ACTIVE)
            .order_by(PromoCodeUseRow.promo_code_id)
        ).all()
        released: list[str] = []
        for use_id, promo_id, buyer_id in uses:
            moved = self._s.execute(
                update(PromoCodeUseRow)
                .where(PromoCodeUseRow.id == use_id)
                .where(PromoCodeUseRow.status == ACTIVE)
                .values(status=RELEASED, released_at=now)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(moved) == 0:
                continue
            self._s.execute(
                update(PromoCodeRow)
                .where(PromoCodeRow.id == promo_id)
                .where(PromoCodeRow.uses > 0)
                .values(uses=PromoCodeRow.uses - 1)
                .execution_options(synchronize_session=False)
            )
            self._s.execute(
                update(PromoBuyerUseRow)
                .where(PromoBuyerUseRow.promo_code_id == promo_id)
                .where(PromoBuyerUseRow.buyer_id == buyer_id)
                .where(PromoBuyerUseRow.uses > 0)
                .values(uses=PromoBuyerUseRow.uses - 1)
                .execution_options(synchronize_session=False)
            )
            released.append(promo_id)
        return released
