"""The places port: stock items with a capacity, and the reservations orders hold on them.

Every method that changes a count is one conditional statement in the adapter, so concurrent
buyers in any number of processes never take more places than exist (`db.stock_models`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventpay.domain.places import PlaceStatus


@dataclass(frozen=True, slots=True)
class PlaceRecord:
    id: str
    order_id: str
    registration_id: str | None
    stock_id: str
    holder: str | None
    quantity: int
    status: PlaceStatus
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class StockLevel:
    """A stock item's capacity (None: unlimited) and the places taken (held or confirmed)."""

    stock_id: str
    capacity: int | None
    taken: int

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.taken, 0)


@dataclass(frozen=True, slots=True)
class ClassGlance:
    """One look at a class's places for an early `sold_out`: the level of its stock item,
    whether a reservation of it lapsed unswept, whether the asking holder holds it already, and
    how a refusal names it ("<event> — <code>") with its event's registration window."""

    level: StockLevel
    lapsed: bool
    held_by_holder: bool
    label: str
    registration_opens_at: datetime
    registration_closes_at: datetime


class PlaceRepository(Protocol):
    def ensure_stock(
        self, stock_id: str, *, event_id: str | None, kind: str, capacity: int | None
    ) -> bool:
        """Create the stock item, or set its capacity; False when the capacity would be below
        the places already taken (nothing changes then)."""
        ...

    def lock(self, stock_id: str) -> None:
        """Lock the stock item's row until the transaction ends. Every change of a place row
        is made under its stock item's lock, so place rows are always locked after their stock
        row, never before: the order in which two transactions take locks is the same."""
        ...

    def take(self, stock_id: str, quantity: int) -> bool:
        """Take `quantity` places if that many are left; False (nothing taken) otherwise."""
        ...

    def give_back(self, stock_id: str, quantity: int) -> None: ...

    def add(self, place: PlaceRecord, *, now: datetime) -> bool:
        """Store a reservation; False when its holder already holds this stock item."""
        ...

    def active_holder(self, stock_id: str, holder: str) -> PlaceRecord | None: ...

    def class_glance(
        self, event_id: str, class_ids: Sequence[str], *, holder: str, now: datetime
    ) -> Mapping[str, ClassGlance]:
        """By class id, each of `class_ids` that belongs to the event and has a stock item, in
        one read without locks."""
        ...

    def for_order(self, order_id: str) -> Sequence[PlaceRecord]: ...

    def move(
        self, place_id: str, *, source: PlaceStatus, target: PlaceStatus, now: datetime
    ) -> bool:
        """Move the place from `source` to `target` only if it is still at `source`."""
        ...

    def expired_held(
        self, *, now: datetime, stock_ids: Sequence[str] | None = None, limit: int | None = None
    ) -> Sequence[PlaceRecord]:
        """Held places whose reservation expired by `now` (all, or of `stock_ids`), longest
        expired first, at most `limit`."""
        ...

    def levels(self, stock_ids: Sequence[str]) -> Mapping[str, StockLevel]: ...

    def expire_order(self, order_id: str, *, at: datetime) -> None:
        """Bring the order's held reservations' expiry forward to `at` (sandbox control)."""
        ...
