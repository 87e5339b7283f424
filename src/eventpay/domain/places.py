"""Places: what an order holds of something sold a limited number of times.

A place is ``held`` from the moment an order reserves it until the reservation expires,
``confirmed`` once the order is paid, and ``released`` when the reservation expired unpaid, the
order was cancelled or its money went back. Released is final for that place: a payment that
lands after its place was released must take a new one (``services.settlement.places``).

What must not live here: counting places (the database does, in one conditional statement) and
deciding when a reservation expires (the order's ``expires_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PlaceStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"


_NEXT: dict[PlaceStatus, frozenset[PlaceStatus]] = {
    PlaceStatus.HELD: frozenset({PlaceStatus.CONFIRMED, PlaceStatus.RELEASED}),
    PlaceStatus.CONFIRMED: frozenset({PlaceStatus.RELEASED}),
    PlaceStatus.RELEASED: frozenset(),
}


def can_move(current: PlaceStatus, target: PlaceStatus) -> bool:
    """Whether a place may go from ``current`` to ``target`` (held → confirmed → released)."""
    return PlaceStatus(target) in _NEXT[PlaceStatus(current)]


def class_stock_id(class_id: str) -> str:
    """The stock item of a competition class's places."""
    return f"class:{class_id}"


@dataclass(frozen=True, slots=True)
class PlaceClaim:
    """What one registration of an order needs: ``quantity`` places of ``stock_id``.

    ``holder`` names the competitor the place is for when one competitor may hold it only once
    (an entry in a class); None for things a buyer may buy several of.
    """

    stock_id: str
    quantity: int = 1
    holder: str | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"a claim needs at least one place, got {self.quantity}")
