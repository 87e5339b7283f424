"""The ledger's tables: insert-only transactions keyed by cause, postings, and their sums.

Nothing here updates or deletes a posting (the database refuses both, migration 0007). `post`
inserts the transaction with ON CONFLICT (cause) DO NOTHING, so the second attempt to post a
cause, whoever makes it, stores nothing and says so. Balances are sums computed by the database.
An order's postings are also added to its running sums (`ledger_order_sums`, an upsert per
account) in the same unit of work, for `ledger verify`; a transaction without an order adds to
none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eventpay.db.ids import uuid7
from eventpay.db.ledger_sums_models import LedgerOrderSumRow
from eventpay.db.models import LedgerPostingRow, LedgerTransactionRow
from eventpay.domain.ledger import (
    Account,
    AccountKind,
    LedgerTransaction,
    Posting,
    StatementEntry,
)


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _account(kind: str, owner: str, currency: str) -> Account:
    return Account(AccountKind(kind), owner, currency)


class SqlLedgerRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def post(self, transaction: LedgerTransaction, *, at: datetime) -> bool:
        transaction_id = str(uuid7())
        stmt = (
            _insert(self._s, LedgerTransactionRow)
            .values(
                id=transaction_id,
                cause=transaction.cause,
                kind=transaction.kind,
                order_id=transaction.order_id,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["cause"])
            .returning(LedgerTransactionRow.id)
        )
        if self._s.execute(stmt).first() is None:
            return False
        self._s.add_all(
            LedgerPostingRow(
                id=str(uuid7()),
                transaction_id=transaction_id,
                kind=p.account.kind.value,
                owner=p.account.owner,
                currency=p.account.currency,
                amount=p.amount,
                order_id=transaction.order_id,
            )
            for p in transaction.postings
        )
        self._s.flush()
        if transaction.order_id is not None:
            self._add_to_sums(transaction.order_id, transaction.postings)
        return True

    def _add_to_sums(self, order_id: str, postings: Sequence[Posting]) -> None:
        by_account: dict[Account, int] = defaultdict(int)
        for p in postings:
            by_account[p.account] += p.amount
        stmt = _insert(self._s, LedgerOrderSumRow).values(
            [
                {
                    "order_id": order_id,
                    "kind": account.kind.value,
                    "owner": account.owner,
                    "currency": account.currency,
                    "amount": amount,
                }
                for account, amount in sorted(by_account.items())
            ]
        )
        self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["order_id", "kind", "owner", "currency"],
                set_={"amount": LedgerOrderSumRow.amount + stmt.excluded.amount},
            )
        )

    def has_order(self, order_id: str) -> bool:
        found = self._s.scalar(
            select(LedgerTransactionRow.id).where(LedgerTransactionRow.order_id == order_id)
        )
        return found is not None

    def postings_for_order(self, order_id: str) -> Sequence[Posting]:
        rows = self._s.execute(
            select(
                LedgerPostingRow.kind,
                LedgerPostingRow.owner,
                LedgerPostingRow.currency,
                LedgerPostingRow.amount,
            )
            .where(LedgerPostingRow.order_id == order_id)
            .order_by(LedgerPostingRow.id)
        )
        return [Posting(_account(k, o, c), int(a)) for k, o, c, a in rows]

    def postings_for_cause(self, cause: str) -> Sequence[Posting]:
        p, t = LedgerPostingRow, LedgerTransactionRow
        rows = self._s.execute(
            select(p.kind, p.owner, p.currency, p.amount)
            .join(t, t.id == p.transaction_id)
            .where(t.cause == cause)
            .order_by(p.id)
        )
        return [Posting(_account(k, o, c), int(a)) for k, o, c, a in rows]

    def balances(
        self, *, kind: AccountKind | None = None, owner: str | None = None
    ) -> Mapping[Account, int]:
        p = LedgerPostingRow
        stmt = select(p.kind, p.owner, p.currency, func.sum(p.amount)).group_by(
            p.kind, p.owner, p.currency
        )
        if kind is not None:
            stmt = stmt.where(p.kind == kind.value)
        if owner is not None:
            stmt = stmt.where(p.owner == owner)
        return {_account(k, o, c): int(total) for k, o, c, total in self._s.execute(stmt)}

    def unbalanced(self) -> Sequence[tuple[str, str, int]]:
        t, p = LedgerTransactionRow, LedgerPostingRow
        total = func.sum(p.amount)
        stmt = (
            select(t.cause, p.currency, total)
            .join(p, p.transaction_id == t.id)
            .group_by(t.id, t.cause, p.currency)
            .having(total != 0)
            .order_by(t.cause)
        )
        return [(cause, currency, int(s)) for cause, currency, s in self._s.execute(stmt)]

    def order_ids(self) -> Sequence[str]:
        stmt = (
            select(LedgerTransactionRow.order_id)
            .where(LedgerTransactionRow.order_id.is_not(None))
            .distinct()
            .order_by(LedgerTransactionRow.order_id)
        )
        return [str(order_id) for order_id in self._s.scalars(stmt)]

    def statement(
        self, *, organizer_id: str, since: datetime, until: datetime
    ) -> Sequence[StatementEntry]:
        t, p = LedgerTransactionRow, LedgerPostingRow
        mine = and_(p.kind == AccountKind.ORGANIZER_PAYABLE.value, p.owner == organizer_id)
        payable = func.sum(case((mine, -p.amount), else_=0))
        fee = func.sum(case((p.kind == AccountKind.PLATFORM_FEE_REVENUE.value, -p.amount), else_=0))
        stmt = (
            select(t.created_at, t.cause, t.kind, t.order_id, p.currency, payable, fee)
            .join(p, p.transaction_id == t.id)
            .where(t.created_at >= since, t.created_at < until)
            .group_by(t.id, t.created_at, t.cause, t.kind, t.order_id, p.currency)
            .having(func.sum(case((mine, 1), else_=0)) > 0)
            .order_by(t.created_at, t.id)
        )
        return [
            StatementEntry(
                at=at,
                cause=cause,
                kind=kind,
                order_id=order_id,
                currency=currency,
                payable=int(owed),
                platform_fee=int(fees),
            )
            for at, cause, kind, order_id, currency, owed, fees in self._s.execute(stmt)
        ]

    def payable_before(self, *, organizer_id: str, at: datetime) -> Mapping[str, int]:
        t, p = LedgerTransactionRow, LedgerPostingRow
        stmt = (
            select(p.currency, func.sum(-p.amount))
            .join(t, p.transaction_id == t.id)
            .where(p.kind == AccountKind.ORGANIZER_PAYABLE.value, p.owner == organizer_id)
            .where(t.created_at < at)
            .group_by(p.currency)
        )
        return {currency: int(total) for currency, total in self._s.execute(stmt)}
