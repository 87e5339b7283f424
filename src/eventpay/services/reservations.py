"""Reservations seen from outside: a buyer's places and, in a sandbox, a test clock for them.

`expire_order` is the sandbox's equivalent of Stripe's test clocks for reservations: an admin
of a service that is not in production brings an order's expiry forward to now, and its places
are released as the janitor would release them after the real wait. The self-test's
`reservation-expired-payment-refunded` scenario uses it instead of waiting 15 minutes.
"""

from __future__ import annotations

from eventpay.ports import SYSTEM_ACTOR, Clock, Principal, Role, UnitOfWorkFactory
from eventpay.services import audit
from eventpay.services.errors import NotFound
from eventpay.services.settlement import places
from eventpay.services.views import load_owned


def expire_order(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, order_id: str, clock: Clock
) -> int:
    """Expire the order now and release its reserved places; how many were released."""
    if caller.role is not Role.ADMIN:
        raise NotFound("order_not_found", "No such order.", {"order_id": order_id})
    now = clock()
    with uow_factory() as uow:
        order = load_owned(uow, order_id=order_id, caller=caller)
        uow.orders.expire(order.id, at=now)
        uow.places.expire_order(order.id, at=now)
        audit.record(
            uow,
            entity_type="order",
            entity_id=order.id,
            order_id=order.id,
            action="order.expired_by_sandbox_clock",
            actor=caller,
            now=now,
            details={"was": None if order.expires_at is None else order.expires_at.isoformat()},
        )
        uow.commit()
    with uow_factory() as uow:
        released = places.lapse(uow, order_id, actor=SYSTEM_ACTOR, now=now)
        uow.commit()
    return released
