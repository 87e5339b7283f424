"""Places in SQL: one conditional statement per count change (`db.stock_models`).

`take` is `UPDATE stock_items SET taken = taken + n WHERE id = ? AND (capacity IS NULL OR
taken + n <= capacity)`: on PostgreSQL the row lock of the update makes concurrent takers wait
for each other and re-check the condition, and on SQLite every writer is serialized by `BEGIN
IMMEDIATE`, so the count can never pass the capacity. A reservation row is added inside a
savepoint, so a holder who already holds the item (the partial unique index) is an answer
(`False`), not a broken transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import CursorResult, Executable, bindparam, exists, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eventpay.db.models import CompetitionClassRow, EventRow
from eventpay.db.stock_models import ACTIVE_PLACE, PlaceRow, StockItemRow
from eventpay.domain.places import PlaceStatus, class_stock_id
from eventpay.ports.places import ClassGlance, PlaceRecord, StockLevel


def _record(row: PlaceRow) -> PlaceRecord:
    return PlaceRecord(
        id=row.id,
        order_id=row.order_id,
        registration_id=row.registration_id,
        stock_id=row.stock_id,
        holder=row.holder,
        quantity=row.quantity,
        status=PlaceStatus(row.status),
        expires_at=row.expires_at,
    )


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return result.rowcount


def _class_glance_statement() -> Executable:
    """Built once: in a rush it runs for every refused buyer, and building a statement of this
    size costs more CPU than PostgreSQL spends answering it."""
    lapsed = exists().where(
        PlaceRow.stock_id == StockItemRow.id,
        PlaceRow.status == PlaceStatus.HELD.value,
        PlaceRow.expires_at <= bindparam("now"),
    )
    mine = exists().where(
        PlaceRow.stock_id == StockItemRow.id,
        PlaceRow.holder == bindparam("holder"),
        PlaceRow.status.in_((PlaceStatus.HELD.value, PlaceStatus.CONFIRMED.value)),
    )
    return (
        select(
            CompetitionClassRow.id.label("class_id"),
            StockItemRow.id,
            StockItemRow.capacity,
            StockItemRow.taken,
            lapsed.label("lapsed"),
            mine.label("mine"),
            EventRow.name,
            CompetitionClassRow.code,
            EventRow.registration_opens_at,
            EventRow.registration_closes_at,
        )
        .join(CompetitionClassRow, StockItemRow.id == "class:" + CompetitionClassRow.id)
        .join(EventRow, EventRow.id == CompetitionClassRow.event_id)
        .where(StockItemRow.id.in_(bindparam("stock_ids", expanding=True)))
        .where(CompetitionClassRow.id.in_(bindparam("class_ids", expanding=True)))
        .where(CompetitionClassRow.event_id == bindparam("event_id"))
    )


_CLASS_GLANCE = _class_glance_statement()


class SqlPlaceRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def ensure_stock(
        self, stock_id: str, *, event_id: str | None, kind: str, capacity: int | None
    ) -> bool:
        row = self._s.get(StockItemRow, stock_id)
        if row is None:
            self._s.add(
                StockItemRow(id=stock_id, event_id=event_id, kind=kind, capacity=capacity, taken=0)
            )
            self._s.flush()
            return True
        stmt = update(StockItemRow).where(StockItemRow.id == stock_id)
        if capacity is not None:
            stmt = stmt.where(StockItemRow.taken <= capacity)
        changed = self._s.execute(
            stmt.values(capacity=capacity).execution_options(synchronize_session=False)
        )
        self._s.expire(row)
        return _rowcount(changed) == 1

    def lock(self, stock_id: str) -> None:
        # SQLite has no row locks and needs none: `BEGIN IMMEDIATE` serializes its writers.
        self._s.execute(
            select(StockItemRow.id).where(StockItemRow.id == stock_id).with_for_update()
        )

    def take(self, stock_id: str, quantity: int) -> bool:
        result = self._s.execute(
            update(StockItemRow)
            .where(StockItemRow.id == stock_id)
            .where(
                StockItemRow.capacity.is_(None)
                | (StockItemRow.taken + quantity <= StockItemRow.capacity)
            )
            .values(taken=StockItemRow.taken + quantity)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def give_back(self, stock_id: str, quantity: int) -> None:
        self._s.execute(
            update(StockItemRow)
            .where(StockItemRow.id == stock_id)
            .values(taken=StockItemRow.taken - quantity)
            .execution_options(synchronize_session=False)
        )

    def add(self, place: PlaceRecord, *, now: datetime) -> bool:
        # One statement: the partial unique index on an active holder decides, no savepoint.
        dialect = self._s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(PlaceRow)
            .values(
                id=place.id,
                order_id=place.order_id,
                registration_id=place.registration_id,
                stock_id=place.stock_id,
                holder=place.holder,
                quantity=place.quantity,
                status=place.status.value,
                expires_at=place.expires_at,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["stock_id", "holder"], index_where=text(ACTIVE_PLACE)
            )
            .returning(PlaceRow.id)
        )
        return self._s.execute(stmt).first() is not None

    def active_holder(self, stock_id: str, holder: str) -> PlaceRecord | None:
        row = self._s.scalar(
            select(PlaceRow)
            .where(PlaceRow.stock_id == stock_id)
            .where(PlaceRow.holder == holder)
            .where(PlaceRow.status.in_((PlaceStatus.HELD.value, PlaceStatus.CONFIRMED.value)))
        )
        return None if row is None else _record(row)

    def class_glance(
        self, event_id: str, class_ids: Sequence[str], *, holder: str, now: datetime
    ) -> Mapping[str, ClassGlance]:
        if not class_ids:
            return {}
        rows = self._s.execute(
            _CLASS_GLANCE,
            {
                "event_id": event_id,
                "class_ids": list(class_ids),
                "stock_ids": [class_stock_id(c) for c in class_ids],
                "holder": holder,
                "now": now,
            },
        )
        return {
            r.class_id: ClassGlance(
                level=StockLevel(r.id, r.capacity, r.taken),
                lapsed=bool(r.lapsed),
                held_by_holder=bool(r.mine),
                label=f"{r.name} — {r.code}",
                registration_opens_at=r.registration_opens_at,
                registration_closes_at=r.registration_closes_at,
            )
            for r in rows
        }

    def for_order(self, order_id: str) -> Sequence[PlaceRecord]:
        rows = self._s.scalars(
            select(PlaceRow).where(PlaceRow.order_id == order_id).order_by(PlaceRow.stock_id)
        )
        return [_record(r) for r in rows]

    def move(
        self, place_id: str, *, source: PlaceStatus, target: PlaceStatus, now: datetime
    ) -> bool:
        values: dict[str, object] = {"status": target.value, "updated_at": now}
        if target is not PlaceStatus.HELD:
            values["expires_at"] = None
        result = self._s.execute(
            update(PlaceRow)
            .where(PlaceRow.id == place_id)
            .where(PlaceRow.status == source.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def expired_held(
        self, *, now: datetime, stock_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> Sequence[PlaceRecord]:
        stmt = (
            select(PlaceRow)
            .where(PlaceRow.status == PlaceStatus.HELD.value)
            .where(PlaceRow.expires_at <= now)
            .order_by(PlaceRow.expires_at, PlaceRow.id)
        )
        if stock_ids is not None:
            stmt = stmt.where(PlaceRow.stock_id.in_(list(stock_ids)))
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_record(r) for r in self._s.scalars(stmt)]

    def expire_order(self, order_id: str, *, at: datetime) -> None:
        self._s.execute(
            update(PlaceRow)
            .where(PlaceRow.order_id == order_id)
            .where(PlaceRow.status == PlaceStatus.HELD.value)
            .values(expires_at=at, updated_at=at)
            .execution_options(synchronize_session=False)
        )

    def levels(self, stock_ids: Sequence[str]) -> Mapping[str, StockLevel]:
        if not stock_ids:
            return {}
        rows = self._s.scalars(select(StockItemRow).where(StockItemRow.id.in_(list(stock_ids))))
        return {r.id: StockLevel(r.id, r.capacity, r.taken) for r in rows}
