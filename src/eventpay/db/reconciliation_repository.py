"""Reconciliation runs and their mismatches: written once per run, read back latest first.

For a whole period at once (a provider's report of a million movements) the comparison runs in
the database: `stage_theirs` copies the provider's rows into a temporary table (PostgreSQL's
COPY, batched inserts on SQLite), and `disagreements` joins them with our payments and refunds
and the provider fees the ledger booked, returning only the movements of either side that do
not agree exactly. Those few become `Movement`s for `domain.reconciliation.compare`, which
decides what each difference is; pairs that agree exactly could only ever compare clean.

The money that left for organizers is read as `Movement`s directly (`organizer_movements`,
`destination_movements`): transfers and payouts are few next to charges, and are compared in
memory by `services.reconciliation` whichever way the charges are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import islice

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from eventpay.db.ids import uuid7
from eventpay.db.models import ReconciliationMismatchRow, ReconciliationRunRow
from eventpay.domain import AccountKind, Money, PaymentStatus, RefundStatus
from eventpay.domain.payouts import PayoutStatus
from eventpay.domain.reconciliation import (
    RETURN_SUFFIX,
    Mismatch,
    MismatchKind,
    Movement,
    MovementRow,
)
from eventpay.ports import ProviderName, ReconciliationRun
from eventpay.ports.connect import ChargeKind, TransferStatus

_BATCH = 10_000
_IN_CHUNK = 500
_MONEY_LEFT = (PayoutStatus.UNCLAIMED, PayoutStatus.PAID, PayoutStatus.RETURNED)
_PROGRESS_EVERY = 100_000


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
        # Core inserts in batches: a run can hold tens of thousands of mismatches, and ORM
        # objects for each cost a second and a hundred megabytes per 50,000.
        rows = (
            {
                "id": str(uuid7()),
                "run_id": run.id,
                "position": position,
                "kind": m.kind.value,
                "ref": m.ref,
                "our_id": m.our_id,
                "ours": None if m.ours is None else m.ours.amount,
                "theirs": None if m.theirs is None else m.theirs.amount,
                "currency": _currency(m),
                "detail": m.detail[:500],
            }
            for position, m in enumerate(run.mismatches)
        )
        if self._s.get_bind().dialect.name == "postgresql":
            cursor = self._s.connection().connection.cursor()
            with cursor.copy(
                "COPY reconciliation_mismatches (id, run_id, position, kind, ref, our_id, ours,"
                " theirs, currency, detail) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(tuple(row.values()))
            return
        while batch := list(islice(rows, _BATCH)):
            self._s.execute(insert(ReconciliationMismatchRow), batch)

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

    def stage_theirs(
        self, rows: Iterable[MovementRow], *, progress: Callable[[int], None] | None = None
    ) -> int:
        pg = self._s.get_bind().dialect.name == "postgresql"
        self._s.execute(text("DROP TABLE IF EXISTS reconcile_theirs"))
        self._s.execute(
            text(
                "CREATE TEMPORARY TABLE reconcile_theirs (seq BIGINT NOT NULL,"
                " ref VARCHAR(255) NOT NULL, kind VARCHAR(16) NOT NULL,"
                " currency VARCHAR(3) NOT NULL, amount BIGINT NOT NULL, fee BIGINT)"
                + (" ON COMMIT DROP" if pg else "")
            )
        )
        count = 0
        if pg:
            cursor = self._s.connection().connection.cursor()
            with cursor.copy(
                "COPY reconcile_theirs (seq, ref, kind, currency, amount, fee) FROM STDIN"
            ) as copy:
                for row in rows:
                    count += 1
                    copy.write_row((count, *row))
                    if progress is not None and count % _PROGRESS_EVERY == 0:
                        progress(count)
        else:
            insert = text(
                "INSERT INTO reconcile_theirs (seq, ref, kind, currency, amount, fee)"
                " VALUES (:seq, :ref, :kind, :currency, :amount, :fee)"
            )
            batch: list[dict[str, object]] = []
            for ref, kind, currency, amount, fee in rows:
                count += 1
                batch.append(
                    {
                        "seq": count,
                        "ref": ref,
                        "kind": kind,
                        "currency": currency,
                        "amount": amount,
                        "fee": fee,
                    }
                )
                if len(batch) >= _BATCH:
                    self._s.execute(insert, batch)
                    batch = []
                if progress is not None and count % _PROGRESS_EVERY == 0:
                    progress(count)
            if batch:
                self._s.execute(insert, batch)
        if pg:
            self._s.execute(text("ANALYZE reconcile_theirs"))
        return count

    def stage_ours(self, *, provider: ProviderName, since: datetime) -> None:
        pg = self._tune()
        self._s.execute(text("DROP TABLE IF EXISTS reconcile_ours"))
        self._s.execute(
            text(
                "CREATE TEMPORARY TABLE reconcile_ours (ref VARCHAR(255) NOT NULL,"
                " kind VARCHAR(16) NOT NULL, currency VARCHAR(3) NOT NULL,"
                " amount BIGINT NOT NULL, fee BIGINT, our_id VARCHAR(64) NOT NULL)"
                + (" ON COMMIT DROP" if pg else "")
            )
        )
        self._s.execute(text(_OURS_IN_PERIOD), _params(provider, since))

    def disagreements(
        self, *, provider: ProviderName, since: datetime
    ) -> tuple[int, Sequence[Movement], Sequence[Movement]]:
        pg = self._tune()
        params = _params(provider, since)
        self._s.execute(text(_OURS_OLDER), params)
        if pg:
            self._s.execute(text("ANALYZE reconcile_ours"))
        ours_count = int(self._s.execute(text(_OURS_COUNT)).scalar_one())
        ours: list[Movement] = []
        theirs: list[Movement] = []
        for row in self._s.execute(text(_DISAGREEING)):
            o_ref, o_kind, o_cur, o_amount, o_fee, our_id, t_ref, t_kind, t_cur, t_amount, t_fee = (
                row
            )
            if o_ref is not None:
                fee = None if o_fee is None else _shared(int(o_fee), o_cur)
                amount = _shared(int(o_amount), o_cur)
                ours.append(Movement(o_ref, o_kind, amount, fee, our_id))
            if t_ref is not None:
                fee = None if t_fee is None else _shared(int(t_fee), t_cur)
                theirs.append(Movement(t_ref, t_kind, _shared(int(t_amount), t_cur), fee))
        return ours_count, ours, theirs

    def organizer_movements(
        self, *, provider: ProviderName, since: datetime, refs: Iterable[str]
    ) -> list[Movement]:
        """Our transfers, reversals, payouts and payout returns of `provider` created since
        `since`, and older ones whose reference is among `refs` (the provider listed them)."""
        union = _ORGANIZER_SQL.get(provider.value)
        if union is None:
            return []
        params: dict[str, object] = {
            "provider": provider.value,
            "sent": TransferStatus.SENT.value,
            "paid": PayoutStatus.PAID.value,
            "returned": PayoutStatus.RETURNED.value,
            "left": [s.value for s in _MONEY_LEFT],
            "since": since,
            "return_suffix": RETURN_SUFFIX,
        }
        found = self._organizer_rows(union + " WHERE o.created_at >= :since", params, {})
        wanted = sorted(set(refs) - found.keys())
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            found.update(
                self._organizer_rows(
                    union + " WHERE o.created_at < :since AND o.ref IN :refs",
                    params,
                    {"refs": chunk},
                )
            )
        return list(found.values())

    def _organizer_rows(
        self, sql: str, params: dict[str, object], listed: dict[str, list[str]]
    ) -> dict[str, Movement]:
        expanding = [*listed, *(["left"] if ":left" in sql else [])]
        statement = text(sql).bindparams(*(bindparam(name, expanding=True) for name in expanding))
        rows = self._s.execute(statement, {**params, **listed})
        return {
            ref: Movement(
                ref=ref,
                kind=kind,
                amount=Money(int(amount), currency),
                fee=None if fee is None else Money(int(fee), currency),
                our_id=our_id,
            )
            for ref, kind, currency, amount, fee, our_id, _ in rows
        }

    def destination_movements(
        self, *, since: datetime, links: Iterable[str]
    ) -> list[tuple[str, Movement]]:
        """What Stripe moves for our destination charges by itself, each with the link its
        transfer or reversal names: a succeeded destination charge's transfer (the whole
        charge, out, with the application fee we asked for as its fee; by its charge id) and a
        succeeded refund's reversal of it (the refunded amount, back; by the refund's id).
        Those created since `since`, and older ones whose link is among `links`."""
        params: dict[str, object] = {
            "destination": ChargeKind.DESTINATION.value,
            "stripe": ProviderName.STRIPE.value,
            "paid": PaymentStatus.SUCCEEDED.value,
            "refunded": RefundStatus.SUCCEEDED.value,
            "since": since,
        }
        found = self._destination_rows(_DESTINATION + " WHERE o.created_at >= :since", params)
        wanted = sorted(set(links) - {link for link, _ in found})
        for start in range(0, len(wanted), _IN_CHUNK):
            found.extend(
                self._destination_rows(
                    _DESTINATION + " WHERE o.created_at < :since AND o.link IN :links",
                    {**params, "links": wanted[start : start + _IN_CHUNK]},
                )
            )
        return found

    def _destination_rows(self, sql: str, params: dict[str, object]) -> list[tuple[str, Movement]]:
        statement = text(sql)
        if "links" in params:
            statement = statement.bindparams(bindparam("links", expanding=True))
        return [
            (
                link,
                Movement(
                    link,
                    kind,
                    Money(int(amount), currency),
                    None if fee is None else Money(int(fee), currency),
                    our_id,
                ),
            )
            for link, kind, currency, amount, fee, our_id, _ in self._s.execute(statement, params)
        ]

    def _tune(self) -> bool:
        pg = self._s.get_bind().dialect.name == "postgresql"
        if pg:
            self._s.execute(text("SET LOCAL jit = off"))
            self._s.execute(text("SET LOCAL work_mem = '128MB'"))
        return pg


@lru_cache(maxsize=65_536)
def _shared(amount: int, currency: str) -> Money:
    """`Money` is immutable, and tens of thousands of mismatches repeat a few amounts."""
    return Money(amount, currency)


def _params(provider: ProviderName, since: datetime) -> dict[str, object]:
    return {
        "provider": provider.value,
        "since": since,
        "paid": PaymentStatus.SUCCEEDED.value,
        "refunded": RefundStatus.SUCCEEDED.value,
        "fee_kind": AccountKind.PROVIDER_FEE_EXPENSE.value,
        # A payment's fee is booked as `payment:<id>:fee` (`settlement.ledger.fee_cause`).
        "fee_causes": "payment:%:fee",
        "cause_head": "payment:",
        "cause_tail": ":fee",
        # A sponsor invoice payment's fee: `sponsorship:<provider>:<payment ref>:fee`.
        "sponsor_fee_causes": f"sponsorship:{provider.value}:%:fee",
        "sponsor_head": f"sponsorship:{provider.value}:",
        # A payment the merchant recorded on the invoice (cash, cheque) never went through the
        # provider, which does not list it (services.reconciliation.recorded_elsewhere).
        "recorded_elsewhere": _RECORDED_ELSEWHERE.get(provider.value, ""),
    }


# PayPal names the payments the merchant records on an invoice `EXTR-...`.
_RECORDED_ELSEWHERE = {ProviderName.PAYPAL.value: "EXTR-%"}


# Our side as `services.reconciliation` builds it one record at a time: the provider's
# succeeded payments with a capture (counted amount; the fee is what the ledger booked as the
# provider's fee expense for that payment, `payment:<id>:fee`, none when it booked nothing),
# succeeded refunds with the provider's id (negative), and the charges that paid membership
# invoices (`membership_charges`, their fee not booked: not compared) and the payments sponsor
# invoices received (`sponsorship_payments`, by the provider's id: on Stripe the charge; their
# fee as booked, `sponsorship:<provider>:<ref>:fee`; not those the merchant recorded, which
# never went through the provider), created since `since`
# (`stage_ours`, while the provider is still writing its report), then older ones a staged row
# of their kind names (`disagreements`).
_OURS_IN_PERIOD = """
INSERT INTO reconcile_ours (ref, kind, currency, amount, fee, our_id)
WITH fees AS (
    -- One fee transaction per payment, with one expense posting: no grouping needed.
    SELECT t.cause, l.amount AS fee
    FROM ledger_transactions t JOIN ledger_postings l ON l.transaction_id = t.id
    WHERE t.kind = 'provider_fee' AND l.kind = :fee_kind
        AND (t.cause LIKE :fee_causes OR t.cause LIKE :sponsor_fee_causes)
        AND l.owner = :provider
)
SELECT p.capture_id, 'payment', p.currency,
    CASE WHEN p.amount_received IS NULL THEN p.amount ELSE p.amount_received END, f.fee, p.id
