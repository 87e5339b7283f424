"""Set-based reads for `eventpay ledger verify`: the whole ledger in a few grouped queries.

Checking the books order by order costs several queries per order, millions at a million
payments. Here the orders are scanned by id in chunks (keyset: `id > after ... LIMIT n`), and
each chunk is read with one statement: the lines' organizers, the succeeded payments and
refunds per provider, the posting sums per account and whether any transaction names the
order, each grouped by order in the database over the chunk's id range (which the `order_id`
indexes serve) and joined to the chunk's orders. Two more statements check every
transaction's balance and find postings of missing orders. Memory is bounded by the chunk.
Nothing here decides whether the books are right: that is `domain.order_discrepancy`, applied
by `services.books`.

Every part of a chunk filters on the same range of `order_id`, so the database's own string
order defines the chunks and no row can fall between two of them.

On PostgreSQL a million payments are checked faster than chunks can read them, in three moves:

- Checksums first. One pass over the postings sums `amount * hash(transaction, currency)`:
  zero whenever every transaction balances, and nonzero (but for a 1 in 2^32 coincidence) when
  one does not; only then is the exact grouping by transaction run. The same pass sums
  `amount * hash(order, account)`, which must equal that sum over the running sums
  (`ledger_order_sums`, kept by `post`): then the running sums are the postings' sums, and are
  read instead of grouping every posting by order and account.
- Orders grouped by their figures (`order_classes`): each order's rows (the order, its lines,
  succeeded payments and refunds, running sums) are hashed and the hashes summed per order in
  one aggregate; orders with the same sum have the same rows (but for a 1 in 2^64 coincidence)
  and so the same verdict. Only one order per class is read in full (`books_of`, from the
  postings themselves) and judged by the domain's rule; the orders of a class found wrong are
  then each read and judged.
- When the running sums do not match the postings (a hand edit, a bad import), the checks fall
  back to reading chunks from the postings: same answers, at the old speed.

All of it in one REPEATABLE READ transaction (`snapshot`), so the parts agree with each other.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from functools import cache, lru_cache

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from eventpay.db.models import LedgerPostingRow, LedgerTransactionRow, OrderRow
from eventpay.domain import PaymentStatus, RefundStatus
from eventpay.ports.repositories import BooksClass, OrderBooks, OrderClasses

_BY_IDS = 5_000  # order ids per statement of `books_of`


class SqlLedgerCheckRepository:
    def __init__(self, session: Session) -> None:
        self._s = session
        self._pg = session.get_bind().dialect.name == "postgresql"
        self._checksums: tuple[int, int, int] | None = None

    def snapshot(self) -> None:
        if self._pg:
            self._s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    def _sums(self) -> tuple[int, int, int]:
        """(balance checksum, postings by order and account, running sums by the same)."""
        if self._checksums is None:
            self._no_jit()
            parts = {p: (b, o) for p, b, o in self._s.execute(text(_CHECKSUMS_SQL))}
            balance, postings = parts[1]
            self._checksums = (int(balance or 0), int(postings or 0), int(parts[2][1] or 0))
        return self._checksums

    def unbalanced(self) -> Sequence[tuple[str, str, int]]:
        if self._pg and self._sums()[0] == 0:
            return []
        p, t = LedgerPostingRow, LedgerTransactionRow
        total = func.sum(p.amount)
        # Sum the postings alone first and join the few bad transactions to their cause
        # afterwards: grouping the join of both tables is several times slower.
        sums = (
            select(p.transaction_id, p.currency, total.label("total"))
            .group_by(p.transaction_id, p.currency)
            .having(total != 0)
            .subquery()
        )
        stmt = (
            select(t.cause, sums.c.currency, sums.c.total)
            .join(sums, sums.c.transaction_id == t.id)
            .order_by(t.cause, sums.c.currency)
        )
        return [(cause, currency, int(s)) for cause, currency, s in self._s.execute(stmt)]

    def orphans(self) -> Sequence[str]:
        t, o = LedgerTransactionRow, OrderRow
        stmt = (
            select(t.order_id)
            .outerjoin(o, o.id == t.order_id)
            .where(t.order_id.is_not(None), o.id.is_(None))
            .distinct()
            .order_by(t.order_id)
        )
        return [str(order_id) for order_id in self._s.scalars(stmt)]

    def order_classes(self) -> OrderClasses | None:
        if not self._pg:
            return None
        _, postings, running = self._sums()
        if postings != running:
            return None
        self._no_jit()
        # The aggregate by order holds one entry per order in memory; with the default 4 MB
        # it would spill to disk many times over. Sorting is only ever worse here than hashing.
        self._s.execute(text("SET LOCAL work_mem = '256MB'"))
        self._s.execute(text("SET LOCAL enable_sort = off"))
        rows = self._s.execute(text(_CLASSES_SQL), _STATUSES).all()
        self._s.execute(text("SET LOCAL enable_sort = on"))
        self._s.execute(text("SET LOCAL work_mem = DEFAULT"))
        classes, orphans = [], []
        for key, orders, first, last in rows:
            if key is None:
                orphans.append(str(first))
            else:
                classes.append(BooksClass(str(key), int(orders), str(first), str(last)))
        return OrderClasses(classes=sorted(classes, key=lambda c: c.first), orphans=sorted(orphans))

    def class_members(self, key: str) -> Sequence[str]:
        self._no_jit()
        self._s.execute(text("SET LOCAL work_mem = '256MB'"))
        members = self._s.scalars(text(_MEMBERS_SQL), {**_STATUSES, "key": key}).all()
        self._s.execute(text("SET LOCAL work_mem = DEFAULT"))
        return sorted(str(m) for m in members)

    def books_of(self, order_ids: Sequence[str]) -> Sequence[OrderBooks]:
        wanted = sorted(set(order_ids))
        sql = text(_books_sql(self._s.get_bind().dialect.name, by_ids=True)).bindparams(
            bindparam("ids", expanding=True)
        )
        books: list[OrderBooks] = []
        for start in range(0, len(wanted), _BY_IDS):
            ids = wanted[start : start + _BY_IDS]
            books.extend(self._books(sql, {**_STATUSES, "ids": ids}))
        return books

    def order_books(self, *, after: str, limit: int) -> tuple[Sequence[OrderBooks], str | None]:
        o = OrderRow
        chunk = select(o.id).where(o.id > after).order_by(o.id).limit(limit).subquery()
        last = self._s.scalar(select(func.max(chunk.c.id)))
        if last is None:
            return [], None
        self._no_jit()
        sql = text(_books_sql(self._s.get_bind().dialect.name, by_ids=False))
        return self._books(sql, {**_STATUSES, "after": after, "last": last}), str(last)

    def _no_jit(self) -> None:
        if self._pg:
            # The planner's cost estimate for these statements is high enough to start JIT
            # compiling, which costs more (about 30 ms a statement) than it saves.
            self._s.execute(text("SET LOCAL jit = off"))

    def _books(self, sql: TextClause, params: dict[str, object]) -> list[OrderBooks]:
        return [
            OrderBooks(
                order_id=order_id,
                currency=currency,
                total=int(total),
                platform_fee=int(fee),
                shares=_shares(shares),
                lines=_lines(lines),
                net_by_provider=_net(paid, refunded),
                held=_held(held),
                posted=bool(posted),
            )
            for order_id, currency, total, fee, shares, lines, paid, refunded, held, posted in (
                self._s.execute(sql, params)
            )
        ]


def _weighted(key: str) -> str:
    small = "amount BETWEEN -2147483647 AND 2147483647"
    return (
        f"SUM(CASE WHEN {small} THEN amount * hashtext({key})::bigint"
        f" ELSE amount::numeric * hashtext({key}) END)"
    )


_STATUSES = {"paid": PaymentStatus.SUCCEEDED.value, "refunded": RefundStatus.SUCCEEDED.value}

# PostgreSQL only. `hashtext` is 32 bits: a posting's amount times it stays within 64 bits up
# to 2^31 minor units; larger amounts are multiplied as numeric (exact, slower, rare). A posting
# without an order hashes to NULL in the second sum, which leaves it out. Two branches of one
# UNION ALL, so that PostgreSQL scans both tables in parallel.
_CHECKSUMS_SQL = """
SELECT 1 AS part, {balance} AS balance, {by_order} AS by_order FROM ledger_postings
UNION ALL
SELECT 2, 0, {by_order} FROM ledger_order_sums
""".format(
    balance=_weighted("transaction_id || chr(31) || currency"),
    by_order=_weighted("order_id || chr(31) || kind || chr(31) || owner || chr(31) || currency"),
)

# Each row an order is judged by, hashed to 64 bits (each kind of row with its own seed), with
# flags: 1 the order exists, 2 a succeeded payment, 4 a ledger transaction names it. Summed
# per order, the hashes identify the order's rows as a whole.
_PER_ORDER_SQL = """
WITH judged AS (
    SELECT o.id AS order_id, 1 AS flags, hashtextextended(o.currency || chr(31)
        || CAST(o.total AS TEXT) || chr(31) || CAST(o.platform_fee AS TEXT) || chr(31)
        || COALESCE(CAST(o.organizer_shares AS TEXT), chr(30)), 1) AS h
    FROM orders o
    UNION ALL
    SELECT l.order_id, 0, hashtextextended(e.organizer_id || chr(31)
        || CAST(l.amount AS TEXT), 2)
    FROM order_lines l JOIN events e ON e.id = l.event_id
    UNION ALL
    SELECT order_id, 2, hashtextextended(provider || chr(31)
        || CAST(COALESCE(amount_received, amount) AS TEXT), 3)
    FROM payments WHERE status = :paid
    UNION ALL
    SELECT order_id, 0, hashtextextended(provider || chr(31) || CAST(amount AS TEXT), 4)
    FROM refunds WHERE status = :refunded
    UNION ALL
    SELECT order_id, 0, hashtextextended(kind || chr(31) || owner || chr(31) || currency
        || chr(31) || CAST(amount AS TEXT), 5)
    FROM ledger_order_sums
    UNION ALL
    SELECT DISTINCT order_id, 4, 0 FROM ledger_transactions WHERE order_id IS NOT NULL
), per_order AS (
    SELECT order_id, CAST(SUM(h) AS TEXT) || ':' || CAST(bit_or(flags) AS TEXT) AS key,
        bit_or(flags) AS flags
    FROM judged GROUP BY order_id
)
"""

# Classes of orders with money or postings; an orphan (flags 4 without 1) is a row of its own.
_CLASSES_SQL = (
    _PER_ORDER_SQL
    + """
