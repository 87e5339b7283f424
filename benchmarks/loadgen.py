"""Load generators for the benchmarks: `wrk` driven by a Lua script, or a Python fallback.

Both replay pre-built requests from files of `<Stripe-Signature>\\t<body>` lines (one file per
wrk thread or client process, so no two senders share an event) and return a `PhaseResult`:
throughput, latency percentiles, and every answered webhook with its outcome, so the caller can
check each acknowledged event against the database. Requests still in flight when a phase ends
are abandoned by both tools: they may be stored but were never acknowledged.

Nothing here knows eventpay beyond the webhook route's JSON answer.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import multiprocessing
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

WEBHOOK_PATH = "/v1/webhooks/stripe"
CEILING_PATH = "/healthz"
_ACK = re.compile(rb'"event_id":"([^"]+)","duplicate":(true|false)')


@dataclass
class PhaseResult:
    tool: str
    duration_s: float
    requests: int
    p50_ms: float
    p99_ms: float
    socket_errors: int = 0
    non_2xx: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unparsed: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def stored_per_s(self) -> float:
        return len(self.stored) / self.duration_s if self.duration_s else 0.0


def _read_acks(paths: list[Path], result: PhaseResult) -> None:
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_bytes().splitlines():
            kind, _, rest = line.partition(b" ")
            if kind == b"status":
                result.statuses[int(rest)] += 1
            elif kind == b"ack":
                result.statuses[200] += 1
                event_id, _, duplicate = rest.partition(b" ")
                if duplicate == b"true":
                    result.duplicates.append(event_id.decode())
                elif duplicate == b"false":
                    result.stored.append(event_id.decode())
                else:
                    result.unparsed += 1


# ------------------------------------------------------------------------------------------ wrk

_WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""

# Each wrk thread loads its own file and formats every request once, up front, so the timed
# part does no Lua string building; answers are appended to a per-thread file, line-buffered
# because wrk exits without closing Lua files.
_WRK_WEBHOOK = (
    r"""
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local reqs, n, i, acks = {}, 0, 0, nil

function init(args)
  local prefix = args[1]
  local f = assert(io.open(prefix .. "-" .. tid .. ".txt", "rb"))
  for line in f:lines() do
    local tab = line:find("\t", 1, true)
    n = n + 1
    reqs[n] = wrk.format("POST", "__PATH__", {
      ["Content-Type"] = "application/json",
      ["Stripe-Signature"] = line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
  f:close()
  acks = assert(io.open(prefix .. "-" .. tid .. ".acks", "w"))
  acks:setvbuf("line")
end

function request()
  -- Past the end the pool wraps; the repeats come back as duplicates and are not counted.
  i = i % n + 1
  return reqs[i]
end

function response(status, headers, body)
  if status == 200 then
    local id, dup = body:match('"event_id":"([^"]+)","duplicate":(%a+)')
    acks:write("ack ", id or "?", " ", dup or "?", "\n")
  else
    acks:write("status ", status, "\n")
  end
end
""".replace("__PATH__", WEBHOOK_PATH)
) + _WRK_DONE


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _run_wrk(
    *, url: str, script: Path, threads: int, connections: int, duration_s: int, args: list[str]
) -> PhaseResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
        *(["--", *args] if args else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    requests, duration_us, connect, read, write, timeout, status, p50_us, p99_us = map(
        int, line.split()[1:]
    )
    return PhaseResult(
        "wrk",
        duration_us / 1e6,
        requests,
        p50_us / 1e3,
        p99_us / 1e3,
        socket_errors=connect + read + write + timeout,
        non_2xx=status,
    )


def wrk_ceiling(
    *, base_url: str, workdir: Path, threads: int, connections: int, duration_s: int
) -> PhaseResult:
    script = workdir / "ceiling.lua"
    script.write_text(_WRK_DONE)
    return _run_wrk(
        url=base_url + CEILING_PATH,
        script=script,
        threads=threads,
        connections=connections,
        duration_s=duration_s,
        args=[],
    )


def wrk_webhooks(
    *, base_url: str, prefix: Path, threads: int, connections: int, duration_s: int
) -> PhaseResult:
    script = prefix.parent / "webhooks.lua"
    script.write_text(_WRK_WEBHOOK)
    result = _run_wrk(
        url=base_url + WEBHOOK_PATH,
        script=script,
        threads=threads,
        connections=connections,
        duration_s=duration_s,
        args=[str(prefix)],
    )
    _read_acks([Path(f"{prefix}-{t}.acks") for t in range(threads)], result)
    return result


# ------------------------------------------------------------------------ Python fallback


def _raw_requests(lines_file: Path | None, host: str, port: int) -> list[bytes]:
    if lines_file is None:
        return [f"GET {CEILING_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()]
    requests = []
    for line in lines_file.read_bytes().splitlines():
        signature, _, body = line.partition(b"\t")
        head = (
            f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nStripe-Signature: {signature.decode()}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _connection(
    host: str,
    port: int,
    requests: itertools.cycle[bytes],
    latencies: list[float],
    answers: list[tuple[int, bytes]],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            started = time.perf_counter()
            writer.write(next(requests))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for header in head.split(b"\r\n")[1:]:
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            answers.append((status, body))
    finally:
        writer.close()


async def _client(
    host: str, port: int, requests: list[bytes], connections: int, duration_s: float
) -> tuple[float, list[float], list[tuple[int, bytes]], int]:
    latencies: list[float] = []
    answers: list[tuple[int, bytes]] = []
    cycle = itertools.cycle(requests)
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(_connection(host, port, cycle, latencies, answers))
        for _ in range(connections)
    ]
    await asyncio.sleep(duration_s)
    elapsed = time.perf_counter() - started
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    errors = sum(
        1
        for o in outcomes
        if isinstance(o, BaseException) and not isinstance(o, asyncio.CancelledError)
    )
    return elapsed, latencies, answers, errors


def _client_process(
    job: tuple[str, int, Path | None, int, float],
) -> tuple[float, list[float], list[tuple[int, bytes]], int]:
    host, port, lines_file, connections, duration_s = job
    requests = _raw_requests(lines_file, host, port)
    try:
        import uvloop

        return uvloop.run(_client(host, port, requests, connections, duration_s))
    except ImportError:
        return asyncio.run(_client(host, port, requests, connections, duration_s))


def python_phase(
    *,
    host: str,
    port: int,
    prefix: Path | None,
    processes: int,
    connections: int,
    duration_s: int,
) -> PhaseResult:
    """Run `processes` asyncio clients with `connections` split between them."""
    per_process = [
        connections // processes + (i < connections % processes) for i in range(processes)
    ]
    jobs = [
        (host, port, None if prefix is None else Path(f"{prefix}-{i}.txt"), c, float(duration_s))
        for i, c in enumerate(per_process)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        outputs = pool.map(_client_process, jobs)
    latencies = sorted(x for _, lats, _, _ in outputs for x in lats)
    duration = max(elapsed for elapsed, _, _, _ in outputs)

    def percentile(q: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3

    result = PhaseResult(
        "python-asyncio",
        duration,
        len(latencies),
        percentile(0.50),
        percentile(0.99),
        socket_errors=sum(e for *_, e in outputs),
    )
    for _, _, answers, _ in outputs:
        for status, body in answers:
            result.statuses[status] += 1
            result.non_2xx += not 200 <= status < 400
            if prefix is None or status != 200:
                continue
            match = _ACK.search(body)
            if match is None:
                result.unparsed += 1
            elif match.group(2) == b"true":
                result.duplicates.append(match.group(1).decode())
            else:
                result.stored.append(match.group(1).decode())
    return result
