"""Places: reserved when an order is placed, confirmed when it is paid, released otherwise.

Counting is the database's job (`ports.places`: one conditional update per take), so no two
buyers ever get the last place, in any number of processes. This module decides what happens
around the count:

- `reserve` takes an order's places, in stock-id order (two orders wanting the same two
  classes lock them in the same order and cannot deadlock). A competitor who already paid for
  the place gets 409 `already_registered`; one whose earlier order only reserved it sees that
  reservation give way to the new order. A stock item that looks full may only be blocked by
  reservations that expired and were not swept yet: `reserve` then raises `Blocked`, and the
  caller sweeps them in transactions of their own (`sweep_expired`) and tries once more. Only
  then is the answer 409 `sold_out`, before the buyer pays anything.
- `confirm` turns the order's held places into confirmed ones when the order is paid. A place
  released meanwhile (the reservation expired before the payment landed) is taken again if
  one is left; when none is, the order cannot be honoured: nothing is confirmed and the caller
  refunds the payment (`RefundKind.SOLD_OUT`).
- `release` gives an order's places back (expired, cancelled, refunded), each exactly once: a
  place moves from held or confirmed to released by a conditional update, and only the update
  that moved it gives its quantity back.

Locks are taken in one order everywhere: a stock item's row, then the place rows of that item
(`PlaceRepository.lock` before any move), stock items in id order. Moving a place row first and
then giving back to its stock row deadlocked against an order holding that stock row and
waiting to insert a place the moved row still blocked (PostgreSQL, found by the race test).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from eventpay.domain import OrderStatus
from eventpay.domain.places import PlaceClaim, PlaceStatus
from eventpay.ports import SYSTEM_ACTOR, OrderRecord, Principal, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.places import PlaceRecord
from eventpay.ports.promos import PromoClaim
from eventpay.services import audit
from eventpay.services.errors import Conflict
from eventpay.services.views import view_of


@dataclass(frozen=True, slots=True)
class Wanted:
    """One claim of an order: which registration it is for and which item of the request."""

    claim: PlaceClaim
    registration_id: str | None
    item: int
    label: str  # what the buyer asked for, for the error message ("Spring Sound-Off SPL")


class Blocked(Exception):
    """Places look taken, perhaps only by expired reservations: sweep `stock_ids`, retry."""

    def __init__(self, stock_ids: Sequence[str]) -> None:
        super().__init__(f"places of {', '.join(stock_ids)} may be held by expired orders")
        self.stock_ids = tuple(stock_ids)


def reserve(
    uow: UnitOfWork,
    *,
    order_id: str,
    wanted: Sequence[Wanted],
    expires_at: datetime,
    now: datetime,
    swept: bool,
    buyer_id: str,
) -> None:
    """Hold every wanted place for `order_id` until `expires_at`, or raise.

    Raises `Blocked` when a place may be held by an expired reservation and `swept` is False;
    `Conflict` (`sold_out`, `already_registered`) when it is not.

    Per stock item, in stock-id order: its count is taken (the conditional `UPDATE`, which
    locks the row), then the place is added. Adding first was measured slower: each insert's
    foreign-key check share-locks the stock row, and a row that hundreds of transactions
    share-lock before updating it is slow to update. A holder who holds the place already
    (`_supersede`) is served under the stock row's lock; one who does not needs none: the
    unique active holder refuses a twin added meanwhile.
    """
    ordered = sorted(wanted, key=lambda w: (w.claim.stock_id, w.item))
    for want in ordered:
        claim = want.claim
        if claim.holder is not None and uow.places.active_holder(claim.stock_id, claim.holder):
            uow.places.lock(claim.stock_id)
            _supersede(uow, claim, want, order_id=order_id, buyer_id=buyer_id, now=now, swept=swept)
        _take(uow, want, now=now, swept=swept)
        _add(uow, want, order_id=order_id, expires_at=expires_at, now=now)


def _add(
    uow: UnitOfWork, want: Wanted, *, order_id: str, expires_at: datetime, now: datetime
) -> None:
    claim = want.claim
    place = PlaceRecord(
        id=str(uuid.uuid4()),
        order_id=order_id,
        registration_id=want.registration_id,
        stock_id=claim.stock_id,
        holder=claim.holder,
        quantity=claim.quantity,
        status=PlaceStatus.HELD,
        expires_at=expires_at,
    )
    if not uow.places.add(place, now=now):
        # Another order took the same holder's place between our read and our write.
        raise Conflict(
            "already_registered",
            f"{claim.holder} already holds a place in {want.label}.",
            {"item": want.item, "stock_id": claim.stock_id},
        )


def _take(uow: UnitOfWork, want: Wanted, *, now: datetime, swept: bool) -> None:
    claim = want.claim
    if uow.places.take(claim.stock_id, claim.quantity):
        return
    if not swept and uow.places.expired_held(now=now, stock_ids=[claim.stock_id]):
        raise Blocked([claim.stock_id])
    level = uow.places.levels([claim.stock_id]).get(claim.stock_id)
    raise Conflict(
        "sold_out",
        f"{want.label} is sold out.",
        {
            "item": want.item,
            "stock_id": claim.stock_id,
            "places_left": None if level is None else level.left,
            "wanted": claim.quantity,
        },
    )


def refuse_if_short(
    uow: UnitOfWork, wanted: Sequence[Wanted], *, now: datetime, swept: bool
) -> None:
    """Answer `sold_out` before anything is written when a read of the stock levels already
    shows too few places (most buyers of a sold-out class: one read, no writes, no lock).
    Only a shortcut: the conditional update in `reserve` still decides."""
    needed: dict[str, int] = {}
    first: dict[str, Wanted] = {}
    for want in wanted:
        needed[want.claim.stock_id] = needed.get(want.claim.stock_id, 0) + want.claim.quantity
        first.setdefault(want.claim.stock_id, want)
    levels = uow.places.levels(sorted(needed))
    for stock_id in sorted(needed):
        level = levels.get(stock_id)
        if level is None or level.left is None or level.left >= needed[stock_id]:
            continue
        if not swept and uow.places.expired_held(now=now, stock_ids=[stock_id], limit=1):
            raise Blocked([stock_id])
        holders = {w.claim.holder for w in wanted if w.claim.stock_id == stock_id} - {None}
        if any(uow.places.active_holder(stock_id, h) for h in holders if h is not None):
            continue  # the holder's own reservation may give way (`_supersede`): let reserve decide
        want = first[stock_id]
        raise Conflict(
            "sold_out",
            f"{want.label} is sold out.",
            {
                "item": want.item,
                "stock_id": stock_id,
                "places_left": level.left,
                "wanted": needed[stock_id],
            },
        )


def _supersede(
    uow: UnitOfWork,
    claim: PlaceClaim,
    want: Wanted,
    *,
    order_id: str,
    buyer_id: str,
    now: datetime,
    swept: bool,
) -> None:
    """A competitor who already holds this place: paid for, 409 `already_registered`; only
    reserved by an unpaid order of the same buyer, that reservation gives way to the new order
    (an abandoned checkout must not lock its buyer out until it expires); reserved by someone
    else's order (a captain entering a team), 409 too, as one buyer never cancels another's.
    Should a superseded order be paid after all, its places are taken again if any are left,
    else it is refunded whole."""
    assert claim.holder is not None
    held = uow.places.active_holder(claim.stock_id, claim.holder)
    if held is None:
        return
    if held.status is PlaceStatus.HELD and _expired(held, now) and not swept:
        raise Blocked([claim.stock_id])  # lapsed: released whole by the sweep, then retried
    earlier = uow.orders.get(held.order_id)
    if held.status is PlaceStatus.HELD and earlier is not None and earlier.buyer_id != buyer_id:
        raise Conflict(
            "already_registered",
            f"{claim.holder} already holds a place in {want.label}, reserved by another order.",
            {"item": want.item, "stock_id": claim.stock_id},
        )
    if held.status is PlaceStatus.CONFIRMED:
        raise Conflict(
            "already_registered",
            f"{claim.holder} is already registered for {want.label}.",
            {"item": want.item, "stock_id": claim.stock_id, "order_id": held.order_id},
        )
    if uow.places.move(held.id, source=PlaceStatus.HELD, target=PlaceStatus.RELEASED, now=now):
        uow.places.give_back(held.stock_id, held.quantity)
        audit_released(
            uow,
            held.order_id,
            [held],
            actor=SYSTEM_ACTOR,
            now=now,
            reason=f"superseded: its buyer placed order {order_id} for the same place",
        )


def _expired(place: PlaceRecord, now: datetime) -> bool:
    return place.expires_at is not None and place.expires_at <= now


def confirm(
    uow: UnitOfWork, order: OrderRecord, *, actor: Principal | str, now: datetime
) -> list[PlaceRecord]:
    """Confirm the paid order's places and keep its promo code uses; the places that could not
    be had again (empty: all held).

    When any place is lost, the order's places are all released again (an order is honoured
    whole or not at all) and the lost ones are returned for the caller to explain. Places taken
    again after the reservation lapsed are audited, and so are uses of promo codes counted
    again (a use given back when the order lapsed; a code used up meanwhile is honoured at the
    price the buyer was quoted, and said so).
    """
    lost: list[PlaceRecord] = []
    retaken: list[PlaceRecord] = []
    rows = uow.places.for_order(order.id)
    for place in rows:
        if place.status is PlaceStatus.CONFIRMED or _replaced(place, rows):
            continue
        uow.places.lock(place.stock_id)
        if place.status is PlaceStatus.HELD and uow.places.move(
            place.id, source=PlaceStatus.HELD, target=PlaceStatus.CONFIRMED, now=now
        ):
            continue
        again = _take_again(uow, place, now=now)
        if again is None:
            lost.append(place)
        else:
            retaken.append(again)
    if lost:
        released = release(uow, order.id, now=now)
        audit_released(
            uow, order.id, released, actor=actor, now=now, reason="sold out after expiry"
        )
        return lost
    if retaken:
        _audit_places(uow, order.id, "order.places_retaken", retaken, actor=actor, now=now)
    _keep_promo_uses(uow, order, actor=actor, now=now)
    return []


def _keep_promo_uses(
    uow: UnitOfWork, order: OrderRecord, *, actor: Principal | str, now: datetime
) -> None:
    for promo_id, buyer_id, discount in uow.promos.released_for_order(order.id):
        outcome = uow.promos.claim(
            promo_id, buyer_id=buyer_id, order_id=order.id, discount=discount, now=now
        )
        audit.record(
            uow,
            entity_type="order",
            entity_id=order.id,
            order_id=order.id,
            action=(
                "order.promo_code_reclaimed"
                if outcome is PromoClaim.CLAIMED
                else "order.promo_code_honoured_over_limit"
            ),
            actor=actor,
            now=now,
            details={"promo_code_id": promo_id, "discount": discount, "outcome": outcome.value},
        )
    uow.promos.settle_for_order(order.id)


def _replaced(place: PlaceRecord, rows: Sequence[PlaceRecord]) -> bool:
    """A released place the order holds again in a newer row (`hold_again`)."""
    return place.status is PlaceStatus.RELEASED and any(
        other.stock_id == place.stock_id
        and other.registration_id == place.registration_id
        and other.status in (PlaceStatus.HELD, PlaceStatus.CONFIRMED)
        for other in rows
    )


def hold_again(
    uow: UnitOfWork, order_id: str, *, expires_at: datetime, actor: Principal | str, now: datetime
) -> list[PlaceRecord]:
    """Hold again, until `expires_at`, the places the order's lapsed reservation released;
    the places that could not be had (empty: all held again, audited `order.places_held_again`).

    For money a buyer approved but that is not taken yet (PayPal): taking it for an order whose
    places were sold meanwhile would only mean refunding it, with the provider's fees lost both
    ways. All or nothing: when one place is lost the caller rolls back and takes no money.
    """
    rows = uow.places.for_order(order_id)
    active = {
        (p.stock_id, p.registration_id)
        for p in rows
        if p.status in (PlaceStatus.HELD, PlaceStatus.CONFIRMED)
    }
    released = sorted(
        (
            p
            for p in rows
            if p.status is PlaceStatus.RELEASED and (p.stock_id, p.registration_id) not in active
        ),
        key=lambda p: (p.stock_id, p.id),
    )
    held: list[PlaceRecord] = []
    lost: list[PlaceRecord] = []
    for place in released:
        uow.places.lock(place.stock_id)
        again = _take_again(uow, place, now=now, status=PlaceStatus.HELD, expires_at=expires_at)
        if again is None:
            lost.append(place)
        else:
            held.append(again)
    if not lost:
        _audit_places(uow, order_id, "order.places_held_again", held, actor=actor, now=now)
    return lost


def _take_again(
    uow: UnitOfWork,
    place: PlaceRecord,
    *,
    now: datetime,
    status: PlaceStatus = PlaceStatus.CONFIRMED,
    expires_at: datetime | None = None,
) -> PlaceRecord | None:
    if place.holder is not None and uow.places.active_holder(place.stock_id, place.holder):
        return None
    if not uow.places.take(place.stock_id, place.quantity):
        return None
    again = PlaceRecord(
        id=str(uuid.uuid4()),
        order_id=place.order_id,
        registration_id=place.registration_id,
        stock_id=place.stock_id,
        holder=place.holder,
        quantity=place.quantity,
        status=status,
        expires_at=expires_at,
    )
    if not uow.places.add(again, now=now):  # pragma: no cover - checked just above
        uow.places.give_back(place.stock_id, place.quantity)
        return None
    return again


def release(
    uow: UnitOfWork,
    order_id: str,
    *,
    now: datetime,
    registration_id: str | None = None,
    only_expired: bool = False,
) -> list[PlaceRecord]:
    """Release the order's places still held or confirmed (of one registration, or all);
    with `only_expired`, only held places whose reservation has expired. The places released."""
    released: list[PlaceRecord] = []
    for place in uow.places.for_order(order_id):
        if registration_id is not None and place.registration_id != registration_id:
            continue
        if place.status is PlaceStatus.RELEASED:
            continue
        if only_expired and not (place.status is PlaceStatus.HELD and _expired(place, now)):
            continue
        uow.places.lock(place.stock_id)
        if uow.places.move(place.id, source=place.status, target=PlaceStatus.RELEASED, now=now):
            uow.places.give_back(place.stock_id, place.quantity)
            released.append(place)
    return released


def audit_released(
    uow: UnitOfWork,
    order_id: str,
    released: Sequence[PlaceRecord],
    *,
    actor: Principal | str,
    now: datetime,
    reason: str,
) -> None:
    _audit_places(
        uow, order_id, "order.places_released", released, actor=actor, now=now, reason=reason
    )


def _audit_places(
    uow: UnitOfWork,
    order_id: str,
    action: str,
    moved: Sequence[PlaceRecord],
    *,
    actor: Principal | str,
    now: datetime,
    reason: str | None = None,
) -> None:
    if not moved:
        return
    details: dict[str, object] = {
        "places": [
            {"stock_id": p.stock_id, "quantity": p.quantity, "holder": p.holder} for p in moved
        ]
    }
    if reason is not None:
        details["reason"] = reason
    audit.record(
        uow,
        entity_type="order",
        entity_id=order_id,
        order_id=order_id,
        action=action,
        actor=actor,
        now=now,
        details=details,
    )


def lapse(uow: UnitOfWork, order_id: str, *, actor: Principal | str, now: datetime) -> int:
    """An order that expired unpaid gives back its promo code uses, then its reserved places;
    how many places were released. Nothing happens to an order that is paid (a free order is
    paid from the start), or not expired yet.

    The order row is locked first, so a payment settling the same order at the same moment
    either confirms the places before this or finds them released; promo codes are released
    before places, the order in which placing an order takes them, so the two cannot deadlock.
    """
    order = uow.orders.get(order_id, for_update=True)
    if order is None:  # pragma: no cover - foreign key
        return 0
    if view_of(uow, order, now=now).status is not OrderStatus.EXPIRED:
        return 0
    promos = uow.promos.release_for_order(order_id, now=now)
    released = release(uow, order_id, now=now, only_expired=True)
    audit_released(
        uow,
        order_id,
        released,
        actor=actor,
        now=now,
        reason="the reservation expired before the order was paid",
    )
    if promos:
        audit.record(
            uow,
            entity_type="order",
            entity_id=order_id,
            order_id=order_id,
            action="order.promo_code_released",
            actor=actor,
            now=now,
            details={"promo_code_ids": list(promos)},
        )
    return len(released)


def sweep_expired(
    uow_factory: UnitOfWorkFactory,
    *,
    actor: Principal | str,
    now: datetime,
    stock_ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> int:
    """Release reservations that expired unpaid (of `stock_ids`, or all, and then also the
    promo code uses of lapsed orders whose places were already released, such as superseded
    ones), one order per transaction; how many places were released."""
    with uow_factory() as uow:
        due = [
            p.order_id for p in uow.places.expired_held(now=now, stock_ids=stock_ids, limit=limit)
        ]
        if stock_ids is None:
            due += uow.promos.lapsed_orders(now=now, limit=limit)
    released = 0
    for order_id in dict.fromkeys(due):
        with uow_factory() as uow:
            released += lapse(uow, order_id, actor=actor, now=now)
            uow.commit()
    return released
