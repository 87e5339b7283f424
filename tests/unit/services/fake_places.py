"""In-memory places: the same answers as `db.place_repository`, on the fake unit of work's
tables (`stock` by id: [capacity, taken]; `places` by id)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from eventpay.domain.places import PlaceStatus, class_stock_id
from eventpay.ports.places import ClassGlance, PlaceRecord, StockLevel

_ACTIVE = (PlaceStatus.HELD, PlaceStatus.CONFIRMED)


class FakePlaceRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _stock(self) -> dict[str, list[int | None]]:
        stock: dict[str, list[int | None]] = self._uow.tables.stock
        return stock

    @property
    def _places(self) -> dict[str, PlaceRecord]:
        places: dict[str, PlaceRecord] = self._uow.tables.places
        return places

    def ensure_stock(
        self, stock_id: str, *, event_id: str | None, kind: str, capacity: int | None
    ) -> bool:
        item = self._stock.get(stock_id)
        if item is None:
            self._stock[stock_id] = [capacity, 0]
            return True
        taken = item[1] or 0
        if capacity is not None and taken > capacity:
            return False
        item[0] = capacity
        return True

    def lock(self, stock_id: str) -> None:
        assert stock_id in self._stock, f"no stock item {stock_id}"

    def take(self, stock_id: str, quantity: int) -> bool:
        capacity, taken = self._stock[stock_id]
        assert taken is not None
        if capacity is not None and taken + quantity > capacity:
            return False
        self._stock[stock_id][1] = taken + quantity
        return True

    def give_back(self, stock_id: str, quantity: int) -> None:
        taken = self._stock[stock_id][1]
        assert taken is not None
        assert taken >= quantity
        self._stock[stock_id][1] = taken - quantity

    def add(self, place: PlaceRecord, *, now: datetime) -> bool:
        if place.holder is not None and self.active_holder(place.stock_id, place.holder):
            return False
        self._places[place.id] = place
        return True

    def active_holder(self, stock_id: str, holder: str) -> PlaceRecord | None:
        for place in self._places.values():
            if (place.stock_id, place.holder) == (stock_id, holder) and place.status in _ACTIVE:
                return place
        return None

    def for_order(self, order_id: str) -> Sequence[PlaceRecord]:
        found = [p for p in self._places.values() if p.order_id == order_id]
        return sorted(found, key=lambda p: p.stock_id)

    def move(
        self, place_id: str, *, source: PlaceStatus, target: PlaceStatus, now: datetime
    ) -> bool:
        place = self._places[place_id]
        if place.status is not source:
            return False
        expires = place.expires_at if target is PlaceStatus.HELD else None
        self._places[place_id] = replace(place, status=target, expires_at=expires)
        return True

    def expired_held(
        self, *, now: datetime, stock_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> Sequence[PlaceRecord]:
        due = [
            p
            for p in self._places.values()
            if p.status is PlaceStatus.HELD
            and p.expires_at is not None
            and p.expires_at <= now
            and (stock_ids is None or p.stock_id in stock_ids)
        ]
        ordered = sorted(due, key=lambda p: (p.expires_at, p.id))
        return ordered if limit is None else ordered[:limit]

    def expire_order(self, order_id: str, *, at: datetime) -> None:
        for place in list(self._places.values()):
            if place.order_id == order_id and place.status is PlaceStatus.HELD:
                self._places[place.id] = replace(place, expires_at=at)

    def class_glance(
        self, event_id: str, class_ids: Sequence[str], *, holder: str, now: datetime
    ) -> Mapping[str, ClassGlance]:
        event = self._uow.tables.events.get(event_id)
        places = self._places.values()
        glances: dict[str, ClassGlance] = {}
        for cls in () if event is None else event.classes:
            sid = class_stock_id(cls.id)
            if cls.id not in class_ids or sid not in self._stock:
                continue
            glances[cls.id] = ClassGlance(
                level=self.levels([sid])[sid],
                lapsed=any(
                    p.stock_id == sid
                    and p.status is PlaceStatus.HELD
                    and p.expires_at is not None
                    and p.expires_at <= now
                    for p in places
                ),
                held_by_holder=any(
                    p.stock_id == sid and p.holder == holder and p.status in _ACTIVE for p in places
                ),
                label=f"{event.name} — {cls.code}",
                registration_opens_at=event.registration_opens_at,
                registration_closes_at=event.registration_closes_at,
            )
        return glances

    def levels(self, stock_ids: Sequence[str]) -> Mapping[str, StockLevel]:
        return {
            sid: StockLevel(sid, self._stock[sid][0], self._stock[sid][1] or 0)
            for sid in stock_ids
            if sid in self._stock
        }
