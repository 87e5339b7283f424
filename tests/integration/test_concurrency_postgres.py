"""On PostgreSQL: one event delivered 50 times at once while two worker processes run.

Exactly one transition and one set of audit rows must result: the unique (provider, event id)
key decides which delivery is stored, and the workers' SKIP LOCKED claims plus row locks on the
payment decide who applies it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from eventpay.sample_data import MEMBER_ID
from eventpay.serving import ThreadedServer
from eventpay.web import create_app
from support.api import bearer, confirm_at_sandbox, registration
from support.events import signed_headers
from support.stack import WEBHOOK_SECRET, empty_postgres, make_settings, seeded_container

EVENTPAY = Path(sys.executable).parent / "eventpay"


@pytest.fixture
def pg_url(migrated_postgres: str) -> str:
    return empty_postgres(migrated_postgres)


def _worker_env(url: str, sandbox: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "EVENTPAY_ENVIRONMENT": "test",
            "EVENTPAY_DATABASE_URL": url,
            "EVENTPAY_STRIPE_API_BASE": sandbox,
            "EVENTPAY_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "EVENTPAY_WORKER_POLL_INTERVAL_S": "0.01",
        }
    )
    return env


@pytest.fixture
def two_workers(
    pg_url: str, stripe_sandbox: str, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    # Output goes to files, not pipes: an unread pipe fills up and blocks a chatty worker.
    # Both streams: the worker logs (structlog) to stdout, a crash's traceback goes to stderr.
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for log in logs:
            with log.open("wb") as sink:
                procs.append(
                    subprocess.Popen(
                        [str(EVENTPAY), "worker"],
                        env=_worker_env(pg_url, stripe_sandbox),
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
        # pytest shows what teardown prints only in a failing test's report.
        for log in logs:
            if log.exists():
                print(f"--- {log.name} ---\n{log.read_text(errors='replace')}")


def test_fifty_concurrent_deliveries_apply_once(
    pg_url: str, stripe_sandbox: str, two_workers: list[subprocess.Popen[bytes]]
) -> None:
    settings = make_settings(pg_url, stripe_sandbox)
    with (
        seeded_container(settings) as container,
        ThreadedServer(create_app(container=container)) as api,
    ):
        http = httpx.Client(base_url=api.url, timeout=30)
        order = http.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID)).json()
        payment = http.post(
            f"/v1/orders/{order['id']}/payments",
            json={"provider": "stripe"},
            headers=bearer(MEMBER_ID),
        ).json()
        assert (
            confirm_at_sandbox(stripe_sandbox, payment["client_secret"], "pm_card_visa").status_code
            == 200
        )
        intent_id = payment["client_secret"].split("_secret_")[0]
        events = httpx.get(
            f"{stripe_sandbox}/v1/events",
            params={"type": "payment_intent.succeeded", "limit": 100},
            auth=("sk_test_x", ""),
        ).json()["data"]
        (event,) = [e for e in events if e["data"]["object"]["id"] == intent_id]
        body = httpx.Request("POST", "http://x", json=event).content

        def deliver(_: int) -> int:
            return http.post(
                "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
            ).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(deliver, range(50)))
        assert statuses == [200] * 50

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            view = http.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
            if view["status"] == "paid":
                break
            time.sleep(0.1)
        assert view["status"] == "paid"
        assert all(proc.poll() is None for proc in two_workers), "a worker died"

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT status, attempts FROM webhook_events WHERE event_id = :e"),
            {"e": event["id"]},
        ).all()
        actions = (
            conn.execute(
                text("SELECT action FROM payment_audit_log WHERE order_id = :o ORDER BY id"),
                {"o": order["id"]},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert [tuple(row) for row in stored] == [("processed", 1)]
    assert actions.count("payment.succeeded") == 1
    assert actions.count("order.paid") == 1
    assert actions.count("registration.confirmed") == 1
