#!/usr/bin/env python3
"""Ledger verify benchmark: `eventpay ledger verify` over 100,000 to 1,000,000 payments.

Fills a PostgreSQL database (a throwaway cluster unless --database-url names an empty, migrated
one) with orders, their lines, payment and refund attempts and the ledger transactions they
post, copied from domain-computed templates (`ledger_books.py`) with `INSERT ... SELECT`, not
through the services: a million payments take minutes this way instead of hours. At each size
it runs the real command, `.venv/bin/eventpay ledger verify`, as a subprocess and prints its
wall time, its peak resident memory (the child's `ru_maxrss`) and its answer, which must be
clean. The running sums `post` keeps (`ledger_order_sums`) are filled alongside, as `post`
would have. After the largest size it posts one wrong platform fee on one order (a balanced
transaction moving 1 minor unit from the platform's fee revenue to the organizer, through
`SqlLedgerRepository.post`) and checks that verify names that order.

A benchmark, not a test: it prints figures and asserts no timings. The last lines are
`ledger_verify payments=N orders=M seconds=S peak_rss_mb=R clean=yes`, one per size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"

if Path(sys.prefix).resolve() != VENV.resolve() and (VENV / "bin" / "python").exists():
    # `python benchmarks/ledger_verify.py` from any interpreter: rerun inside the project venv.
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])

sys.path.insert(0, str(ROOT / "tests"))  # tests/support holds the throwaway cluster helper
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_books  # noqa: E402
from sqlalchemy import create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from eventpay.db import migrate  # noqa: E402
from eventpay.db.ledger_repository import SqlLedgerRepository  # noqa: E402
from eventpay.domain.ledger import Account, AccountKind, build  # noqa: E402
from support.postgres import throwaway_cluster  # noqa: E402

TEMPLATES = 500
BATCH = 100_000  # orders per INSERT ... SELECT round
STAMP = "2026-12-01T12:00:00+00:00"


def _log(message: str) -> None:
    print(message, flush=True)


def order_id(n: int) -> str:
    """Order n's id, as the SQL makes it: md5('o' || n) read as a uuid (random order, as the
    service's uuid4 ids are)."""
    return str(uuid.UUID(hashlib.md5(f"o{n}".encode()).hexdigest()))


# ------------------------------------------------------------------------------------ loading


def _load_templates(conn: Connection, made: list[ledger_books.Template]) -> None:
    conn.execute(text("DROP TABLE IF EXISTS tpl_orders, tpl_lines, tpl_payments, tpl_refunds"))
    conn.execute(text("DROP TABLE IF EXISTS tpl_transactions, tpl_postings"))
    conn.execute(
        text(
            "CREATE UNLOGGED TABLE tpl_orders (tpl int, currency text, total bigint, fee bigint,"
            " shares jsonb)"
        )
    )
    conn.execute(
        text("CREATE UNLOGGED TABLE tpl_lines (tpl int, pos int, event text, amount bigint)")
    )
    conn.execute(
        text(
            "CREATE UNLOGGED TABLE tpl_payments (tpl int, idx int, provider text, amount bigint,"
            " received bigint, status text)"
        )
    )
    conn.execute(
        text(
            "CREATE UNLOGGED TABLE tpl_refunds (tpl int, idx int, payment int, provider text,"
            " amount bigint, status text)"
        )
    )
    conn.execute(
        text(
            "CREATE UNLOGGED TABLE tpl_transactions (tpl int, idx int, head text, tail text,"
            " kind text)"
        )
    )
    conn.execute(
        text(
            "CREATE UNLOGGED TABLE tpl_postings (tpl int, txn int, idx int, kind text,"
            " owner text, currency text, amount bigint)"
        )
    )
    rows: dict[str, list[dict[str, object]]] = {k: [] for k in ("o", "l", "p", "r", "t", "x")}
    for i, t in enumerate(made):
        shares = None if t.stored is None else json.dumps(t.stored)
        rows["o"].append(
            {"tpl": i, "currency": t.currency, "total": t.total, "fee": t.fee, "shares": shares}
        )
        for pos, (event, amount) in enumerate(t.lines):
            event_name = ledger_books.event_id(event)
            rows["l"].append({"tpl": i, "pos": pos, "event": event_name, "amount": amount})
        for idx, p in enumerate(t.payments):
            rows["p"].append(
                {
                    "tpl": i,
                    "idx": idx,
                    "provider": p.provider,
                    "amount": p.amount,
                    "received": p.received,
                    "status": p.status,
                }
            )
        for idx, r in enumerate(t.refunds):
            provider = t.payments[r.payment].provider
            rows["r"].append(
                {
                    "tpl": i,
                    "idx": idx,
                    "payment": r.payment,
                    "provider": provider,
                    "amount": r.amount,
                    "status": r.status,
                }
            )
        for idx, (head, tail, kind, postings) in enumerate(t.transactions):
            rows["t"].append({"tpl": i, "idx": idx, "head": head, "tail": tail, "kind": kind})
            for k, (account, owner, currency, amount) in enumerate(postings):
                rows["x"].append(
                    {
                        "tpl": i,
                        "txn": idx,
                        "idx": k,
                        "kind": account,
                        "owner": owner,
                        "currency": currency,
                        "amount": amount,
                    }
                )
    inserts = {
        "o": "INSERT INTO tpl_orders VALUES (:tpl, :currency, :total, :fee,"
        " CAST(:shares AS jsonb))",
        "l": "INSERT INTO tpl_lines VALUES (:tpl, :pos, :event, :amount)",
        "p": "INSERT INTO tpl_payments VALUES (:tpl, :idx, :provider, :amount, :received, :status)",
        "r": "INSERT INTO tpl_refunds VALUES (:tpl, :idx, :payment, :provider, :amount, :status)",
        "t": "INSERT INTO tpl_transactions VALUES (:tpl, :idx, :head, :tail, :kind)",
        "x": "INSERT INTO tpl_postings VALUES (:tpl, :txn, :idx, :kind, :owner, :currency,"
        " :amount)",
    }
    for key, sql in inserts.items():
        if rows[key]:
            conn.execute(text(sql), rows[key])


