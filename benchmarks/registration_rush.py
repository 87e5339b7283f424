#!/usr/bin/env python3
"""Registration rush: many distinct buyers race for the few places of one class.

The shape of an opening registration: 20,000 buyers, 500 places. Each buyer posts one order for
the class and, when it is accepted (201), starts a Stripe payment for it: a *checkout* is that
pair. Everyone after the last place must get 409 `sold_out` before any payment, and no place may
be sold twice. The real server (`eventpay serve --workers N`, a subprocess) runs against
PostgreSQL with fsync on (a throwaway cluster unless EVENTPAY_DATABASE_URL names one) and the
project's Stripe sandbox (its own process, no added latency), so the figures include the
provider round trip of every payment.

The load generator is a raw HTTP/1.1 keep-alive client on asyncio (no HTTP library: it costs a
fraction of the server's CPU per request) in one or more processes, each buyer carrying a bearer
token minted up front with the service's own `issue_token` and JWT key. Afterwards the database
is the judge of overselling: places held or confirmed, orders registered and the stock item's
`taken` counter, each against the capacity; an overcount is a `FAIL:` line and exit status 1.

This is a benchmark, not a test: it prints figures and asserts no timings. The last line is
`registration_rush checkouts_per_s=N order_p50_ms=X order_p99_ms=Y oversold=0 ...`. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"

if Path(sys.prefix).resolve() != VENV.resolve() and (VENV / "bin" / "python").exists():
    # `python benchmarks/registration_rush.py` from any interpreter: rerun inside the venv.
    os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), *sys.argv])

sys.path.insert(0, str(ROOT / "tests"))  # tests/support holds the throwaway cluster helper

import cpu_usage  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from eventpay.db import migrate  # noqa: E402
from eventpay.domain.places import class_stock_id  # noqa: E402
from eventpay.ports import Role  # noqa: E402
from eventpay.sample_ids import ORGANIZER_ID  # noqa: E402
from eventpay.web.auth import issue_token  # noqa: E402
from support.postgres import throwaway_cluster  # noqa: E402

JWT_KEY = f"rush-benchmark-{uuid.uuid4().hex}"
WEBHOOK_SECRET = f"whsec_rush_{uuid.uuid4().hex}"
# The per-caller budgets (Settings.rate_limit_*) would answer 429 to the shared client address
# long before the service itself is busy; the benchmark measures the service, not the limiter.
RAISED_RATE_LIMIT = 10_000_000
_CODE = re.compile(rb'"code"\s*:\s*"([^"]+)"')
_ID = re.compile(rb'"id"\s*:\s*"([^"]+)"')
_T = time.perf_counter


def _log(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------------------ processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _post(url: str, body: object, headers: dict[str, str]) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={**headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Each child runs in its own process group (start_new_session): uvicorn's supervisor and
    # its workers, or the sandbox. SIGTERM first; SIGKILL only if it hangs.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for _ in range(50):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def _running(
    command: list[str], env: dict[str, str], log_path: Path, ready_url: str, name: str
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
            with contextlib.suppress(OSError):
                if _get(ready_url)[0] < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer in 60 s; see {log_path}")
            time.sleep(0.2)
        yield process
    finally:
        _stop(process)


def _service_env(database_url: str, server_port: int, sandbox_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "EVENTPAY_DATABASE_URL": database_url,
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_LOG_JSON": "true",
        "EVENTPAY_JWT_KEY": JWT_KEY,
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "EVENTPAY_STRIPE_API_BASE": f"http://127.0.0.1:{sandbox_port}",
        "EVENTPAY_PUBLIC_BASE_URL": f"http://127.0.0.1:{server_port}",
        "EVENTPAY_RATE_LIMIT_PER_MINUTE": str(RAISED_RATE_LIMIT),
        "EVENTPAY_RATE_LIMIT_WRITES_PER_MINUTE": str(RAISED_RATE_LIMIT),
    }


# `--profile`: one server process (what `eventpay serve --workers 1` runs) with cProfile in every
# thread, the event loop's and the thread pool's, merged into one stats file when it stops. Each
# thread is timed by its own CPU clock: time spent waiting (for PostgreSQL, a pooled connection,
# a lock, the GIL) is left out, so the figures add up to the CPU the process used.
_PROFILED_SERVER = """
import cProfile, signal, sys, threading, time
import pstats, uvicorn
from eventpay.config import Settings
from eventpay.web import create_app

out, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
profiles = []
bootstrap = threading.Thread._bootstrap_inner

def profiled(self):
    profile = cProfile.Profile(time.thread_time)
    profiles.append(profile)
    profile.enable()
    try:
        bootstrap(self)
    finally:
        profile.disable()

threading.Thread._bootstrap_inner = profiled
app = create_app(Settings())
# uvicorn re-raises the SIGTERM it stopped on once it is done, to the handler found before it:
# a no-op here, so the stats below are written.
signal.signal(signal.SIGTERM, lambda *_: None)
main = cProfile.Profile(time.thread_time)
main.enable()
try:
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
finally:
    main.disable()
    stats = pstats.Stats(main)
    for profile in profiles:
        stats.add(profile)
    stats.dump_stats(out)
"""


def _print_profile(path: Path, limit: int = 40) -> None:
    import io
    import pstats

    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        stats = pstats.Stats(str(path), stream=buffer).strip_dirs().sort_stats(order)
        stats.print_stats(limit)
        _log(f"profile of the server process, by {order}:")
        _log(buffer.getvalue().split("\n", 4)[-1].rstrip())


def _group_cpu_s(group: int) -> float:
    """User+system seconds of the live processes in process group `group` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) == group:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


# ------------------------------------------------------------------------------ catalog


def _at(now: datetime, days: float) -> str:
    return (now + timedelta(days=days)).isoformat()


def create_event(base_url: str, *, places: int) -> tuple[str, str]:
    """A fresh event, open for registration now, with one class of `places`; (event, class)."""
    now = datetime.now(UTC).replace(microsecond=0)
    suffix = uuid.uuid4().hex[:8]
    event_id, class_id = f"rush-{suffix}", f"rush-{suffix}-spl"
    admin = issue_token(key=JWT_KEY, algorithm="HS256", subject="rush-admin", role=Role.ADMIN)
    body = {
        "id": event_id,
        "organizer_id": ORGANIZER_ID,
        "name": f"Registration rush {suffix}",
        "timezone": "Europe/Berlin",
        "currency": "eur",
        "starts_at": _at(now, 60),
        "ends_at": _at(now, 61),
        "registration_opens_at": _at(now, -1 / 24),
        "registration_closes_at": _at(now, 59),
        "classes": [
            {
                "id": class_id,
                "code": "SPL",
                "name": "SPL Street",
                "member_price": 3000,
                "non_member_price": 4500,
                "capacity": places,
            }
        ],
    }
    status, answer = _post(f"{base_url}/v1/events", body, {"Authorization": f"Bearer {admin}"})
    if status != 201:
        raise SystemExit(f"FAIL: POST /v1/events answered {status}: {answer}")
    return event_id, class_id


def _places_left(base_url: str, event_id: str, class_id: str) -> object:
    status, answer = _get(f"{base_url}/v1/events/{event_id}")
    if status != 200:
        return f"GET /v1/events/{event_id} answered {status}"
    for item in answer.get("classes", []):
        if item.get("id") == class_id:
            return item.get("places_left")
    return "class missing"


# ------------------------------------------------------------------------------ load


@dataclass
class Sample:
    kind: str  # "order" or "payment"
    status: int  # 0: no answer (connection failed)
    code: str  # the error code of a non-2xx answer, "" otherwise
    sent_s: float  # since the common start
    latency_s: float


@dataclass
class ClientJob:
    host: str
    port: int
    event_id: str
    class_id: str
    buyers: list[tuple[str, str]]  # (buyer id, bearer token)
    connections: int
    idempotency_keys: bool
    stop_after_s: float


@dataclass
class ClientResult:
    samples: list[Sample] = field(default_factory=list)
    cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)