FROM payments p LEFT JOIN fees f ON f.cause = :cause_head || p.id || :cause_tail
WHERE p.provider = :provider AND p.status = :paid AND p.capture_id IS NOT NULL
    AND p.created_at >= :since
UNION ALL
SELECT r.provider_refund_id, 'refund', r.currency, -r.amount, NULL, r.id
FROM refunds r
WHERE r.provider = :provider AND r.status = :refunded AND r.provider_refund_id IS NOT NULL
    AND r.created_at >= :since
UNION ALL
SELECT m.ref, 'payment', m.currency, m.amount, NULL, m.id
FROM membership_charges m
WHERE m.provider = :provider AND m.created_at >= :since
UNION ALL
SELECT s.payment_ref, 'payment', s.currency, s.amount, f.fee, s.sponsorship_id
FROM sponsorship_payments s
    LEFT JOIN fees f ON f.cause = :sponsor_head || s.payment_ref || :cause_tail
WHERE s.provider = :provider AND s.received_at >= :since
    AND s.payment_ref NOT LIKE :recorded_elsewhere
"""

_OURS_OLDER = """
INSERT INTO reconcile_ours (ref, kind, currency, amount, fee, our_id)
SELECT p.capture_id, 'payment', p.currency,
    CASE WHEN p.amount_received IS NULL THEN p.amount ELSE p.amount_received END,
    (SELECT SUM(l.amount) FROM ledger_transactions t
        JOIN ledger_postings l ON l.transaction_id = t.id
        WHERE t.cause = :cause_head || p.id || :cause_tail AND l.kind = :fee_kind
            AND l.owner = :provider),
    p.id