def _catalog(conn: Connection) -> None:
    for n in range(ledger_books.ORGANIZERS):
        conn.execute(
            text("INSERT INTO organizers (id, name, created_at) VALUES (:id, :id, :at)"),
            {"id": ledger_books.organizer_id(n), "at": STAMP},
        )
    # Payouts (migration 0011) hold an event's money until its reserve ends.
    reserve = "reserve_until" in {c["name"] for c in inspect(conn).get_columns("events")}
    for n in range(ledger_books.EVENTS):
        conn.execute(
            text(
                "INSERT INTO events (id, organizer_id, name, timezone, currency, starts_at,"
                " registration_opens_at, registration_closes_at, created_at"
                + (", reserve_until" if reserve else "")
                + ") VALUES (:id, :org, :id, 'UTC', 'usd', :at, :at, :at, :at"
                + (", :at" if reserve else "")
                + ")"
            ),
            {
                "id": ledger_books.event_id(n),
                "org": ledger_books.organizer_id(n % ledger_books.ORGANIZERS),
                "at": STAMP,
            },
        )


def _generate(
    engine: Engine, first: int, last: int, *, stored_shares: bool, running_sums: bool
) -> None:
    """Orders first..last (inclusive) with their whole history, template n mod TEMPLATES."""
    oid = "md5('o' || g)::uuid::text"
    shares = "t.shares" if stored_shares else None
    steps = [
        "INSERT INTO orders (id, buyer_id, currency, subtotal, discount, fees, tax, total,"
        " platform_fee, organizer_net, created_at, updated_at"
        + (", organizer_shares" if shares else "")
        + f") SELECT {oid}, 'buyer-' || (g % 5000), t.currency, t.total, 0, 0, 0, t.total,"
        " t.fee, t.total - t.fee, :at, :at" + (f", {shares}" if shares else "") + " FROM {series}"
        " JOIN tpl_orders t ON t.tpl = g % :k",
        "INSERT INTO order_lines (id, order_id, position, kind, description, amount, event_id)"
        f" SELECT {oid} || '-l' || t.pos, {oid}, t.pos, 'class', 'Benchmark class', t.amount,"
        " t.event FROM {series} JOIN tpl_lines t ON t.tpl = g % :k",
        "INSERT INTO payments (id, order_id, provider, amount, amount_received, currency, status,"
        " idempotency_key, metadata, created_at, updated_at, next_check_at, capture_id)"
        f" SELECT {oid} || '-p' || t.idx, {oid}, t.provider, t.amount, t.received, o.currency,"
        f" t.status, {oid} || '-p' || t.idx, '{{}}', :at, :at, :at,"
        f" CASE WHEN t.status = 'succeeded' THEN 'ch_' || left(md5({oid} || '-p' || t.idx), 24)"
        " END FROM {series} JOIN tpl_payments t ON t.tpl = g % :k"
        " JOIN tpl_orders o ON o.tpl = t.tpl",
        "INSERT INTO refunds (id, order_id, payment_id, provider, amount, currency, status,"
        " reason, idempotency_key, created_at, updated_at, next_check_at, provider_refund_id)"
        f" SELECT {oid} || '-r' || t.idx, {oid}, {oid} || '-p' || t.payment, t.provider,"
        f" t.amount, o.currency, t.status, 'benchmark', {oid} || '-r' || t.idx, :at, :at, :at,"
        f" CASE WHEN t.status = 'succeeded' THEN 're_' || left(md5({oid} || '-r' || t.idx), 24)"
        " END FROM {series} JOIN tpl_refunds t ON t.tpl = g % :k"
        " JOIN tpl_orders o ON o.tpl = t.tpl",
        "INSERT INTO ledger_transactions (id, cause, kind, order_id, created_at)"
        f" SELECT {oid} || '-t' || t.idx, t.head || {oid} || t.tail, t.kind, {oid}, :at"
        " FROM {series} JOIN tpl_transactions t ON t.tpl = g % :k",
        "INSERT INTO ledger_postings (id, transaction_id, kind, owner, currency, amount,"
        f" order_id) SELECT {oid} || '-t' || t.txn || '-' || t.idx, {oid} || '-t' || t.txn,"
        f" t.kind, t.owner, t.currency, t.amount, {oid}"
        " FROM {series} JOIN tpl_postings t ON t.tpl = g % :k",
    ]
    if running_sums:
        # What `post` adds to the running sums, per order and account (migration 0013).
        steps.append(
            "INSERT INTO ledger_order_sums (order_id, kind, owner, currency, amount)"
            f" SELECT {oid}, t.kind, t.owner, t.currency, SUM(t.amount)"
            " FROM {series} JOIN tpl_postings t ON t.tpl = g % :k"
            " GROUP BY g, t.kind, t.owner, t.currency"
        )
    for start in range(first, last + 1, BATCH):
        end = min(start + BATCH - 1, last)
        series = f"generate_series({start}, {end}) AS g"
        with engine.begin() as conn:
            for step in steps:
                conn.execute(text(step.replace("{series}", series)), {"at": STAMP, "k": TEMPLATES})


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("orders", "payments", "refunds", "ledger_transactions", "ledger_postings")
        }


