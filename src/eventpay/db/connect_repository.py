"""Stripe Connect storage: connected accounts, payments' Connect side, separate transfers.

Implements `ports.ConnectRepository` over the tables of `connect_models`. The ledger is read
here too (never written): `transfer_amounts` sums what a set of causes moved to organizer
payables, for `ledger verify`'s check of transfers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from eventpay.db.connect_models import (
    ConnectChargeRow,
    ConnectedAccountRow,
    ConnectTransferReversalRow,
    ConnectTransferRow,
)
from eventpay.db.models import LedgerPostingRow, LedgerTransactionRow, OrganizerRow, PaymentRow
from eventpay.domain import AccountKind, PaymentStatus
from eventpay.ports import (
    ChargeKind,
    ConnectCharge,
    ConnectedAccount,
    TransferRecord,
    TransferReversalRecord,
    TransferStatus,
)


def _account(row: ConnectedAccountRow) -> ConnectedAccount:
    return ConnectedAccount(
        organizer_id=row.organizer_id,
        stripe_account_id=row.stripe_account_id,
        charges_enabled=row.charges_enabled,
        payouts_enabled=row.payouts_enabled,
        details_submitted=row.details_submitted,
        requirements_due=list(row.requirements_due),
        updated_at=row.updated_at,
        state_as_of=row.state_as_of,
    )


def _charge(row: ConnectChargeRow) -> ConnectCharge:
    return ConnectCharge(
        payment_id=row.payment_id,
        order_id=row.order_id,
        kind=ChargeKind(row.kind),
        currency=row.currency,
        created_at=row.created_at,
        organizer_id=row.organizer_id,
        destination=row.destination,
        application_fee=row.application_fee,
    )


def _transfer(row: ConnectTransferRow) -> TransferRecord:
    return TransferRecord(
        id=row.id,
        payment_id=row.payment_id,
        order_id=row.order_id,
        organizer_id=row.organizer_id,
        destination=row.destination,
        amount=row.amount,
        currency=row.currency,
        transfer_group=row.transfer_group,
        status=TransferStatus(row.status),
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_check_at=row.next_check_at,
        provider_transfer_id=row.provider_transfer_id,
        reversed_amount=row.reversed_amount,
        checks=row.checks,
        failure_reason=row.failure_reason,
    )


def _reversal(row: ConnectTransferReversalRow) -> TransferReversalRecord:
    return TransferReversalRecord(
        id=row.id,
        transfer_id=row.transfer_id,
        refund_id=row.refund_id,
        amount=row.amount,
        status=TransferStatus(row.status),
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
        next_check_at=row.next_check_at,
        provider_reversal_id=row.provider_reversal_id,
        failure_reason=row.failure_reason,
        checks=row.checks,
    )


class SqlConnectRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get_account(
        self, organizer_id: str, *, for_update: bool = False
    ) -> ConnectedAccount | None:
        query = select(ConnectedAccountRow).where(ConnectedAccountRow.organizer_id == organizer_id)
        row = self._s.scalar(query.with_for_update() if for_update else query)
        return None if row is None else _account(row)

    def by_stripe_account(
        self, account_id: str, *, for_update: bool = False
    ) -> ConnectedAccount | None:
        query = select(ConnectedAccountRow).where(
            ConnectedAccountRow.stripe_account_id == account_id
        )
        row = self._s.scalar(query.with_for_update() if for_update else query)
        return None if row is None else _account(row)

    def add_account(self, account: ConnectedAccount) -> None:
        self._s.add(
            ConnectedAccountRow(
                organizer_id=account.organizer_id,
                stripe_account_id=account.stripe_account_id,
                charges_enabled=account.charges_enabled,
                payouts_enabled=account.payouts_enabled,
                details_submitted=account.details_submitted,
                requirements_due=list(account.requirements_due),
                updated_at=account.updated_at,
                state_as_of=account.state_as_of,
            )
        )
        self._s.flush()

    def save_account(self, account: ConnectedAccount) -> None:
        row = self._s.get(ConnectedAccountRow, account.organizer_id)
        if row is None:
            raise LookupError(f"no connected account for {account.organizer_id}")
        row.charges_enabled = account.charges_enabled
        row.payouts_enabled = account.payouts_enabled
        row.details_submitted = account.details_submitted
        row.requirements_due = list(account.requirements_due)
        row.updated_at = account.updated_at
        row.state_as_of = account.state_as_of
        self._s.flush()

    def charge_enabled(self, organizer_ids: Sequence[str]) -> Mapping[str, str]:
        if not organizer_ids:
            return {}
        rows = self._s.execute(
            select(ConnectedAccountRow.organizer_id, ConnectedAccountRow.stripe_account_id)
            .where(ConnectedAccountRow.organizer_id.in_(list(organizer_ids)))
            .where(ConnectedAccountRow.charges_enabled.is_(True))
        )
        return {organizer: account for organizer, account in rows}

    def add_charge(self, charge: ConnectCharge) -> None:
        self._s.add(
            ConnectChargeRow(
                payment_id=charge.payment_id,
                order_id=charge.order_id,
                kind=charge.kind.value,
                currency=charge.currency,
                organizer_id=charge.organizer_id,
                destination=charge.destination,
                application_fee=charge.application_fee,
                created_at=charge.created_at,
            )
        )
        self._s.flush()

    def charge_for(self, payment_id: str) -> ConnectCharge | None:
        row = self._s.get(ConnectChargeRow, payment_id)
        return None if row is None else _charge(row)

    def destination_charges(self) -> Sequence[ConnectCharge]:
        rows = self._s.scalars(
            select(ConnectChargeRow)
            .join(PaymentRow, PaymentRow.id == ConnectChargeRow.payment_id)
            .where(ConnectChargeRow.kind == ChargeKind.DESTINATION.value)
            .where(PaymentRow.status == PaymentStatus.SUCCEEDED.value)
            .order_by(ConnectChargeRow.order_id, ConnectChargeRow.payment_id)
        )
        return [_charge(r) for r in rows]

    def add_transfer(self, transfer: TransferRecord) -> None:
        self._s.add(
            ConnectTransferRow(
                id=transfer.id,
                payment_id=transfer.payment_id,
                order_id=transfer.order_id,
                organizer_id=transfer.organizer_id,
                destination=transfer.destination,
                amount=transfer.amount,
                currency=transfer.currency,
                transfer_group=transfer.transfer_group,
                status=transfer.status.value,
                idempotency_key=transfer.idempotency_key,
                provider_transfer_id=transfer.provider_transfer_id,
                reversed_amount=transfer.reversed_amount,
                failure_reason=transfer.failure_reason,
                created_at=transfer.created_at,
                updated_at=transfer.updated_at,
                next_check_at=transfer.next_check_at,
                checks=transfer.checks,
            )
        )
        self._s.flush()

    def transfers_for_payment(
        self, payment_id: str, *, for_update: bool = False
    ) -> Sequence[TransferRecord]:
        query = (
            select(ConnectTransferRow)
            .where(ConnectTransferRow.payment_id == payment_id)
            .order_by(ConnectTransferRow.organizer_id)
        )
        return [
            _transfer(r) for r in self._s.scalars(query.with_for_update() if for_update else query)
        ]

    def get_transfer(self, transfer_id: str, *, for_update: bool = False) -> TransferRecord | None:
        query = select(ConnectTransferRow).where(ConnectTransferRow.id == transfer_id)
        row = self._s.scalar(query.with_for_update() if for_update else query)
        return None if row is None else _transfer(row)

    def due_transfers(self, *, now: datetime, limit: int) -> Sequence[TransferRecord]:
        rows = self._s.scalars(
            select(ConnectTransferRow)
            .where(ConnectTransferRow.status == TransferStatus.PENDING.value)
            .where(ConnectTransferRow.next_check_at <= now)
            # An admin's hold on an organizer's payouts holds their transfers too.
            .where(
                ~exists().where(
                    OrganizerRow.id == ConnectTransferRow.organizer_id,
                    OrganizerRow.payouts_on_hold.is_(True),
                )
            )
            .order_by(ConnectTransferRow.next_check_at, ConnectTransferRow.id)
            .limit(limit)
        )
        return [_transfer(r) for r in rows]

    def unsent_transfers(self, organizer_id: str) -> Mapping[tuple[TransferStatus, str], int]:
        t = ConnectTransferRow
        unsent = (TransferStatus.PENDING.value, TransferStatus.FAILED.value)
        rows = self._s.execute(
            select(t.status, t.currency, func.sum(t.amount))
            .where(t.organizer_id == organizer_id, t.status.in_(unsent))
            .group_by(t.status, t.currency)
        )
        return {(TransferStatus(status), currency): int(total) for status, currency, total in rows}

    def save_transfer(self, transfer: TransferRecord) -> None:
        row = self._s.get(ConnectTransferRow, transfer.id)
        if row is None:
            raise LookupError(f"transfer {transfer.id} does not exist")
        row.amount = transfer.amount
        row.status = transfer.status.value
        row.provider_transfer_id = transfer.provider_transfer_id
        row.reversed_amount = transfer.reversed_amount
        row.failure_reason = transfer.failure_reason
        row.updated_at = transfer.updated_at
        row.next_check_at = transfer.next_check_at
        row.checks = transfer.checks
        self._s.flush()

    def sent_transfers(self) -> Sequence[TransferRecord]:
        rows = self._s.scalars(
            select(ConnectTransferRow)
            .where(ConnectTransferRow.status == TransferStatus.SENT.value)
            .order_by(ConnectTransferRow.order_id, ConnectTransferRow.id)
        )
        return [_transfer(r) for r in rows]

    def add_reversal(self, reversal: TransferReversalRecord) -> None:
        self._s.add(
            ConnectTransferReversalRow(
                id=reversal.id,
                transfer_id=reversal.transfer_id,
                refund_id=reversal.refund_id,
                amount=reversal.amount,
                status=reversal.status.value,
                idempotency_key=reversal.idempotency_key,
                provider_reversal_id=reversal.provider_reversal_id,
                failure_reason=reversal.failure_reason,
                created_at=reversal.created_at,
                updated_at=reversal.updated_at,
                next_check_at=reversal.next_check_at,
                checks=reversal.checks,
            )
        )
        self._s.flush()

    def reversals_for_transfer(self, transfer_id: str) -> Sequence[TransferReversalRecord]:
        rows = self._s.scalars(
            select(ConnectTransferReversalRow)
            .where(ConnectTransferReversalRow.transfer_id == transfer_id)
            .order_by(ConnectTransferReversalRow.created_at, ConnectTransferReversalRow.id)
        )
        return [_reversal(r) for r in rows]

    def get_reversal(
        self, reversal_id: str, *, for_update: bool = False
    ) -> TransferReversalRecord | None:
        query = select(ConnectTransferReversalRow).where(
            ConnectTransferReversalRow.id == reversal_id
        )
        row = self._s.scalar(query.with_for_update() if for_update else query)
        return None if row is None else _reversal(row)

    def due_reversals(self, *, now: datetime, limit: int) -> Sequence[TransferReversalRecord]:
        rows = self._s.scalars(
            select(ConnectTransferReversalRow)
            .join(
                ConnectTransferRow,
                ConnectTransferRow.id == ConnectTransferReversalRow.transfer_id,
            )
            .where(ConnectTransferReversalRow.status == TransferStatus.PENDING.value)
            .where(ConnectTransferReversalRow.next_check_at <= now)
            .where(ConnectTransferRow.status == TransferStatus.SENT.value)
            .order_by(ConnectTransferReversalRow.next_check_at, ConnectTransferReversalRow.id)
            .limit(limit)
        )
        return [_reversal(r) for r in rows]

    def save_reversal(self, reversal: TransferReversalRecord) -> None:
        row = self._s.get(ConnectTransferReversalRow, reversal.id)
        if row is None:
            raise LookupError(f"transfer reversal {reversal.id} does not exist")
        row.status = reversal.status.value
        row.provider_reversal_id = reversal.provider_reversal_id
        row.failure_reason = reversal.failure_reason
        row.updated_at = reversal.updated_at
        row.next_check_at = reversal.next_check_at
        row.checks = reversal.checks
        self._s.flush()

    def sent_reversals(self) -> Sequence[TransferReversalRecord]:
        rows = self._s.scalars(
            select(ConnectTransferReversalRow)
            .where(ConnectTransferReversalRow.status == TransferStatus.SENT.value)
            .order_by(ConnectTransferReversalRow.transfer_id, ConnectTransferReversalRow.id)
        )
        return [_reversal(r) for r in rows]

    def transfer_amounts(self, causes: Sequence[str]) -> Mapping[str, int]:
        if not causes:
            return {}
        rows = self._s.execute(
            select(LedgerTransactionRow.cause, func.sum(LedgerPostingRow.amount))
            .join(LedgerPostingRow, LedgerPostingRow.transaction_id == LedgerTransactionRow.id)
            .where(LedgerTransactionRow.cause.in_(list(causes)))
            .where(LedgerPostingRow.kind == AccountKind.ORGANIZER_PAYABLE.value)
            .group_by(LedgerTransactionRow.cause)
        )
        return {cause: int(total) for cause, total in rows}
