#!/usr/bin/env python3
"""Webhook ingest benchmark: verified and durably stored Stripe events per second.

Runs the real server (`eventpay serve --workers N`, a subprocess) against PostgreSQL with fsync
on: a throwaway cluster unless EVENTPAY_DATABASE_URL names one. Signed
`payment_intent.succeeded` events with unique ids are posted at high concurrency to
`POST /v1/webhooks/stripe`; in the same run, the bare HTTP ceiling of the same server setup is
measured on `/healthz` (an async route returning a constant), so the ratio of the two can be
compared across machines. Afterwards every event acknowledged with a 2xx is looked up in
`webhook_events`; a missing one is a loud failure (exit 1).

This is a benchmark, not a test: it prints figures and asserts no timings. The last line is
`webhook_ingest events_per_s=N p50_ms=X p99_ms=Y ceiling_rps=Z`. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"

if Path(sys.prefix).resolve() != VENV.resolve() and (VENV / "bin" / "python").exists():
    # `python benchmarks/webhook_ingest.py` from any interpreter: rerun inside the project venv.
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])

sys.path.insert(0, str(ROOT / "tests"))  # tests/support holds the throwaway cluster helper

import cpu_usage  # noqa: E402
import loadgen  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from eventpay.db import migrate  # noqa: E402
from eventpay.providers.stripe_webhook import sign  # noqa: E402
from support.postgres import throwaway_cluster  # noqa: E402

TOLERANCE_S = 300  # Settings.webhook_tolerance_s: a signature older than this is rejected
SECRET = f"whsec_benchmark_{uuid.uuid4().hex}"


def _log(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------------ events


def _event_body(created: int) -> bytes:
    """A Stripe-shaped `payment_intent.succeeded` event (about 1.3 KB) with fresh ids."""
    intent = f"pi_{uuid.uuid4().hex[:24]}"
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount": 4500,
                "amount_capturable": 0,
                "amount_received": 4500,
                "capture_method": "automatic_async",
                "client_secret": f"{intent}_secret_{uuid.uuid4().hex[:24]}",
                "confirmation_method": "automatic",
                "created": created - 20,
                "currency": "eur",
                "customer": f"cus_{uuid.uuid4().hex[:14]}",
                "description": "Registration: Car Audio Summer Cup, SPL Street class",
                "latest_charge": f"ch_{uuid.uuid4().hex[:24]}",
                "livemode": False,
                "metadata": {
                    "payment_id": str(uuid.uuid4()),
                    "order_id": str(uuid.uuid4()),
                },
                "payment_method": f"pm_{uuid.uuid4().hex[:24]}",
                "payment_method_types": ["card"],
                "receipt_email": "competitor@example.com",
                "status": "succeeded",
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{uuid.uuid4().hex[:14]}", "idempotency_key": str(uuid.uuid4())},
        "type": "payment_intent.succeeded",
    }
    # Compact separators keep each body on one line of the request file (no tabs, no newlines).
    return json.dumps(event, separators=(",", ":")).encode()


def write_signed_events(prefix: Path, *, count: int, files: int) -> float:
    """Write `count` signed events into `files` files of `<signature>\\t<body>` lines.

    Returns the signing timestamp: the server rejects them TOLERANCE_S seconds later.
    """
    signed_at = int(time.time())
    handles = [open(f"{prefix}-{i}.txt", "wb") for i in range(files)]  # noqa: SIM115
    try:
        for n in range(count):
            body = _event_body(signed_at)
            handles[n % files].write(sign(body, SECRET, signed_at).encode() + b"\t" + body + b"\n")
    finally:
        for handle in handles:
            handle.close()
    return float(signed_at)


# ------------------------------------------------------------------------------------ server


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(database_url: str, *, workers: int, log_path: Path) -> Iterator[tuple[str, int]]:
    """`eventpay serve --workers N` in its own process group; stopped (and reaped) on exit."""
    port = _free_port()
    env = {
        **os.environ,
        "EVENTPAY_DATABASE_URL": database_url,
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": SECRET,
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_LOG_JSON": "true",
    }
    command = [str(VENV / "bin" / "eventpay"), "serve", "--workers", str(workers)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}; see {log_path}")
            with contextlib.suppress(OSError):
                if _get(base_url + "/healthz") == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /healthz in 60 s; see {log_path}")
            time.sleep(0.2)
        yield base_url, server.pid
    finally:
        _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    # The server's process group is ours alone (start_new_session): uvicorn's supervisor and
    # its worker processes. SIGTERM lets requests in flight finish; SIGKILL only if it hangs.
    group = server.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        server.wait()
    for _ in range(50):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def sanity_probe(base_url: str) -> tuple[str, str]:
    """The guarantees the fast path must keep; returns (stored event id, rejected event id)."""
    url = base_url + loadgen.WEBHOOK_PATH
    body = _event_body(int(time.time()))
    headers = {"Content-Type": "application/json"}
    signed = {**headers, "Stripe-Signature": sign(body, SECRET, int(time.time()))}
    event_id = json.loads(body)["id"]
    first = _post(url, body, signed)
    again = _post(url, body, signed)
    forged = _event_body(int(time.time()))
    bad = _post(url, forged, {**headers, "Stripe-Signature": sign(forged, "whsec_x", 0)})
    expected = [
        (200, {"received": True, "event_id": event_id, "duplicate": False}),
        (200, {"received": True, "event_id": event_id, "duplicate": True}),
    ]
    if [first, again] != expected or bad[0] != 400:
        raise SystemExit(f"FAIL: sanity probe answered {first}, {again}, {bad}")
    return event_id, str(json.loads(forged)["id"])


# ------------------------------------------------------------------------------------ run


def _ensure_wrk(choice: str) -> str:
    if choice == "python" or loadgen.wrk_available():
        return choice if choice == "python" else "wrk"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        _log("wrk is missing; installing Debian's wrk package (apt-get install -y wrk)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet).returncode:
            subprocess.run(["apt-get", "update"], check=False, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
    if loadgen.wrk_available():
        return "wrk"
    if choice == "wrk":
        raise SystemExit("wrk is not installed: run `sudo apt-get install -y wrk`")
    _log("wrk is not available (install it with `sudo apt-get install -y wrk`);")
    _log("falling back to the multi-process Python asyncio client, which costs more CPU")
    return "python"


def _phase(
    tool: str, args: argparse.Namespace, base_url: str, prefix: Path | None, seconds: int
) -> loadgen.PhaseResult:
    if tool == "wrk":
        if prefix is None:
            return loadgen.wrk_ceiling(
                base_url=base_url,
                workdir=args.workdir,
                threads=args.threads,
                connections=args.connections,
                duration_s=seconds,
            )
        return loadgen.wrk_webhooks(
            base_url=base_url,
            prefix=prefix,
            threads=args.threads,
            connections=args.connections,
            duration_s=seconds,
        )
    host, _, port = base_url.removeprefix("http://").partition(":")
    return loadgen.python_phase(
        host=host,
        port=int(port),
        prefix=prefix,
        processes=args.threads,
        connections=args.connections,
        duration_s=seconds,
    )


def _describe(name: str, result: loadgen.PhaseResult) -> None:
    line = (
        f"  {name}: {result.requests} answers in {result.duration_s:.2f} s = "
        f"{result.rps:,.0f}/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
    )
    if result.stored or result.duplicates:
        line += f"; stored {len(result.stored)}, duplicate {len(result.duplicates)}"
    others = {s: n for s, n in result.statuses.items() if s != 200}
    if others or result.non_2xx or result.socket_errors or result.unparsed:
        line += (
            f"; other statuses {others or result.non_2xx}, socket errors "
            f"{result.socket_errors}, unparsed {result.unparsed}"
        )
    _log(line)


def _database_facts(database_url: str) -> tuple[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            count = int(conn.execute(text("SELECT count(*) FROM webhook_events")).scalar_one())
            if engine.dialect.name != "postgresql":
                return engine.dialect.name, count
            settings = [
                f"{name}={conn.execute(text(f'SHOW {name}')).scalar_one()}"
                for name in ("fsync", "synchronous_commit", "wal_sync_method")
            ]
            version = conn.execute(text("SHOW server_version")).scalar_one()
            return f"PostgreSQL {version} ({', '.join(settings)})", count
    finally:
        engine.dispose()


def verify_storage(
    database_url: str, acknowledged: list[str], rejected: list[str], rows_before: int
) -> int:
    """Every event acknowledged with a 2xx must be in webhook_events, no rejected one may be."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            count = int(conn.execute(text("SELECT count(*) FROM webhook_events")).scalar_one())
            stored = set(
                conn.execute(
                    text("SELECT event_id FROM webhook_events WHERE provider = 'stripe'")
                ).scalars()
            )
    finally:
        engine.dispose()
    missing = set(acknowledged) - stored
    added = count - rows_before
    _log(
        f"webhook_events rows: {count} ({added} added by this run); "
        f"2xx-acknowledged events: {len(set(acknowledged))}, missing from the table: {len(missing)}"
    )
    if added > len(set(acknowledged)):
        # wrk drops the connections still waiting when a phase ends: those events committed
        # but were never acknowledged, and a provider would redeliver them (as duplicates).
        _log(f"  {added - len(set(acknowledged))} stored events were in flight when a phase ended")
    if missing:
        _log(f"FAIL: {len(missing)} acknowledged events are not stored, e.g. {sorted(missing)[:5]}")
        raise SystemExit(1)
    if stored & set(rejected):
        _log("FAIL: an event rejected with 400 was stored")
        raise SystemExit(1)
    return count