FROM payments p
WHERE p.provider = :provider AND p.status = :paid AND p.created_at < :since
    AND p.capture_id IN (SELECT ref FROM reconcile_theirs WHERE kind = 'payment')
    AND p.capture_id NOT IN (SELECT ref FROM reconcile_ours)
UNION ALL
SELECT r.provider_refund_id, 'refund', r.currency, -r.amount, NULL, r.id
FROM refunds r
WHERE r.provider = :provider AND r.status = :refunded AND r.created_at < :since
    AND r.provider_refund_id IN (SELECT ref FROM reconcile_theirs WHERE kind = 'refund')
    AND r.provider_refund_id NOT IN (SELECT ref FROM reconcile_ours)
UNION ALL
SELECT m.ref, 'payment', m.currency, m.amount, NULL, m.id
FROM membership_charges m
WHERE m.provider = :provider AND m.created_at < :since
    AND m.ref IN (SELECT ref FROM reconcile_theirs WHERE kind = 'payment')
    AND m.ref NOT IN (SELECT ref FROM reconcile_ours)
UNION ALL
SELECT s.payment_ref, 'payment', s.currency, s.amount,
    (SELECT SUM(l.amount) FROM ledger_transactions t
        JOIN ledger_postings l ON l.transaction_id = t.id
        WHERE t.cause = :sponsor_head || s.payment_ref || :cause_tail AND l.kind = :fee_kind
            AND l.owner = :provider),
    s.sponsorship_id
