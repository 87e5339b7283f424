"""`eventpay serve` and `eventpay worker` as an operator starts them: real processes.

They refuse a database that is not at this code's schema with one line and exit status 2
(before, the worker logged `no such table` every second, forever, and serve answered 500s), and
the worker stops cleanly on SIGTERM, as systemd and Kubernetes stop it. `eventpay seed` gives a
trial deployment the sample catalog the self-test drives.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from eventpay.cli import main
from eventpay.db import migrate
from eventpay.db.schema_check import code_heads, schema_problem
from eventpay.sample_ids import MEMBER_ID, OPEN_EVENT
from support.net import free_port
from support.stack import fresh_sqlite

START_TIMEOUT_S = 60


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTPAY_")}
    env.update(
        EVENTPAY_ENVIRONMENT="test",
        EVENTPAY_DATABASE_URL=database_url,
        EVENTPAY_PORT=str(free_port()),
        # Nothing listens there: a worker that starts must not need a provider to idle.
        EVENTPAY_STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
        EVENTPAY_PAYPAL_API_BASE=f"http://127.0.0.1:{free_port()}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _eventpay(*argv: str) -> list[str]:
    return [sys.executable, "-m", "eventpay.cli", *argv]


def _refused(command: str, database_url: str) -> str:
    """Run the command; it must exit 2 at once with exactly one line on stderr, returned."""
    done = subprocess.run(
        _eventpay(command),
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,  # a command that starts anyway never returns: the test fails
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"eventpay {command}: database "), done.stderr
    return done.stderr


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_an_empty_sqlite_database_is_refused(command: str, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()

    line = _refused(command, f"sqlite:///{path}")

    assert "has no eventpay schema: run `eventpay migrate` first" in line


def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "eventpay.db"

    line = _refused("worker", f"sqlite:///{path}")

    assert "does not exist: run `eventpay migrate` first" in line
    assert not path.exists()


def test_a_database_behind_the_code_is_refused_with_both_revisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate(url, "0001")

    line = _refused("worker", url)

    assert f"is at revision 0001, this code needs {', '.join(sorted(code_heads(url)))}" in line
    assert line.rstrip().endswith("run `eventpay migrate` first")


@pytest.fixture
def fresh_postgres_database(postgres_url: str) -> Iterator[str]:
    """A new, never migrated database in the test cluster; dropped afterwards."""
    name = f"eventpay_unmigrated_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_postgres_refused_until_migrated(fresh_postgres_database: str) -> None:
    line = _refused("worker", fresh_postgres_database)
    assert "has no eventpay schema: run `eventpay migrate` first" in line

    migrate(fresh_postgres_database)

    assert schema_problem(fresh_postgres_database) is None


def _lines(stream: Iterator[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    while not any(text in line for line in seen):
        try:
            seen.append(lines.get(timeout=START_TIMEOUT_S))
        except queue.Empty:
            pytest.fail(f"no {text!r} within {START_TIMEOUT_S}s; output: {''.join(seen)}")


def test_the_worker_stops_cleanly_on_sigterm(sqlite_template_path: Path, tmp_path: Path) -> None:
    url = fresh_sqlite(sqlite_template_path, tmp_path)
    assert schema_problem(url) is None
    worker = subprocess.Popen(
        _eventpay("worker"),
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        lines, seen = _lines(worker.stdout), []
        _wait_for(lines, "worker.started", seen)

        worker.send_signal(signal.SIGTERM)

        assert worker.wait(timeout=START_TIMEOUT_S) == 0, "".join(seen)
        _wait_for(lines, "worker.stopped", seen)
        assert "Traceback" not in "".join(seen)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_seed_adds_the_sample_catalog_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'trial.db'}"
    migrate(url)
    for name, value in _env(url).items():
        monkeypatch.setenv(name, value)

    assert main(["seed"]) == 0
    assert main(["seed"]) == 0

    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith(f"sample catalog: 7 events added ({OPEN_EVENT}, ")
    assert second == f"sample catalog: 0 events added (all there), member {MEMBER_ID}"