def run(args: argparse.Namespace, database_url: str) -> str:
    tool = _ensure_wrk(args.client)
    workdir: Path = args.workdir
    _log(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before the run; "
        f"load generator: {tool} ({args.threads} threads/procs)"
    )
    facts, rows_before = _database_facts(database_url)
    _log(f"database: {facts}")
    _log(
        f"server: eventpay serve --workers {args.workers}; "
        f"{args.connections} concurrent connections"
    )
    log_path = workdir / "server.log"
    postmaster = cpu_usage.postmaster_pid(database_url)
    with running_server(database_url, workers=args.workers, log_path=log_path) as (url, group):

        def measured(prefix: Path | None, seconds: int) -> tuple[loadgen.PhaseResult, str]:
            before = cpu_usage.snapshot(server_group=group, postmaster=postmaster)
            result = _phase(tool, args, url, prefix, seconds)
            after = cpu_usage.snapshot(server_group=group, postmaster=postmaster)
            return result, cpu_usage.describe(before, after, requests=result.requests)

        probe_stored, probe_rejected = sanity_probe(url)
        _log("sanity probe: stored 200, duplicate 200 no-op, bad signature 400")

        _phase(tool, args, url, None, args.warmup)
        ceiling, ceiling_cpu = measured(None, args.duration)

        # Signed just before use: every body must reach the server within TOLERANCE_S.
        warm_prefix, measure_prefix = workdir / "warmup", workdir / "measure"
        pool = [int(args.max_rate * s * 1.1) + 1000 for s in (args.warmup, args.duration)]
        _log(f"signing {sum(pool)} events for up to {args.max_rate} events/s ...")
        signed_at = write_signed_events(warm_prefix, count=pool[0], files=args.threads)
        write_signed_events(measure_prefix, count=pool[1], files=args.threads)
        warm = _phase(tool, args, url, warm_prefix, args.warmup)
        ingest, ingest_cpu = measured(measure_prefix, args.duration)
        age = time.time() - signed_at
    _log(f"results ({tool}):")
    _describe("ceiling GET /healthz", ceiling)
    _log(f"    {ceiling_cpu}")
    _describe("warm-up  POST /v1/webhooks/stripe", warm)
    _describe("measured POST /v1/webhooks/stripe", ingest)
    _log(f"    {ingest_cpu}")
    _log(f"oldest signature was {age:.0f} s old at the end (tolerance {TOLERANCE_S} s)")

    acknowledged, failures, warnings = [probe_stored], [], []
    for name, result in (("warm-up", warm), ("measured", ingest)):
        acknowledged += result.stored + result.duplicates
        if len(set(result.stored)) != len(result.stored):
            failures.append(f"{name}: an event was acknowledged as newly stored twice")
        if result.non_2xx or set(result.statuses) - {200} or result.unparsed:
            failures.append(f"{name}: answers other than 200: {dict(result.statuses)}")
        if result.socket_errors:
            warnings.append(f"{name}: {result.socket_errors} socket errors or timeouts")
        if result.duplicates:
            warnings.append(
                f"{name}: {len(result.duplicates)} duplicates - the signed pool ran out; "
                "raise --max-rate so every request carries a new event"
            )
    if set(warm.stored) & set(ingest.stored):
        failures.append("an event was acknowledged as newly stored in both phases")
    if "fsync=off" in facts:
        warnings.append("fsync is off: this figure is not for durably stored events")
    verify_storage(database_url, acknowledged, [probe_rejected], rows_before)
    for warning in warnings:
        _log(f"WARNING: {warning}")
    for failure in failures:
        _log(f"FAIL: {failure}")
    if failures:
        raise SystemExit(1)

    return (
        f"webhook_ingest events_per_s={ingest.stored_per_s:.0f} p50_ms={ingest.p50_ms:.2f} "
        f"p99_ms={ingest.p99_ms:.2f} ceiling_rps={ceiling.rps:.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads / client processes")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured phase")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per phase")
    parser.add_argument(
        "--max-rate", type=int, default=8000, help="events/s to pre-sign for (pool size)"
    )
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    if args.warmup + args.duration + 60 > TOLERANCE_S:
        parser.error(f"the signed events must be used within {TOLERANCE_S} s; shorten the run")

    with tempfile.TemporaryDirectory(prefix="eventpay-bench-") as workdir:
        args.workdir = Path(workdir)
        external = os.environ.get("EVENTPAY_DATABASE_URL")
        with contextlib.ExitStack() as stack:
            if external:
                database_url = external
            else:
                _log("starting a throwaway PostgreSQL cluster (fsync on) ...")
                database_url = stack.enter_context(throwaway_cluster(fsync=True))
            migrate(database_url)
            summary = run(args, database_url)
    print(summary, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