FROM sponsorship_payments s
WHERE s.provider = :provider AND s.received_at < :since
    AND s.payment_ref IN (SELECT ref FROM reconcile_theirs WHERE kind = 'payment')
    AND s.payment_ref NOT IN (SELECT ref FROM reconcile_ours)
"""

_OURS_COUNT = "SELECT COUNT(*) FROM (SELECT ref FROM reconcile_ours GROUP BY ref) AS refs"

# The pairs that do not agree exactly; theirs is the last staged row of each ref.
_DISAGREEING = """
WITH theirs AS (
    SELECT t.ref, t.kind, t.currency, t.amount, t.fee FROM reconcile_theirs t
    WHERE NOT EXISTS (SELECT 1 FROM reconcile_theirs later WHERE later.ref = t.ref
        AND later.seq > t.seq)
)
SELECT o.ref, o.kind, o.currency, o.amount, o.fee, o.our_id,
    t.ref, t.kind, t.currency, t.amount, t.fee
FROM reconcile_ours o FULL OUTER JOIN theirs t ON t.ref = o.ref
WHERE o.ref IS NULL OR t.ref IS NULL OR o.currency <> t.currency OR o.amount <> t.amount
    OR (o.fee IS NOT NULL AND t.fee IS NOT NULL AND o.fee <> t.fee)
