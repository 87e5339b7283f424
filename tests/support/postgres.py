"""Throwaway PostgreSQL clusters for tests and benchmarks, via scripts/pg.

`throwaway_cluster()` starts a private cluster (data, log and unix socket in a temporary folder,
no TCP), yields a SQLAlchemy URL for its `eventpay_test` database, and stops and deletes it on
exit, also when the body raises. scripts/pg is the one implementation; this module only drives
it. Nothing here imports SQLAlchemy or psycopg.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PG_SCRIPT", "PostgresUnavailableError", "throwaway_cluster"]

PG_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg"


class PostgresUnavailableError(RuntimeError):
    """scripts/pg could not start a cluster (no server installed, initdb failed, ...)."""


def _parse_exports(output: str) -> dict[str, str]:
    exports: dict[str, str] = {}
    for line in output.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            exports[name] = value
    return exports


@contextmanager
def throwaway_cluster(fsync: bool = False) -> Iterator[str]:
    """Run a private PostgreSQL cluster for the duration of the block; yield its SQLAlchemy URL.

    fsync=False is for tests only; benchmarks that measure durable storage pass fsync=True.
    """
    command = [str(PG_SCRIPT), "start", *(["--fsync"] if fsync else [])]
    started = subprocess.run(command, capture_output=True, text=True, check=False)
    if started.returncode != 0:
        raise PostgresUnavailableError(
            f"{shlex.join(command)} failed (exit {started.returncode}):\n{started.stderr.strip()}"
        )
    exports = _parse_exports(started.stdout)
    pg_dir = exports.get("EVENTPAY_PG_DIR", "")
    try:
        url = exports["EVENTPAY_TEST_POSTGRES_URL"]
        yield url
    finally:
        if pg_dir:
            stopped = subprocess.run(
                [str(PG_SCRIPT), "stop", pg_dir],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "EVENTPAY_PG_DIR": pg_dir},
            )
            if stopped.returncode != 0:
                warnings.warn(
                    f"scripts/pg stop {pg_dir} failed: {stopped.stderr.strip()}",
                    RuntimeWarning,
                    stacklevel=2,
                )
