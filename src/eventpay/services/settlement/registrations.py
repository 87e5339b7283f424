"""Registrations follow the money: confirmed when the order is paid, released when it is not.

Places are held by an order's registrations. They are confirmed when a payment makes the
order paid, and released (cancelled) only once money has actually gone back: the order is
fully refunded, or a competitor's withdrawal refund has succeeded. A refund that is still
pending or was refused leaves the competitor holding the place they paid for.
"""

from __future__ import annotations

from datetime import datetime

from eventpay.domain import RefundKind, withdrawal_settled
from eventpay.domain.orders import RegistrationStatus, registration_status_for
from eventpay.ports import OrderRecord, Principal, UnitOfWork
from eventpay.services import audit
from eventpay.services.settlement import places
from eventpay.services.views import OrderView, view_of


def cancel_registrations(
    uow: UnitOfWork, order: OrderRecord, *, actor: Principal | str, now: datetime, reason: str
) -> None:
    """Cancel the order's registrations still held, each with a `registration.cancelled` row,
    and give their places back."""
    released = places.release(uow, order.id, now=now)
    places.audit_released(uow, order.id, released, actor=actor, now=now, reason=reason)
    for reg in order.registrations:
        if reg.status is RegistrationStatus.CANCELLED:
            continue
        uow.orders.set_registration_status(reg.id, RegistrationStatus.CANCELLED, at=now)
        audit.record(
            uow,
            entity_type="registration",
            entity_id=reg.id,
            order_id=order.id,
            action="registration.cancelled",
            actor=actor,
            now=now,
            details={"event_id": reg.event_id, "class_ids": reg.class_ids, "reason": reason},
        )


def confirm_registrations(
    uow: UnitOfWork,
    view: OrderView,
    *,
    payment_id: str | None,
    actor: Principal | str,
    now: datetime,
) -> None:
    """Confirm the pending registrations of an order that has just become paid (by a payment,
    or on creation when it costs nothing: `payment_id` None)."""
    if registration_status_for(view.status) is not RegistrationStatus.CONFIRMED:
        return
    order = view.order
    for reg in order.registrations:
        if reg.status is not RegistrationStatus.PENDING:
            continue
        uow.orders.set_registration_status(reg.id, RegistrationStatus.CONFIRMED, at=now)
        audit.record(
            uow,
            entity_type="registration",
            entity_id=reg.id,
            order_id=order.id,
            payment_id=payment_id,
            action="registration.confirmed",
            actor=actor,
            now=now,
            details={"event_id": reg.event_id, "class_ids": reg.class_ids},
        )


def release_places(
    uow: UnitOfWork, order_id: str, *, actor: Principal | str, now: datetime
) -> None:
    """Release the order's places once the money went back; a no-op otherwise.

    A fully refunded order holds none; a competitor's withdrawal releases them once its
    refund succeeded (a late-withdrawal fee may leave the order partially refunded). A
    partially refunded order otherwise keeps them (a goodwill refund, an over-payment).
    """
    order = uow.orders.get(order_id, for_update=True)
    if order is None:  # pragma: no cover - foreign key guarantees it
        return
    view = view_of(uow, order, now=now)
    if registration_status_for(view.status) is RegistrationStatus.CANCELLED:
        cancel_registrations(uow, order, actor=actor, now=now, reason=f"the order is {view.status}")
    elif withdrawal_settled((RefundKind(r.kind), r.status, r.request_id) for r in view.refunds):
        cancel_registrations(
            uow,
            order,
            actor=actor,
            now=now,
            reason="withdrawn by the competitor; the refund succeeded",
        )
