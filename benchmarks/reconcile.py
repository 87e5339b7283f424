#!/usr/bin/env python3
"""Reconcile benchmark: `eventpay reconcile --provider stripe` over 100,000 to 1,000,000 payments.

Fills a throwaway PostgreSQL cluster with the same generated books as `ledger_verify.py` (orders,
lines, payments, refunds, their ledger transactions; one payment in about six is PayPal's), each
succeeded payment with a Stripe charge id and each succeeded refund with a refund id. Then it
starts the project's Stripe sandbox in this process (uvicorn in a thread) and loads its store
directly with the same records: one balance transaction per succeeded Stripe payment (its
counted amount, and as Stripe's fee the fee our ledger booked for that payment) and per
succeeded Stripe refund (negative). Going through the sandbox's API would take hours; the
records are the same objects its own `balance.record` makes. At each size it runs the real
command as a subprocess, `.venv/bin/eventpay reconcile --provider stripe --since ...`, against
that sandbox and prints its wall time, peak RSS (`ru_maxrss`) and its summary.

`--paged N` also times the previous way (balance transactions 100 per page, our side read
payment by payment: `reconcile(..., bulk=False)`, in-process) over the first N payments only.

A benchmark, not a test: it prints figures and asserts no timings. The last lines are
`reconcile payments=N seconds=S peak_rss_mb=R ours=O theirs=T mismatches=M`, one per size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"

if Path(sys.prefix).resolve() != VENV.resolve() and (VENV / "bin" / "python").exists():
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_books  # noqa: E402
import ledger_verify  # noqa: E402
from sqlalchemy import create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from eventpay.db import migrate  # noqa: E402
from eventpay.sandbox.stripe import BackgroundServer  # noqa: E402
from eventpay.sandbox.stripe import create_app as create_sandbox  # noqa: E402
from eventpay.sandbox.stripe.balance import record  # noqa: E402
from eventpay.sandbox.stripe.store import Store  # noqa: E402
from support.postgres import throwaway_cluster  # noqa: E402

SINCE = "2026-11-30"
TIME = "/usr/bin/time"  # GNU time (Debian's `time` package)
SECRET = "sk_test_reconcile_benchmark"

# What Stripe lists, read from our books: counted amount and the fee booked per payment.
_CHARGES = """
SELECT p.capture_id, p.currency,
    CASE WHEN p.amount_received IS NULL THEN p.amount ELSE p.amount_received END,
    COALESCE(f.fee, 0)
FROM payments p
LEFT JOIN ledger_transactions t ON t.cause = 'payment:' || p.id || chr(58) || 'fee'
LEFT JOIN (
    SELECT transaction_id, SUM(amount) AS fee FROM ledger_postings
    WHERE kind = 'provider_fee_expense' GROUP BY transaction_id
) f ON f.transaction_id = t.id
WHERE p.provider = 'stripe' AND p.status = 'succeeded' AND p.capture_id IS NOT NULL
ORDER BY p.id
"""
_REFUNDS = """
SELECT provider_refund_id, currency, amount FROM refunds
WHERE provider = 'stripe' AND status = 'succeeded' AND provider_refund_id IS NOT NULL
ORDER BY id
"""


def _log(message: str) -> None:
    print(message, flush=True)


def load_sandbox(store: Store, engine: Engine) -> int:
    """Replace the sandbox's balance transactions by those of our books; how many."""
    created = int(datetime.fromisoformat(ledger_verify.STAMP).timestamp())
    with store.lock:
        store.state.balance_transactions.clear()
        store.state.owners.clear()
        with engine.connect() as conn:
            for n, (charge, currency, amount, fee) in enumerate(conn.execute(text(_CHARGES))):
                txn = record(
                    store,
                    owner=None,
                    amount=int(amount),
                    currency=currency,
                    txn_type="charge",
                    reporting_category="charge",
                    source=charge,
                    fee=int(fee),
                    txn_id=f"txn_c{n}",
                )
                txn["created"] = txn["available_on"] = created
            for n, (refund, currency, amount) in enumerate(conn.execute(text(_REFUNDS))):
                txn = record(
                    store,
                    owner=None,
                    amount=-int(amount),
                    currency=currency,
                    txn_type="refund",
                    reporting_category="refund",
                    source=refund,
                    txn_id=f"txn_r{n}",
                )
                txn["created"] = txn["available_on"] = created
        return len(store.state.balance_transactions)