"""


# The money that left for organizers, as `domain.reconciliation` keys it (one select per
# provider, filtered by the caller on `o.created_at` or `o.ref`). Stripe: separate charges'
# transfers and their reversals once sent, and payout runs' transfers once paid (a refused one
# is `refused:<id>`, never paid). PayPal: payout items whose money left (unclaimed, paid,
# returned) with the fee PayPal charged when known, and for a returned one the money back,
# keyed by its payout (`return_ref`). Destination charges' transfers are not here: we do not
# store Stripe's id of them (`destination_movements`, `domain.reconciliation.linked`).
_STRIPE_ORGANIZER = """
SELECT o.ref, o.kind, o.currency, o.amount, o.fee, o.our_id, o.created_at FROM (
    SELECT t.provider_transfer_id AS ref, 'transfer' AS kind, t.currency AS currency,
        -t.amount AS amount, CAST(NULL AS BIGINT) AS fee, t.id AS our_id,
        t.created_at AS created_at
    FROM connect_transfers t
    WHERE t.status = :sent AND t.provider_transfer_id IS NOT NULL
    UNION ALL
    SELECT r.provider_reversal_id, 'transfer_reversal', t.currency, r.amount, NULL, r.id,
        r.created_at
    FROM connect_transfer_reversals r JOIN connect_transfers t ON t.id = r.transfer_id
    WHERE r.status = :sent AND r.provider_reversal_id IS NOT NULL
    UNION ALL
    SELECT p.provider_item_id, 'transfer', p.currency, -p.amount, NULL, p.id, p.created_at
    FROM payouts p
    WHERE p.provider = :provider AND p.status = :paid AND p.provider_item_id IS NOT NULL
) AS o"""

_PAYPAL_ORGANIZER = """
SELECT o.ref, o.kind, o.currency, o.amount, o.fee, o.our_id, o.created_at FROM (
    SELECT p.transaction_id AS ref, 'payout' AS kind, p.currency AS currency,
        -p.amount AS amount, p.fee AS fee, p.id AS our_id, p.created_at AS created_at
    FROM payouts p
    WHERE p.provider = :provider AND p.transaction_id IS NOT NULL AND p.status IN :left
    UNION ALL
    SELECT p.transaction_id || :return_suffix, 'payout_return', p.currency, p.amount, NULL, p.id,
        p.created_at
    FROM payouts p
    WHERE p.provider = :provider AND p.transaction_id IS NOT NULL AND p.status = :returned
) AS o"""

_ORGANIZER_SQL = {
    ProviderName.STRIPE.value: _STRIPE_ORGANIZER,
    ProviderName.PAYPAL.value: _PAYPAL_ORGANIZER,
}

_DESTINATION = """
SELECT o.link, o.kind, o.currency, o.amount, o.fee, o.our_id, o.created_at FROM (
    SELECT p.capture_id AS link, 'transfer' AS kind, p.currency AS currency,
        -(CASE WHEN p.amount_received IS NULL THEN p.amount ELSE p.amount_received END)
            AS amount,
        c.application_fee AS fee, p.id AS our_id, p.created_at AS created_at
    FROM payments p JOIN connect_charges c ON c.payment_id = p.id
    WHERE c.kind = :destination AND p.provider = :stripe AND p.status = :paid
        AND p.capture_id IS NOT NULL
    UNION ALL
    SELECT r.provider_refund_id, 'transfer_reversal', r.currency, r.amount, NULL, r.id,
        r.created_at
    FROM refunds r JOIN connect_charges c ON c.payment_id = r.payment_id
    WHERE c.kind = :destination AND r.provider = :stripe AND r.status = :refunded
        AND r.provider_refund_id IS NOT NULL
) AS o"""