def _request(job: ClientJob, path: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {job.host}:{job.port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if job.idempotency_keys:
        head += f"Idempotency-Key: {uuid.uuid4()}\r\n"
    return head.encode() + b"\r\n" + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise RuntimeError("chunked answers are not handled by this client")
    return status, await reader.readexactly(length or 0)


async def _buyer_loop(
    job: ClientJob, queue: collections.deque[tuple[str, str]], start: float, out: ClientResult
) -> None:
    order_body = json.dumps(
        {"items": [{"kind": "registration", "event_id": job.event_id, "class_ids": [job.class_id]}]}
    ).encode()
    payment_body = b'{"provider":"stripe"}'
    reader = writer = None
    while queue and _T() - start < job.stop_after_s:
        _, token = queue.popleft()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(job.host, job.port)
            assert reader is not None
            sent = _T()
            status, body = await _exchange(
                reader, writer, _request(job, "/v1/orders", token, order_body)
            )
            out.samples.append(
                Sample("order", status, _code(status, body), sent - start, _T() - sent)
            )
            if status != 201:
                continue
            match = _ID.search(body)
            if match is None:
                out.errors.append(f"order 201 without an id: {body[:200]!r}")
                continue
            path = f"/v1/orders/{match.group(1).decode()}/payments"
            sent = _T()
            status, body = await _exchange(reader, writer, _request(job, path, token, payment_body))
            out.samples.append(
                Sample("payment", status, _code(status, body), sent - start, _T() - sent)
            )
        except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as exc:
            out.samples.append(Sample("order", 0, type(exc).__name__, _T() - start, 0.0))
            out.errors.append(f"{type(exc).__name__}: {exc}")
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _code(status: int, body: bytes) -> str:
    if 200 <= status < 300:
        return ""
    match = _CODE.search(body)
    return match.group(1).decode() if match else "?"


async def _drive(job: ClientJob, go: float) -> ClientResult:
    out = ClientResult()
    queue = collections.deque(job.buyers)
    await asyncio.sleep(max(0.0, go - time.time()))
    cpu_before, start = time.process_time(), _T()
    await asyncio.gather(*(_buyer_loop(job, queue, start, out) for _ in range(job.connections)))
    out.cpu_s = time.process_time() - cpu_before
    return out


def _client_main(job: ClientJob, pipe: Connection) -> None:
    """One load generator process: says it is ready, runs from the time it is told, reports."""
    pipe.send("ready")
    go = pipe.recv()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_drive(job, go))
    else:
        result = uvloop.run(_drive(job, go))
    # Plain tuples: classes of a spawned `__main__` do not unpickle in the parent.
    samples = [(s.kind, s.status, s.code, s.sent_s, s.latency_s) for s in result.samples]
    pipe.send((samples, result.cpu_s, result.errors))
    pipe.close()


def run_clients(
    jobs: list[ClientJob], mark: Callable[[], None]
) -> tuple[list[ClientResult], float]:
    """Start every client process, release them at one instant; (results, wall seconds).

    `mark()` runs just before the release and again once every client has answered, so CPU
    snapshots taken there leave out the clients' start-up.
    """
    context = multiprocessing.get_context("spawn")
    started: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    for job in jobs:
        mine, theirs = context.Pipe()
        process = context.Process(target=_client_main, args=(job, theirs), daemon=True)
        process.start()
        started.append((process, mine))
    for _, pipe in started:
        if pipe.recv() != "ready":
            raise RuntimeError("a client process did not start")
    mark()
    go = time.time() + 0.05
    for _, pipe in started:
        pipe.send(go)
    answers = [pipe.recv() for _, pipe in started]
    wall = time.time() - go
    mark()
    results = [
        ClientResult([Sample(*s) for s in samples], cpu_s, errors)
        for samples, cpu_s, errors in answers
    ]
    for client, _ in started:
        client.join()
    return results, wall


# ------------------------------------------------------------------------------ report


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1e3 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latency(samples: list[Sample]) -> str:
    values = [s.latency_s for s in samples]
    return (
        f"n={len(values)} p50 {_pct(values, 0.50):.1f} ms, p99 {_pct(values, 0.99):.1f} ms, "
        f"max {_pct(values, 1.0):.1f} ms"
    )


def database_facts(database_url: str, event_id: str, class_id: str) -> dict[str, Any]:
    engine = create_engine(database_url)
    stock = class_stock_id(class_id)
    try:
        with engine.connect() as conn:
            capacity, taken = conn.execute(
                text("SELECT capacity, taken FROM stock_items WHERE id = :id"), {"id": stock}
            ).one()
            held = conn.execute(
                text(
                    "SELECT coalesce(sum(quantity), 0) FROM places WHERE stock_id = :id "
                    "AND status IN ('held', 'confirmed')"
                ),
                {"id": stock},
            ).scalar_one()
            orders = conn.execute(
                text("SELECT count(DISTINCT order_id) FROM registrations WHERE event_id = :e"),
                {"e": event_id},
            ).scalar_one()
            payments = conn.execute(
                text(
                    "SELECT count(*) FROM payments WHERE order_id IN "
                    "(SELECT order_id FROM registrations WHERE event_id = :e)"
                ),
                {"e": event_id},
            ).scalar_one()
            buyers_twice = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT competitor_id FROM registrations "
                    "WHERE event_id = :e GROUP BY competitor_id HAVING count(*) > 1) AS t"
                ),
                {"e": event_id},
            ).scalar_one()
            settings = ", ".join(
                f"{name}={conn.execute(text(f'SHOW {name}')).scalar_one()}"
                for name in ("fsync", "synchronous_commit")
            )
            version = conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    return {
        "capacity": int(capacity),
        "taken": int(taken),
        "held_or_confirmed": int(held),
        "orders": int(orders),
        "payments": int(payments),
        "buyers_twice": int(buyers_twice),
        "database": f"PostgreSQL {version} ({settings})",
    }


