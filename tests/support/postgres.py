"""Throwaway PostgreSQL clusters for tests and benchmarks, via `scripts/pg hold`.

`throwaway_cluster()` starts a private cluster (data, log and unix socket in a temporary folder,
no TCP), yields a SQLAlchemy URL for its `eventpay_test` database, and stops and deletes it on
exit, also when the body raises. scripts/pg is the one implementation; this module only drives
it. The cluster is owned by a `scripts/pg hold` process in its own session that stops it when
its stdin closes, so a test run killed by SIGTERM or SIGKILL leaves no server behind either.
Nothing here imports SQLAlchemy or psycopg.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["PG_SCRIPT", "PostgresUnavailableError", "throwaway_cluster"]

PG_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg"
_STOP_TIMEOUT_S = 60.0


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


def _text(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace").strip()


@contextmanager
def throwaway_cluster(fsync: bool = False) -> Iterator[str]:
    """Run a private PostgreSQL cluster for the duration of the block; yield its SQLAlchemy URL.

    fsync=False is for tests only; benchmarks that measure durable storage pass fsync=True.
    """
    command = [str(PG_SCRIPT), "hold", *(["--fsync"] if fsync else [])]
    with tempfile.TemporaryFile() as log:
        holder = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        assert holder.stdin is not None
        assert holder.stdout is not None
        url: str | None = None
        try:
            # `hold` closes its stdout once the cluster is up, or when starting it failed.
            with holder.stdout:
                output = holder.stdout.read().decode()
            url = _parse_exports(output).get("EVENTPAY_TEST_POSTGRES_URL")
            if url is None:
                raise PostgresUnavailableError(f"{shlex.join(command)} failed:\n{_text(log)}")
            yield url
        finally:
            holder.stdin.close()  # EOF: the holder stops the cluster and deletes its folder
            try:
                status = holder.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                holder.terminate()
                status = holder.wait()
            if status != 0 and url is not None:
                warnings.warn(
                    f"{shlex.join(command)} ended with exit {status}:\n{_text(log)}",
                    RuntimeWarning,
                    stacklevel=2,
                )