def run_reconcile(database_url: str, sandbox: str) -> tuple[float, float, int, str]:
    """Run the command: (seconds, peak RSS in MB, exit status, output).

    The peak RSS comes from `/usr/bin/time`, not from `wait4` here: a child started straight
    from this process (big: the sandbox's store) inherits its high-water mark across exec, so
    its `ru_maxrss` would be this process's size, not the command's.
    """
    env = {
        **os.environ,
        "EVENTPAY_DATABASE_URL": database_url,
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_STRIPE_API_BASE": sandbox,
        "EVENTPAY_STRIPE_SECRET_KEY": SECRET,
        "EVENTPAY_STRIPE_TIMEOUT_S": "300",
    }
    command = [str(VENV / "bin" / "eventpay"), "reconcile", "--provider", "stripe"]
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        status = subprocess.call(
            [TIME, "-f", "%M", "-o", peak.name, *command, "--since", SINCE],
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode(errors="replace").strip()
        kilobytes = int(peak.read().split()[-1])
    return seconds, kilobytes / 1024, status, output


def run_paged(database_url: str, sandbox: str, payments: int) -> None:
    """The movement-by-movement path over the first `payments` payments, in-process."""
    from eventpay.bootstrap import build_container
    from eventpay.config import Settings
    from eventpay.ports import ProviderName
    from eventpay.services import reconciliation

    settings = Settings(
        database_url=database_url,
        environment="test",
        stripe_api_base=sandbox,
        stripe_secret_key=SECRET,  # type: ignore[arg-type]
    )
    container = build_container(settings, pool_size=1)
    try:
        started = time.perf_counter()
        run = reconciliation.reconcile(
            uow_factory=container.uow_factory,
            providers=container.providers,
            provider=ProviderName.STRIPE,
            since=datetime.fromisoformat(SINCE).replace(tzinfo=UTC),
            now=datetime.now(UTC),
            bulk=False,
        )
        seconds = time.perf_counter() - started
    finally:
        container.close()
    _log(
        f"  paged (before), {payments:,} payments: {seconds:.1f} s, ours {run.ours},"
        f" theirs {run.theirs}, {len(run.mismatches)} mismatches"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", default="100000,300000,1000000", help="ascending sizes")
    parser.add_argument("--repeat", type=int, default=2, help="runs per size")
    parser.add_argument("--paged", type=int, default=0, help="also time the paged path at N")
    args = parser.parse_args()
    sizes = [int(s) for s in args.payments.split(",")]
    made = ledger_books.templates(ledger_verify.TEMPLATES)
    per_order = sum(len(t.payments) for t in made) / len(made)
    results = []
    app = create_sandbox(environment="test")
    store: Store = app.state.store
    with throwaway_cluster() as url, BackgroundServer(app) as sandbox:
        migrate(url)
        engine = create_engine(url)
        shares = "organizer_shares" in {c["name"] for c in inspect(engine).get_columns("orders")}
        sums = inspect(engine).has_table("ledger_order_sums")
        with engine.begin() as conn:
            ledger_verify._catalog(conn)
            ledger_verify._load_templates(conn, made)
        done = 0
        if args.paged:
            orders = round(args.paged / per_order)
            ledger_verify._generate(engine, 1, orders, stored_shares=shares, running_sums=sums)
            load_sandbox(store, engine)
            run_paged(url, sandbox.base_url, args.paged)
            with engine.begin() as conn:
                # Start the sizes from empty books; the ledger's append-only triggers refuse
                # this, as they should, unless the session is told to skip triggers.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(
                    text(
                        "TRUNCATE ledger_order_sums, ledger_postings, ledger_transactions,"
                        " refunds, payments, order_lines, orders, reconciliation_mismatches,"
                        " reconciliation_runs CASCADE"
                    )
                )
        for size in sizes:
            orders = round(size / per_order)
            started = time.perf_counter()
            ledger_verify._generate(
                engine, done + 1, orders, stored_shares=shares, running_sums=sums
            )
            done = orders
            ledger_verify._vacuum(engine)
            listed = load_sandbox(store, engine)
            counts = ledger_verify._counts(engine)
            _log(
                f"generated in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{k}={v:,}" for k, v in counts.items())
                + f"; sandbox balance transactions={listed:,}"
            )
            for attempt in range(args.repeat):
                seconds, rss, status, output = run_reconcile(url, sandbox.base_url)
                first = output.splitlines()[0] if output else "(no output)"
                _log(f"  run {attempt + 1}: {seconds:.2f} s, {rss:.0f} MB, exit {status}: {first}")
                for line in output.splitlines()[1:4]:
                    _log(f"    {line}")
            results.append(
                f"reconcile payments={counts['payments']} seconds={seconds:.2f}"
                f" peak_rss_mb={rss:.0f} exit={status} :: {first}"
            )
        engine.dispose()
    for line in results:
        _log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
