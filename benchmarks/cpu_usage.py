"""Where the CPU went during a benchmark phase: server, PostgreSQL, load generator, the rest.

On a small machine the load generator and the database share the cores with the server, and
other work on the machine (a test run, a build) takes its share too. Reading CPU time per
process group from /proc (Linux only) turns a throughput figure into a cost per request that
can be compared across runs, and shows when a run was disturbed by others.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSnapshot:
    server_s: float
    postgres_s: float
    children_s: float  # reaped children of this process: the load generator once it exited
    machine_busy_s: float
    taken_at: float


def _stat(pid: int) -> tuple[int, int, float] | None:
    """(ppid, process group, user+system seconds) of `pid`, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / _TICK


def _machine_busy_s() -> float:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK


def postmaster_pid(database_url: str) -> int | None:
    """The postmaster of a local cluster whose socket folder is in the URL (scripts/pg's)."""
    _, _, query = database_url.partition("?")
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    host = params.get("host", "")
    pid_file = Path(host) / "data" / "postmaster.pid"
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def snapshot(*, server_group: int | None, postmaster: int | None) -> CpuSnapshot:
    server = postgres = 0.0
    if Path("/proc/stat").exists():
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            stat = _stat(int(entry.name))
            if stat is None:
                continue
            ppid, group, seconds = stat
            if server_group is not None and group == server_group:
                server += seconds
            elif postmaster is not None and postmaster in (int(entry.name), ppid):
                postgres += seconds
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        server_s=server,
        postgres_s=postgres,
        children_s=children.ru_utime + children.ru_stime,
        machine_busy_s=_machine_busy_s() if Path("/proc/stat").exists() else 0.0,
        taken_at=time.monotonic(),
    )


def describe(before: CpuSnapshot, after: CpuSnapshot, *, requests: int) -> str:
    """`server 0.31 + postgres 0.12 + loadgen 0.05 + other 0.02 ms CPU per request (...)`.

    The window is from snapshot to snapshot, so it includes the load generator's start-up.
    """
    seconds = after.taken_at - before.taken_at
    if requests <= 0 or seconds <= 0 or after.machine_busy_s == 0.0:
        return "CPU use not available"
    server = after.server_s - before.server_s
    postgres = after.postgres_s - before.postgres_s
    loadgen = after.children_s - before.children_s
    other = max(0.0, after.machine_busy_s - before.machine_busy_s - server - postgres - loadgen)
    cores = os.cpu_count() or 1
    per_request = " + ".join(
        f"{name} {1e3 * value / requests:.3f}"
        for name, value in (
            ("server", server),
            ("postgres", postgres),
            ("loadgen", loadgen),
            ("other", other),
        )
    )
    busy = (after.machine_busy_s - before.machine_busy_s) / (seconds * cores)
    return (
        f"CPU ms per request: {per_request}; machine {100 * busy:.0f}% busy, "
        f"other processes {100 * other / (seconds * cores):.0f}% of {cores} cores"
    )