SELECT CASE WHEN flags & 1 = 1 THEN key END, COUNT(*), MIN(order_id), MAX(order_id)
FROM per_order
WHERE (flags & 1 = 1 AND flags & 6 <> 0) OR (flags & 1 = 0 AND flags & 4 <> 0)
GROUP BY CASE WHEN flags & 1 = 1 THEN key END, CASE WHEN flags & 1 = 0 THEN order_id END
"""
)

_MEMBERS_SQL = _PER_ORDER_SQL + "SELECT order_id FROM per_order WHERE key = :key"  # noqa: S608


# One statement per chunk, so each chunk is read from one snapshot. Every part is grouped by
# order in the database and comes back as one text per order: a chunk of 5,000 orders is
# 5,000 rows, not the 50,000 its postings, lines and attempts are. Parts are joined by the
# ASCII record separator (30), fields by the unit separator (31); PostgreSQL sorts the parts,
# so orders with the same figures read the same text and are parsed once (`_parse`).
@cache
def _books_sql(dialect: str, *, by_ids: bool) -> str:
    pg = dialect == "postgresql"
    unit, record = ("chr(31)", "chr(30)") if pg else ("char(31)", "char(30)")

    def agg(*fields: str) -> str:
        joined = f" || {unit} || ".join(fields)
        if pg:
            return f"string_agg({joined}, {record} ORDER BY {joined})"
        return f"group_concat({joined}, {record})"

    def within(column: str = "order_id") -> str:
        if by_ids:
            return f"{column} IN :ids"
        return f"{column} > :after AND {column} <= :last"

    # Built from the constants above only; every value is a bound parameter.
    return f"""