def _cpu_split(
    before: cpu_usage.CpuSnapshot,
    after: cpu_usage.CpuSnapshot,
    *,
    sandbox_s: float,
    loadgen_s: float,
    requests: int,
) -> str:
    seconds = after.taken_at - before.taken_at
    cores = os.cpu_count() or 1
    server = after.server_s - before.server_s
    postgres = after.postgres_s - before.postgres_s
    busy = after.machine_busy_s - before.machine_busy_s
    other = max(0.0, busy - server - postgres - sandbox_s - loadgen_s)
    parts = [
        ("server", server),
        ("postgres", postgres),
        ("stripe sandbox", sandbox_s),
        ("loadgen", loadgen_s),
        ("other", other),
    ]
    shares = ", ".join(f"{name} {100 * v / (seconds * cores):.0f}%" for name, v in parts)
    per_request = " + ".join(f"{name} {1e3 * v / max(requests, 1):.3f}" for name, v in parts)
    return (
        f"CPU over {seconds:.1f} s of {cores} cores: {shares} (machine "
        f"{100 * busy / (seconds * cores):.0f}% busy)\n  CPU ms per request: {per_request}"
    )


def report(
    results: list[ClientResult],
    wall: float,
    facts: dict[str, Any],
    *,
    args: argparse.Namespace,
    cpu: str,
    places_left: object,
) -> tuple[str, list[str]]:
    samples = [s for r in results for s in r.samples]
    orders = [s for s in samples if s.kind == "order"]
    payments = [s for s in samples if s.kind == "payment"]
    accepted = [s for s in orders if s.status == 201]
    sold_out = [s for s in orders if s.status == 409 and s.code == "sold_out"]
    paid = [s for s in payments if s.status == 201]
    others = collections.Counter(
        (s.kind, s.status, s.code)
        for s in samples
        if not (s.status == 201 or (s.kind == "order" and s.status == 409 and s.code == "sold_out"))
    )
    last_checkout = max((s.sent_s + s.latency_s for s in paid), default=0.0)
    first_sold_out = min((s.sent_s + s.latency_s for s in sold_out), default=float("nan"))
    checkouts_per_s = len(paid) / last_checkout if last_checkout else 0.0
    capacity = facts["capacity"]
    oversold = max(
        0,
        facts["held_or_confirmed"] - capacity,
        facts["orders"] - capacity,
        facts["taken"] - capacity,
        len(accepted) - capacity,
    )

    _log(f"results ({len(samples)} requests in {wall:.2f} s = {len(samples) / wall:,.0f}/s):")
    _log(f"  buyers served: {len(orders)} of {args.buyers}; places {capacity}")
    _log(f"  orders accepted (201): {len(accepted)}; sold_out (409): {len(sold_out)}")
    _log(f"  payments started (201): {len(paid)} of {len(payments)} tried")
    _log(f"  other answers: {dict(others) or 'none'}")
    _log(f"  order creation, accepted:  {_latency(accepted)}")
    _log(f"  order creation, sold_out:  {_latency(sold_out)}")
    _log(f"  order creation, all:       {_latency(orders)}")
    _log(f"  payment creation:          {_latency(payments)}")
    _log(
        f"  checkouts (order 201 + payment 201): {len(paid)} by {last_checkout:.2f} s = "
        f"{checkouts_per_s:,.0f}/s; first sold_out answered at {first_sold_out:.2f} s"
    )
    _log(f"  {cpu}")
    _log(
        "database: "
        f"capacity {capacity}, stock taken {facts['taken']}, places held/confirmed "
        f"{facts['held_or_confirmed']}, orders {facts['orders']}, payments {facts['payments']}, "
        f"buyers with two orders {facts['buyers_twice']}; GET /v1/events places_left "
        f"{places_left}"
    )

    failures, warnings = [], []
    if oversold:
        failures.append(f"oversold by {oversold}")
    if facts["taken"] != facts["held_or_confirmed"]:
        failures.append(
            f"stock taken {facts['taken']} != places held/confirmed {facts['held_or_confirmed']}"
        )
    if facts["orders"] != len(accepted):
        failures.append(
            f"{len(accepted)} orders answered 201 but {facts['orders']} in the database"
        )
    if facts["buyers_twice"]:
        failures.append(f"{facts['buyers_twice']} buyers hold two orders")
    if len(orders) >= capacity and len(accepted) < capacity:
        warnings.append(
            f"only {len(accepted)} of {capacity} places were sold to {len(orders)} buyers"
        )
    if len(orders) < args.buyers:
        warnings.append(
            f"stopped after {args.stop_after:.0f} s (--stop-after): {len(orders)} of "
            f"{args.buyers} buyers were served"
        )
    if wall > args.budget:
        warnings.append(f"the run took {wall:.1f} s, over the {args.budget:.0f} s budget")
    if others:
        warnings.append(f"answers other than 201 and sold_out: {dict(others)}")
    errors = [e for r in results for e in r.errors]
    if errors:
        warnings.append(f"{len(errors)} client errors, e.g. {errors[:3]}")
    for warning in warnings:
        _log(f"WARNING: {warning}")
    for failure in failures:
        _log(f"FAIL: {failure}")

    order_ms = [s.latency_s for s in orders]
    summary = (
        f"registration_rush checkouts_per_s={checkouts_per_s:.0f} "
        f"order_p50_ms={_pct(order_ms, 0.5):.1f} order_p99_ms={_pct(order_ms, 0.99):.1f} "
        f"accepted={len(accepted)} sold_out={len(sold_out)} oversold={oversold} "
        f"requests_per_s={len(samples) / wall:.0f} seconds={wall:.1f}"
    )
    return summary, failures