def _vacuum(engine: Engine) -> None:
    # What autovacuum does to tables this fresh, done now so every run sees the same state.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


# ------------------------------------------------------------------------------------ runs


def run_verify(database_url: str) -> tuple[float, float, int, str]:
    """Run `eventpay ledger verify`: (seconds, peak RSS in MB, exit status, output)."""
    env = {
        **os.environ,
        "EVENTPAY_DATABASE_URL": database_url,
        "EVENTPAY_ENVIRONMENT": "test",
    }
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(VENV / "bin" / "eventpay"), "ledger", "verify"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace").strip()
    return seconds, usage.ru_maxrss / 1024, child.returncode, output


def _plant_wrong_fee(engine: Engine, n: int) -> str:
    """One balanced transaction that gives order n's organizer 1 minor unit of the fee, posted
    through `SqlLedgerRepository.post` as buggy code would post it (so the running sums
    follow)."""
    target = order_id(n)
    with engine.connect() as conn:
        owner, currency = conn.execute(
            text(
                "SELECT owner, currency FROM ledger_postings WHERE order_id = :o"
                " AND kind = 'organizer_payable' LIMIT 1"
            ),
            {"o": target},
        ).one()
    transaction = build(
        cause="planted:wrong-fee",
        kind="correction",
        order_id=target,
        amounts={
            Account(AccountKind.PLATFORM_FEE_REVENUE, "", currency): 1,
            Account(AccountKind.ORGANIZER_PAYABLE, owner, currency): -1,
        },
    )
    assert transaction is not None
    with Session(engine) as session:
        SqlLedgerRepository(session).post(transaction, at=datetime.fromisoformat(STAMP))
        session.commit()
    return target


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    with throwaway_cluster() as fresh:
        yield fresh


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--payments",
        default="100000,300000,1000000",
        help="comma-separated sizes in payment attempts, ascending (default: %(default)s)",
    )
    parser.add_argument("--database-url", help="an empty database (default: throwaway cluster)")
    parser.add_argument("--repeat", type=int, default=2, help="verify runs per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.payments.split(",")]

    made = ledger_books.templates(TEMPLATES)
    per_order = sum(len(t.payments) for t in made) / len(made)
    _log(f"{TEMPLATES} order templates, {per_order:.3f} payment attempts per order on average")
    results = []
    with _database(args.database_url) as url:
        migrate(url)
        engine = create_engine(url)
        stored = "organizer_shares" in {c["name"] for c in inspect(engine).get_columns("orders")}
        sums = inspect(engine).has_table("ledger_order_sums")
        with engine.begin() as conn:
            _catalog(conn)
            _load_templates(conn, made)
        done = 0
        for size in sizes:
            orders = round(size / per_order)
            started = time.perf_counter()
            _generate(engine, done + 1, orders, stored_shares=stored, running_sums=sums)
            done = orders
            _vacuum(engine)
            counts = _counts(engine)
            _log(
                f"generated in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{k}={v:,}" for k, v in counts.items())
            )
            for attempt in range(args.repeat):
                seconds, rss, status, output = run_verify(url)
                _log(f"  run {attempt + 1}: {seconds:.2f} s, {rss:.0f} MB, exit {status}: {output}")
            clean = status == 0 and output.startswith("ledger clean")
            results.append(
                f"ledger_verify payments={counts['payments']} orders={counts['orders']}"
                f" seconds={seconds:.2f} peak_rss_mb={rss:.0f} clean={'yes' if clean else 'NO'}"
            )
        target = _plant_wrong_fee(engine, done // 2)
        seconds, rss, status, output = run_verify(url)
        found = status == 1 and target in output.splitlines()[0]
        _log(f"planted a wrong fee on order {target}: {seconds:.2f} s, {rss:.0f} MB, exit {status}")
        _log(f"  {output}")
        _log(("found it" if found else "FAIL: verify did not name the planted order") + "\n")
        engine.dispose()
    for line in results:
        _log(line)
    ok = found and all(line.endswith("clean=yes") for line in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