WITH lines AS (
    SELECT l.order_id, {agg("e.organizer_id", "CAST(l.amount AS TEXT)")} AS v
    FROM order_lines l JOIN events e ON e.id = l.event_id
    WHERE {within("l.order_id")}
    GROUP BY l.order_id
), paid AS (
    SELECT order_id, {agg("provider", "CAST(s AS TEXT)")} AS v FROM (
        SELECT order_id, provider,
            SUM(CASE WHEN amount_received IS NULL THEN amount ELSE amount_received END) AS s
        FROM payments WHERE {within()} AND status = :paid
        GROUP BY order_id, provider
    ) AS p GROUP BY order_id
), refunded AS (
    SELECT order_id, {agg("provider", "CAST(s AS TEXT)")} AS v FROM (
        SELECT order_id, provider, SUM(amount) AS s
        FROM refunds WHERE {within()} AND status = :refunded
        GROUP BY order_id, provider
    ) AS r GROUP BY order_id
), held AS (
    SELECT order_id, {agg("kind", "owner", "currency", "CAST(s AS TEXT)")} AS v FROM (
        SELECT order_id, kind, owner, currency, SUM(amount) AS s
        FROM ledger_postings WHERE {within()}
        GROUP BY order_id, kind, owner, currency
    ) AS h GROUP BY order_id
), posted AS (
    SELECT DISTINCT order_id FROM ledger_transactions WHERE {within()}
)
SELECT o.id, o.currency, o.total, o.platform_fee, CAST(o.organizer_shares AS TEXT),
    lines.v, paid.v, refunded.v, held.v, posted.order_id IS NOT NULL