# ------------------------------------------------------------------------------ run


def run(args: argparse.Namespace, database_url: str, workdir: Path) -> str:
    server_port, sandbox_port = _free_port(), _free_port()
    env = _service_env(database_url, server_port, sandbox_port)
    base_url = f"http://127.0.0.1:{server_port}"
    eventpay = str(VENV / "bin" / "eventpay")
    _log(
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} before the run"
    )
    subprocess.run([eventpay, "seed"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)

    sandbox_cmd = [eventpay, "sandbox", "stripe", "--port", str(sandbox_port)]
    serve_cmd = [eventpay, "serve", "--workers", str(args.workers)]
    serve_cmd += ["--host", "127.0.0.1", "--port", str(server_port)]
    if args.profile is not None:
        python = str(VENV / "bin" / "python")
        serve_cmd = [python, "-c", _PROFILED_SERVER, str(args.profile), "127.0.0.1"]
        serve_cmd.append(str(server_port))
    sandbox_url = f"http://127.0.0.1:{sandbox_port}/v1/balance"
    with (
        _running(sandbox_cmd, env, workdir / "sandbox.log", sandbox_url, "the sandbox") as sandbox,
        _running(
            serve_cmd, env, workdir / "server.log", base_url + "/healthz", "the server"
        ) as srv,
    ):
        _log(
            f"server: eventpay serve --workers {args.workers}"
            f"{' (one process under cProfile)' if args.profile else ''}; "
            "Stripe sandbox (no added latency) "
            f"delivering its webhooks to the server; rate limits raised to {RAISED_RATE_LIMIT:,} "
            "per minute (EVENTPAY_RATE_LIMIT_PER_MINUTE, EVENTPAY_RATE_LIMIT_WRITES_PER_MINUTE)"
        )
        event_id, class_id = create_event(base_url, places=args.places)
        _log(f"event {event_id}: one class {class_id} with {args.places} places, open now")

        minted = _T()
        buyers = [
            (
                f"rush-buyer-{n}",
                issue_token(
                    key=JWT_KEY, algorithm="HS256", subject=f"rush-buyer-{n}", role=Role.COMPETITOR
                ),
            )
            for n in range(args.buyers)
        ]
        _log(f"minted {len(buyers)} buyer tokens in {_T() - minted:.1f} s")
        per_client = [
            args.concurrency // args.clients + (i < args.concurrency % args.clients)
            for i in range(args.clients)
        ]
        jobs = [
            ClientJob(
                host="127.0.0.1",
                port=server_port,
                event_id=event_id,
                class_id=class_id,
                buyers=buyers[i :: args.clients],
                connections=connections,
                idempotency_keys=not args.no_idempotency_keys,
                stop_after_s=args.stop_after,
            )
            for i, connections in enumerate(per_client)
        ]
        _log(
            f"load: {args.buyers} buyers over {args.concurrency} keep-alive connections in "
            f"{args.clients} client process(es); Idempotency-Key "
            f"{'off' if args.no_idempotency_keys else 'on every POST'}"
        )
        postmaster = cpu_usage.postmaster_pid(database_url)
        marks: list[tuple[cpu_usage.CpuSnapshot, float]] = []

        def mark() -> None:
            snapshot = cpu_usage.snapshot(server_group=srv.pid, postmaster=postmaster)
            marks.append((snapshot, _group_cpu_s(sandbox.pid)))

        results, wall = run_clients(jobs, mark)
        (before, sandbox_before), (after, sandbox_after) = marks
        sandbox_s = sandbox_after - sandbox_before
        places_left = _places_left(base_url, event_id, class_id)
    if args.profile is not None:
        _print_profile(args.profile)
    requests = sum(len(r.samples) for r in results)
    cpu = _cpu_split(
        before,
        after,
        sandbox_s=sandbox_s,
        loadgen_s=sum(r.cpu_s for r in results),
        requests=requests,
    )
    facts = database_facts(database_url, event_id, class_id)
    _log(f"database: {facts['database']}")
    summary, failures = report(results, wall, facts, args=args, cpu=cpu, places_left=places_left)
    if failures:
        print(summary, flush=True)
        raise SystemExit(1)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=20_000, help="distinct buyers")
    parser.add_argument("--places", type=int, default=500, help="capacity of the class")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--concurrency", type=int, default=200, help="concurrent connections")
    parser.add_argument("--clients", type=int, default=1, help="load generator processes")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds the rush may take")
    parser.add_argument(
        "--stop-after",
        type=float,
        default=300.0,
        help="seconds after which no new buyer is started (a run past --budget goes on, and "
        "says so, until then)",
    )
    parser.add_argument(
        "--no-idempotency-keys",
        action="store_true",
        help="post without Idempotency-Key headers (default: a fresh key on every POST)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 buyers for 50 places"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run one server process under cProfile (all threads), write its stats to FILE and "
        "print the top functions; the figures of such a run are not comparable",
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.workers = 1
    if args.quick:
        args.buyers, args.places = 2_000, 50
    if min(args.buyers, args.places, args.concurrency, args.clients, args.workers) < 1:
        parser.error("counts must be positive")

    with tempfile.TemporaryDirectory(prefix="eventpay-rush-") as workdir:
        external = os.environ.get("EVENTPAY_DATABASE_URL")
        with contextlib.ExitStack() as stack:
            if external:
                database_url = external
            else:
                _log("starting a throwaway PostgreSQL cluster (fsync on) ...")
                database_url = stack.enter_context(throwaway_cluster(fsync=True))
            migrate(database_url)
            summary = run(args, database_url, Path(workdir))
    print(summary, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
