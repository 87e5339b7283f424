"""Payouts, and the ledger and catalog facts a payout run plans them from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from eventpay.db.connect_models import ConnectChargeRow, ConnectTransferRow
from eventpay.db.models import (
    EventRow,
    LedgerPostingRow,
    LedgerTransactionRow,
    OrderLineRow,
    OrganizerRow,
    PaymentRow,
    PayoutRow,
)
from eventpay.domain import Account, AccountKind, Money, PaymentStatus
from eventpay.domain.ledger import Posting
from eventpay.domain.payouts import PayoutStatus
from eventpay.ports import TransferStatus
from eventpay.ports.payouts import PayableFigures, PayoutRecord, PayoutSettings, ReserveHold

CANCELED = TransferStatus.CANCELED

_FIELDS = (
    "status",
    "provider_batch_id",
    "provider_item_id",
    "provider_status",
    "transaction_id",
    "failure_reason",
    "updated_at",
    "next_check_at",
    "checks",
)


def _record(row: PayoutRow) -> PayoutRecord:
    return PayoutRecord(
        id=row.id,
        organizer_id=row.organizer_id,
        amount=Money(row.amount, row.currency),
        provider=row.provider,
        destination=row.destination,
        status=PayoutStatus(row.status),
        period=row.period,
        run_id=row.run_id,
        batch_id=row.batch_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_check_at=row.next_check_at,
        checks=row.checks,
        provider_batch_id=row.provider_batch_id,
        provider_item_id=row.provider_item_id,
        provider_status=row.provider_status,
        transaction_id=row.transaction_id,
        fee=None if row.fee is None else Money(row.fee, row.currency),
        failure_reason=row.failure_reason,
    )


def _held(organizer_id: str, now: datetime) -> ColumnElement[bool]:
    """A posting the organizer's payable holds back: of an order with a line for one of their
    events still in its reserve (not released), unless Stripe Connect already moved that
    order's money to them (a destination charge that succeeded, a transfer of a separate
    charge): that is not the platform's to hold."""
    p, line, event = LedgerPostingRow, OrderLineRow, EventRow
    charge, transfer, payment = ConnectChargeRow, ConnectTransferRow, PaymentRow
    in_reserve = exists().where(
        line.order_id == p.order_id,
        line.event_id == event.id,
        event.organizer_id == organizer_id,
        event.reserve_until > now,
        or_(event.reserve_released_at.is_(None), event.reserve_released_at > now),
    )
    moved_by_connect = or_(
        exists().where(
            charge.order_id == p.order_id,
            charge.organizer_id == organizer_id,
            charge.kind == "destination",
            payment.id == charge.payment_id,
            payment.status == PaymentStatus.SUCCEEDED.value,
        ),
        exists().where(
            transfer.order_id == p.order_id,
            transfer.organizer_id == organizer_id,
            transfer.status.in_([s.value for s in TransferStatus if s is not CANCELED]),
        ),
    )
    return and_(
        p.kind == AccountKind.ORGANIZER_PAYABLE.value,
        p.order_id.is_not(None),
        in_reserve,
        ~moved_by_connect,
    )


class SqlPayoutRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def claim(self, payout: PayoutRecord) -> bool:
        row = PayoutRow(
            id=payout.id,
            organizer_id=payout.organizer_id,
            currency=payout.amount.currency,
            amount=payout.amount.amount,
            provider=payout.provider,
            destination=payout.destination,
            status=payout.status.value,
            period=payout.period,
            run_id=payout.run_id,
            batch_id=payout.batch_id,
            created_at=payout.created_at,
            updated_at=payout.updated_at,
            next_check_at=payout.next_check_at,
            checks=payout.checks,
        )
        try:
            with self._s.begin_nested():
                self._s.add(row)
                self._s.flush()
        except IntegrityError:
            return False
        return True

    def get(self, payout_id: str, *, for_update: bool = False) -> PayoutRecord | None:
        stmt = select(PayoutRow).where(PayoutRow.id == payout_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalars(stmt).one_or_none()
        return None if row is None else _record(row)

    def find_by_item(self, provider: str, provider_item_id: str) -> PayoutRecord | None:
        stmt = (
            select(PayoutRow)
            .where(PayoutRow.provider == provider, PayoutRow.provider_item_id == provider_item_id)
            .with_for_update()
        )
        row = self._s.scalars(stmt).one_or_none()
        return None if row is None else _record(row)

    def save(self, payout: PayoutRecord) -> None:
        values: dict[str, object] = {name: getattr(payout, name) for name in _FIELDS}
        values["status"] = payout.status.value
        values["fee"] = None if payout.fee is None else payout.fee.amount
        self._s.execute(update(PayoutRow).where(PayoutRow.id == payout.id).values(**values))

    def list_for_organizer(self, organizer_id: str) -> Sequence[PayoutRecord]:
        stmt = (
            select(PayoutRow)
            .where(PayoutRow.organizer_id == organizer_id)
            .order_by(PayoutRow.created_at.desc(), PayoutRow.id.desc())
        )
        return [_record(row) for row in self._s.scalars(stmt)]

    def list_batch(self, batch_id: str) -> Sequence[PayoutRecord]:
        stmt = select(PayoutRow).where(PayoutRow.batch_id == batch_id).order_by(PayoutRow.id)
        return [_record(row) for row in self._s.scalars(stmt)]

    def list_due(
        self, *, now: datetime, statuses: Sequence[PayoutStatus]
    ) -> Sequence[PayoutRecord]:
        stmt = (
            select(PayoutRow)
            .where(
                PayoutRow.status.in_([s.value for s in statuses]),
                PayoutRow.next_check_at <= now,
            )
            .order_by(PayoutRow.next_check_at, PayoutRow.id)
        )
        return [_record(row) for row in self._s.scalars(stmt)]

    def owed(self, *, organizer_ids: Sequence[str] | None = None) -> Sequence[tuple[str, str]]:
        p = LedgerPostingRow
        kinds = (AccountKind.ORGANIZER_PAYABLE.value, AccountKind.PAYOUTS_IN_TRANSIT.value)
        stmt = (
            select(p.owner, p.currency)
            .where(p.kind.in_(kinds))
            .group_by(p.owner, p.currency, p.kind)
            .having(func.sum(p.amount) != 0)
            .distinct()
            .order_by(p.owner, p.currency)
        )
        if organizer_ids is not None:
            stmt = stmt.where(p.owner.in_(list(organizer_ids)))
        return [(owner, currency) for owner, currency in self._s.execute(stmt)]

    def figures(self, organizer_id: str, *, now: datetime) -> Mapping[str, PayableFigures]:
        # One statement, so one snapshot: a payout paid, a transfer sent or a refund committed
        # meanwhile moves all the figures it touches or none of them.
        p, transfer = LedgerPostingRow, ConnectTransferRow
        payable = AccountKind.ORGANIZER_PAYABLE.value
        held = _held(organizer_id, now)

        def total(condition: ColumnElement[bool]) -> Any:
            return func.coalesce(func.sum(case((condition, p.amount), else_=0)), 0)

        ledger = (
            select(
                p.currency,
                total(p.kind == payable),
                total(p.kind == AccountKind.PAYOUTS_IN_TRANSIT.value),
                total(held),
                literal(0),
                literal(0),
            )
            .where(
                p.owner == organizer_id,
                p.kind.in_([payable, AccountKind.PAYOUTS_IN_TRANSIT.value]),
            )
            .group_by(p.currency)
        )
        pending = TransferStatus.PENDING.value
        unsent = (
            select(
                transfer.currency,
                literal(0),
                literal(0),
                literal(0),
                func.sum(case((transfer.status == pending, transfer.amount), else_=0)),
                func.sum(case((transfer.status != pending, transfer.amount), else_=0)),
            )
            .where(
                transfer.organizer_id == organizer_id,
                transfer.status.in_([pending, TransferStatus.FAILED.value]),
            )
            .group_by(transfer.currency)
        )
        out: dict[str, PayableFigures] = {}
        for currency, owed, moving, reserved, waiting, failed in self._s.execute(
            union_all(ledger, unsent)
        ):
            before = out.get(currency, PayableFigures())
            out[currency] = PayableFigures(
                payable=before.payable - int(owed),
                in_transit=before.in_transit + int(moving),
                reserved=before.reserved - int(reserved),
                transfers_pending=before.transfers_pending + int(waiting),
                transfers_failed=before.transfers_failed + int(failed),
            )
        return out

    def reserve_holds(self, organizer_id: str, *, now: datetime) -> Sequence[ReserveHold]:
        p, line, event = LedgerPostingRow, OrderLineRow, EventRow
        owed: dict[tuple[str, str], int] = {
            (str(order_id), currency): -int(total)
            for order_id, currency, total in self._s.execute(
                select(p.order_id, p.currency, func.sum(p.amount))
                .where(p.owner == organizer_id, _held(organizer_id, now))
                .group_by(p.order_id, p.currency)
            )
            if total
        }
        if not owed:
            return []
        # Each held order under the last of its events to leave its reserve.
        latest: dict[str, tuple[datetime, str, str]] = {}
        for order_id, event_id, name, until in self._s.execute(
            select(line.order_id, event.id, event.name, event.reserve_until)
            .join(event, event.id == line.event_id)
            .where(
                line.order_id.in_({order_id for order_id, _ in owed}),
                event.organizer_id == organizer_id,
            )
        ):
            if order_id not in latest or latest[order_id][0] < until:
                latest[order_id] = (until, event_id, name)
        by_event: dict[tuple[str, str], int] = {}
        for (held_order, currency), amount in owed.items():
            _, event_id, _ = latest[held_order]
            by_event[(event_id, currency)] = by_event.get((event_id, currency), 0) + amount
        events = {event_id: (until, name) for until, event_id, name in latest.values()}
        return [
            ReserveHold(
                event_id=event_id,
                event_name=events[event_id][1],
                until=events[event_id][0],
                amount=Money(amount, currency),
            )
            for (event_id, currency), amount in sorted(
                by_event.items(), key=lambda kv: (events[kv[0][0]][0], kv[0])
            )
        ]

    def with_postings(self) -> Sequence[tuple[PayoutRecord | None, str, Sequence[Posting]]]:
        t, p = LedgerTransactionRow, LedgerPostingRow
        rows = self._s.execute(
            select(t.cause, p.kind, p.owner, p.currency, p.amount)
            .join(p, p.transaction_id == t.id)
            .where(t.cause.like("payout:%"))
        )
        postings: dict[str, list[Posting]] = defaultdict(list)
        for cause, kind, owner, currency, amount in rows:
            postings[cause.split(":")[1]].append(
                Posting(Account(AccountKind(kind), owner, currency), int(amount))
            )
        payouts = {row.id: _record(row) for row in self._s.scalars(select(PayoutRow))}
        return [
            (payouts.get(payout_id), payout_id, postings.get(payout_id, []))
            for payout_id in sorted({*payouts, *postings})
        ]

    def lock_organizer(self, organizer_id: str) -> None:
        # A write, not SELECT ... FOR UPDATE: it row-locks on PostgreSQL and takes SQLite's
        # write lock before this transaction has read anything.
        self._s.execute(
            update(OrganizerRow)
            .where(OrganizerRow.id == organizer_id)
            .values(payouts_on_hold=OrganizerRow.payouts_on_hold)
        )

    def settings(self, organizer_id: str) -> PayoutSettings | None:
        row = self._s.get(OrganizerRow, organizer_id)
        if row is None:
            return None
        return PayoutSettings(
            organizer_id=row.id,
            paypal_email=row.paypal_email,
            on_hold=row.payouts_on_hold,
            hold_reason=row.payouts_hold_reason,
        )

    def set_hold(self, organizer_id: str, *, on_hold: bool, reason: str | None) -> None:
        self._s.execute(
            update(OrganizerRow)
            .where(OrganizerRow.id == organizer_id)
            .values(payouts_on_hold=on_hold, payouts_hold_reason=reason)
        )

    def release_reserve(self, event_id: str, *, at: datetime) -> bool:
        result = self._s.execute(
            update(EventRow)
            .where(EventRow.id == event_id, EventRow.reserve_released_at.is_(None))
            .values(reserve_released_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