FROM orders o
LEFT JOIN lines ON lines.order_id = o.id
LEFT JOIN paid ON paid.order_id = o.id
LEFT JOIN refunded ON refunded.order_id = o.id
LEFT JOIN held ON held.order_id = o.id
LEFT JOIN posted ON posted.order_id = o.id
WHERE {within("o.id")}
    AND (paid.order_id IS NOT NULL OR posted.order_id IS NOT NULL)
"""  # noqa: S608


def _parse(text: str | None, fields: int) -> list[list[str]]:
    if not text:
        return []
    parts = [part.split("\x1f") for part in text.split("\x1e")]
    if any(len(part) != fields for part in parts):
        # An id holding a separator: refuse rather than misread the books.
        raise ValueError(f"ledger check: a value holds an ASCII separator: {text!r}")
    return parts


@lru_cache(maxsize=65_536)
def _shares(text: str | None) -> tuple[tuple[str, int, int], ...]:
    # As `SqlOrderRepository` reads it: {organizer: [gross, fee]}, None before it was stored.
    stored: dict[str, list[int]] = json.loads(text) if text else {}
    return tuple(sorted((str(k), int(v[0]), int(v[1])) for k, v in stored.items()))


@lru_cache(maxsize=65_536)
def _lines(text: str | None) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((organizer, int(amount)) for organizer, amount in _parse(text, 2)))


@lru_cache(maxsize=65_536)
def _net(paid: str | None, refunded: str | None) -> tuple[tuple[str, int], ...]:
    net: dict[str, int] = defaultdict(int)
    for provider, amount in _parse(paid, 2):
        net[provider] += int(amount)
    for provider, amount in _parse(refunded, 2):
        net[provider] -= int(amount)
    return tuple(sorted(net.items()))


@lru_cache(maxsize=65_536)
def _held(text: str | None) -> tuple[tuple[str, str, str, int], ...]:
    return tuple(sorted((k, o, c, int(a)) for k, o, c, a in _parse(text, 4)))
