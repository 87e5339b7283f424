"""Payment attempts and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from eventpay.db.ids import uuid7
from eventpay.db.models import LedgerTransactionRow, PaymentAuditLogRow, PaymentRow
from eventpay.domain import PaymentStatus
from eventpay.ports import AuditEntry, PaymentRecord, ProviderName


def _record(row: PaymentRow) -> PaymentRecord:
    return PaymentRecord(
        id=row.id,
        order_id=row.order_id,
        provider=ProviderName(row.provider),
        amount=row.amount,
        currency=row.currency,
        status=PaymentStatus(row.status),
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
        stripe_payment_intent_id=row.stripe_payment_intent_id,
        paypal_order_id=row.paypal_order_id,
        metadata={str(k): str(v) for k, v in (row.metadata_ or {}).items()},
        failure_code=row.failure_code,
        failure_message=row.failure_message,
        amount_received=row.amount_received,
        capture_id=row.capture_id,
        return_url=row.return_url,
        next_check_at=row.next_check_at,
        checks=row.checks,
    )


def _copy_into(row: PaymentRow, p: PaymentRecord) -> None:
    row.order_id = p.order_id
    row.provider = p.provider.value
    row.amount = p.amount
    row.currency = p.currency
    row.status = p.status.value
    row.idempotency_key = p.idempotency_key
    row.created_at = p.created_at
    row.updated_at = p.updated_at
    row.stripe_payment_intent_id = p.stripe_payment_intent_id
    row.paypal_order_id = p.paypal_order_id
    row.metadata_ = dict(p.metadata)
    row.failure_code = p.failure_code
    row.failure_message = p.failure_message
    row.amount_received = p.amount_received
    row.capture_id = p.capture_id
    row.return_url = p.return_url
    row.next_check_at = p.next_check_at or p.created_at
    row.checks = p.checks


class SqlPaymentRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, payment: PaymentRecord) -> None:
        row = PaymentRow(id=payment.id)
        _copy_into(row, payment)
        self._s.add(row)
        self._s.flush()

    def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRecord | None:
        stmt = select(PaymentRow).where(PaymentRow.id == payment_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _record(row)

    def by_provider_ref(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> PaymentRecord | None:
        column = (
            PaymentRow.stripe_payment_intent_id
            if provider is ProviderName.STRIPE
            else PaymentRow.paypal_order_id
        )
        stmt = select(PaymentRow).where(column == ref)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _record(row)

    def by_capture_id(
        self, provider: ProviderName, capture_id: str, *, for_update: bool = False
    ) -> PaymentRecord | None:
        stmt = (
            select(PaymentRow)
            .where(PaymentRow.provider == provider.value, PaymentRow.capture_id == capture_id)
            .order_by(PaymentRow.created_at, PaymentRow.id)
            .limit(1)
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _record(row)

    def list_for_order(self, order_id: str) -> Sequence[PaymentRecord]:
        stmt = (
            select(PaymentRow)
            .where(PaymentRow.order_id == order_id)
            .order_by(PaymentRow.created_at, PaymentRow.id)
        )
        return [_record(r) for r in self._s.scalars(stmt)]

    def list_due(
        self,
        *,
        now: datetime,
        statuses: Sequence[PaymentStatus],
        limit: int,
        provider: ProviderName | None = None,
        linked: bool | None = None,
        captured: bool | None = None,
        created_after: datetime | None = None,
        beside_success: bool = False,
        unchecked_too: bool = False,
        fee_unknown: bool = False,
    ) -> Sequence[PaymentRecord]:
        stmt = select(PaymentRow).where(PaymentRow.status.in_([s.value for s in statuses]))
        due = PaymentRow.next_check_at <= now
        stmt = stmt.where(or_(due, PaymentRow.checks == 0) if unchecked_too else due)
        if provider is not None:
            stmt = stmt.where(PaymentRow.provider == provider.value)
        if linked is not None:
            ref = func.coalesce(PaymentRow.stripe_payment_intent_id, PaymentRow.paypal_order_id)
            stmt = stmt.where(ref.is_not(None) if linked else ref.is_(None))
        if captured is not None:
            cap = PaymentRow.capture_id
            stmt = stmt.where(cap.is_not(None) if captured else cap.is_(None))
        if created_after is not None:
            stmt = stmt.where(PaymentRow.created_at >= created_after)
        if beside_success:
            sibling = aliased(PaymentRow)
            stmt = stmt.where(
                exists().where(
                    sibling.order_id == PaymentRow.order_id,
                    sibling.status == PaymentStatus.SUCCEEDED.value,
                )
            )
        if fee_unknown:
            cause = literal("payment:") + PaymentRow.id + literal(":fee")
            stmt = stmt.where(~exists().where(LedgerTransactionRow.cause == cause))
        stmt = stmt.order_by(PaymentRow.next_check_at, PaymentRow.id).limit(limit)
        return [_record(r) for r in self._s.scalars(stmt)]

    def order_ids(self, *, status: PaymentStatus) -> Sequence[str]:
        stmt = (
            select(PaymentRow.order_id)
            .where(PaymentRow.status == status.value)
            .distinct()
            .order_by(PaymentRow.order_id)
        )
        return list(self._s.scalars(stmt))

    def list_settled(self, *, provider: ProviderName, since: datetime) -> Sequence[PaymentRecord]:
        stmt = (
            select(PaymentRow)
            .where(PaymentRow.provider == provider.value)
            .where(PaymentRow.status == PaymentStatus.SUCCEEDED.value)
            .where(PaymentRow.capture_id.is_not(None))
            .where(PaymentRow.created_at >= since)
            .order_by(PaymentRow.created_at, PaymentRow.id)
        )
        return [_record(r) for r in self._s.scalars(stmt)]

    def save(self, payment: PaymentRecord) -> None:
        row = self._s.get(PaymentRow, payment.id)
        if row is None:
            raise LookupError(f"payment {payment.id} does not exist")
        _copy_into(row, payment)
        self._s.flush()


class SqlAuditRepository:
    """Append-only: there is deliberately no update or delete here."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, entry: AuditEntry) -> None:
        self._s.add(
            PaymentAuditLogRow(
                id=str(uuid7()),
                payment_id=entry.payment_id,
                order_id=entry.order_id,
                entity_type=entry.entity_type,
                entity_id=entry.entity_id,
                action=entry.action,
                actor_id=entry.actor_id,
                details=entry.details,
                ip_address=entry.ip_address,
                created_at=entry.created_at,
            )
        )
        self._s.flush()

    def list_for(self, *, order_id: str) -> Sequence[AuditEntry]:
        return self._entries(PaymentAuditLogRow.order_id == order_id)

    def list_for_entity(self, entity_type: str, entity_id: str) -> Sequence[AuditEntry]:
        return self._entries(
            PaymentAuditLogRow.entity_type == entity_type,
            PaymentAuditLogRow.entity_id == entity_id,
        )

    def _entries(self, *where: ColumnElement[bool]) -> Sequence[AuditEntry]:
        stmt = (
            select(PaymentAuditLogRow)
            .where(*where)
            .order_by(PaymentAuditLogRow.created_at, PaymentAuditLogRow.id)
        )
        return [
            AuditEntry(
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                action=r.action,
                actor_id=r.actor_id,
                details=dict(r.details),
                created_at=r.created_at,
                payment_id=r.payment_id,
                order_id=r.order_id,
                ip_address=r.ip_address,
            )
            for r in self._s.scalars(stmt)
        ]
