"""Reconciliation runs and their mismatches: written once per run, read back latest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventpay.db.ids import uuid7
from eventpay.db.models import ReconciliationMismatchRow, ReconciliationRunRow
from eventpay.domain import Money
from eventpay.domain.reconciliation import Mismatch, MismatchKind
from eventpay.ports import ProviderName, ReconciliationRun


def _money(amount: int | None, currency: str | None) -> Money | None:
    return None if amount is None or currency is None else Money(amount, currency)


def _currency(mismatch: Mismatch) -> str | None:
    either = mismatch.ours if mismatch.ours is not None else mismatch.theirs
    return None if either is None else either.currency


class SqlReconciliationRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, run: ReconciliationRun) -> None:
        self._s.add(
            ReconciliationRunRow(
                id=run.id,
                provider=run.provider.value,
                since=run.since,
                until=run.until,
                finished_at=run.finished_at,
                ours=run.ours,
                theirs=run.theirs,
                mismatches=len(run.mismatches),
            )
        )
        self._s.flush()
        self._s.add_all(
            ReconciliationMismatchRow(
                id=str(uuid7()),
                run_id=run.id,
                position=position,
                kind=m.kind.value,
                ref=m.ref,
                our_id=m.our_id,
                ours=None if m.ours is None else m.ours.amount,
                theirs=None if m.theirs is None else m.theirs.amount,
                currency=_currency(m),
                detail=m.detail[:500],
            )
            for position, m in enumerate(run.mismatches)
        )
        self._s.flush()

    def latest(self, provider: ProviderName) -> ReconciliationRun | None:
        row = self._s.scalar(
            select(ReconciliationRunRow)
            .where(ReconciliationRunRow.provider == provider.value)
            .order_by(ReconciliationRunRow.finished_at.desc(), ReconciliationRunRow.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        found = self._s.scalars(
            select(ReconciliationMismatchRow)
            .where(ReconciliationMismatchRow.run_id == row.id)
            .order_by(ReconciliationMismatchRow.position)
        )
        return ReconciliationRun(
            id=row.id,
            provider=ProviderName(row.provider),
            since=row.since,
            until=row.until,
            finished_at=row.finished_at,
            ours=row.ours,
            theirs=row.theirs,
            mismatches=[
                Mismatch(
                    kind=MismatchKind(m.kind),
                    ref=m.ref,
                    ours=_money(m.ours, m.currency),
                    theirs=_money(m.theirs, m.currency),
                    our_id=m.our_id,
                    detail=m.detail,
                )
                for m in found
            ],
        )
