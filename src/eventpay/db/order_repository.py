"""Orders, their lines and registrations; refunds (read side for now)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from eventpay.db.models import OrderLineRow, OrderRow, RefundRow, RegistrationRow
from eventpay.domain import RefundStatus
from eventpay.domain.orders import RegistrationStatus
from eventpay.ports import (
    OrderLineRecord,
    OrderRecord,
    ProviderName,
    RefundRecord,
    RegistrationRecord,
)


def _registration(row: RegistrationRow) -> RegistrationRecord:
    return RegistrationRecord(
        id=row.id,
        order_id=row.order_id,
        event_id=row.event_id,
        competitor_id=row.competitor_id,
        class_ids=list(row.class_ids),
        status=RegistrationStatus(row.status),
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
    )


class SqlOrderRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, order: OrderRecord) -> None:
        self._s.add(
            OrderRow(
                id=order.id,
                buyer_id=order.buyer_id,
                currency=order.currency,
                subtotal=order.subtotal,
                discount=order.discount,
                fees=order.fees,
                tax=order.tax,
                total=order.total,
                platform_fee=order.platform_fee,
                organizer_net=order.organizer_net,
                created_at=order.created_at,
                updated_at=order.created_at,
                expires_at=order.expires_at,
                cancelled_at=order.cancelled_at,
                organizer_shares=order.organizer_shares,
            )
        )
        self._s.flush()
        for line in order.lines:
            self._s.add(
                OrderLineRow(
                    id=line.id,
                    order_id=order.id,
                    position=line.position,
                    kind=line.kind,
                    description=line.description,
                    amount=line.amount,
                    event_id=line.event_id,
                    class_id=line.class_id,
                    price_rule=line.price_rule,
                    discount=line.discount,
                )
            )
        for reg in order.registrations:
            self._s.add(
                RegistrationRow(
                    id=reg.id,
                    order_id=order.id,
                    event_id=reg.event_id,
                    competitor_id=reg.competitor_id,
                    class_ids=list(reg.class_ids),
                    status=reg.status.value,
                    created_at=reg.created_at,
                    updated_at=reg.created_at,
                    confirmed_at=reg.confirmed_at,
                )
            )
        self._s.flush()

    def get(self, order_id: str, *, for_update: bool = False) -> OrderRecord | None:
        stmt = select(OrderRow).where(OrderRow.id == order_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        if row is None:
            return None
        lines = self._s.scalars(
            select(OrderLineRow)
            .where(OrderLineRow.order_id == order_id)
            .order_by(OrderLineRow.position)
        )
        regs = self._s.scalars(
            select(RegistrationRow)
            .where(RegistrationRow.order_id == order_id)
            .order_by(RegistrationRow.created_at, RegistrationRow.id)
        )
        return OrderRecord(
            id=row.id,
            buyer_id=row.buyer_id,
            currency=row.currency,
            subtotal=row.subtotal,
            discount=row.discount,
            fees=row.fees,
            tax=row.tax,
            total=row.total,
            platform_fee=row.platform_fee,
            organizer_net=row.organizer_net,
            created_at=row.created_at,
            expires_at=row.expires_at,
            cancelled_at=row.cancelled_at,
            organizer_shares=(
                None
                if row.organizer_shares is None
                else {str(k): [int(v[0]), int(v[1])] for k, v in row.organizer_shares.items()}
            ),
            lines=[
                OrderLineRecord(
                    id=ln.id,
                    position=ln.position,
                    kind=ln.kind,
                    description=ln.description,
                    amount=ln.amount,
                    event_id=ln.event_id,
                    class_id=ln.class_id,
                    price_rule=ln.price_rule,
                    discount=ln.discount,
                )
                for ln in lines
            ],
            registrations=[_registration(r) for r in regs],
        )

    def expire(self, order_id: str, *, at: datetime) -> None:
        self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(expires_at=at, updated_at=at)
            .execution_options(synchronize_session=False)
        )

    def set_registration_status(
        self, registration_id: str, status: RegistrationStatus, *, at: datetime
    ) -> None:
        row = self._s.get(RegistrationRow, registration_id)
        if row is None:
            raise LookupError(f"registration {registration_id} does not exist")
        row.status = status.value
        row.updated_at = at
        if status is RegistrationStatus.CONFIRMED and row.confirmed_at is None:
            row.confirmed_at = at
        self._s.flush()


def _refund(r: RefundRow) -> RefundRecord:
    return RefundRecord(
        id=r.id,
        order_id=r.order_id,
        payment_id=r.payment_id,
        provider=ProviderName(r.provider),
        amount=r.amount,
        currency=r.currency,
        status=RefundStatus(r.status),
        reason=r.reason,
        created_at=r.created_at,
        idempotency_key=r.idempotency_key,
        updated_at=r.updated_at,
        provider_refund_id=r.provider_refund_id,
        failure_reason=r.failure_reason,
        kind=r.kind,
        next_check_at=r.next_check_at,
        checks=r.checks,
        request_id=r.request_id,
    )


class SqlRefundRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, refund: RefundRecord) -> None:
        self._s.add(
            RefundRow(
                id=refund.id,
                order_id=refund.order_id,
                payment_id=refund.payment_id,
                provider=refund.provider.value,
                provider_refund_id=refund.provider_refund_id,
                amount=refund.amount,
                currency=refund.currency,
                status=refund.status.value,
                reason=refund.reason,
                kind=refund.kind,
                failure_reason=refund.failure_reason,
                idempotency_key=refund.idempotency_key,
                created_at=refund.created_at,
                updated_at=refund.updated_at or refund.created_at,
                next_check_at=refund.next_check_at or refund.created_at,
                checks=refund.checks,
                request_id=refund.request_id,
            )
        )
        self._s.flush()

    def get(self, refund_id: str, *, for_update: bool = False) -> RefundRecord | None:
        stmt = select(RefundRow).where(RefundRow.id == refund_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _refund(row)

    def by_provider_ref(
        self, provider: ProviderName, provider_refund_id: str, *, for_update: bool = False
    ) -> RefundRecord | None:
        stmt = select(RefundRow).where(
            RefundRow.provider == provider.value, RefundRow.provider_refund_id == provider_refund_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _refund(row)

    def by_idempotency_key(self, key: str) -> RefundRecord | None:
        row = self._s.scalar(select(RefundRow).where(RefundRow.idempotency_key == key))
        return None if row is None else _refund(row)

    def list_for_order(self, order_id: str) -> Sequence[RefundRecord]:
        rows = self._s.scalars(
            select(RefundRow)
            .where(RefundRow.order_id == order_id)
            .order_by(RefundRow.created_at, RefundRow.id)
        )
        return [_refund(r) for r in rows]

    def list_settled(self, *, provider: ProviderName, since: datetime) -> Sequence[RefundRecord]:
        rows = self._s.scalars(
            select(RefundRow)
            .where(RefundRow.provider == provider.value)
            .where(RefundRow.status == RefundStatus.SUCCEEDED.value)
            .where(RefundRow.provider_refund_id.is_not(None))
            .where(RefundRow.created_at >= since)
            .order_by(RefundRow.created_at, RefundRow.id)
        )
        return [_refund(r) for r in rows]

    def list_due(self, *, now: datetime, limit: int) -> Sequence[RefundRecord]:
        rows = self._s.scalars(
            select(RefundRow)
            .where(RefundRow.status == RefundStatus.PENDING.value)
            .where(RefundRow.next_check_at <= now)
            .order_by(RefundRow.next_check_at, RefundRow.id)
            .limit(limit)
        )
        return [_refund(r) for r in rows]

    def save(self, refund: RefundRecord) -> None:
        row = self._s.get(RefundRow, refund.id)
        if row is None:
            raise LookupError(f"refund {refund.id} does not exist")
        row.status = refund.status.value
        row.provider_refund_id = refund.provider_refund_id
        row.failure_reason = refund.failure_reason
        row.updated_at = refund.updated_at or row.updated_at
        row.next_check_at = refund.next_check_at or row.next_check_at
        row.checks = refund.checks
        self._s.flush()
