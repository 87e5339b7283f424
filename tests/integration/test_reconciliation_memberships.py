"""Membership charges reconcile the same both ways, on SQLite and PostgreSQL.

A Stripe subscription's invoice is paid by a charge Stripe's balance lists; a PayPal
subscription's sale is listed by PayPal's transaction search. Our side of each is the
`membership_charges` row the provider's events recorded. The bulk comparison (in the database)
and the movement-by-movement one (`bulk=False`) must both find them ours: clean, the same counts,
the same mismatches; so too for a charge older than the period (found by its id) and for one we
recorded under an id the provider does not know (named on both sides).

The Stripe sandbox is this module's own and reset for each test, so its balance holds only what
the test did; each PayPal test gets its own PayPal sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain.reconciliation import MismatchKind
from eventpay.ports import ProviderName, ReconciliationRun
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.services import reconciliation
from eventpay.web import create_app
from eventpay.worker import Worker
from support.api import bearer, confirm_at_sandbox
from support.events import signed_headers
from support.paypal_stack import paypal_stack
from support.stack import WEBHOOK_SECRET, make_settings, seeded_container

KEY = ("sk_test_lookup", "")
RETURN = "https://app.example.test/membership"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with BackgroundServer(create_sandbox(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def own(database_url: str, sandbox: str) -> Iterator[Container]:
    httpx.post(f"{sandbox}/_sandbox/reset").raise_for_status()
    with seeded_container(make_settings(database_url, sandbox)) as built:
        yield built


def _both(c: Container, provider: ProviderName, since: datetime) -> ReconciliationRun:
    """Both ways, which must agree; the bulk run."""
    bulk, paged = (
        reconciliation.reconcile(
            uow_factory=c.uow_factory,
            providers=c.providers,
            provider=provider,
            since=since,
            now=datetime.now(UTC) + timedelta(seconds=5),
            bulk=bulk,
        )
        for bulk in (True, False)
    )
    assert (paged.ours, paged.theirs, paged.mismatches) == (
        bulk.ours,
        bulk.theirs,
        bulk.mismatches,
    )
    return bulk


def _sql(c: Container, statement: str, **params: object) -> None:
    with c.engine.begin() as conn:
        conn.execute(text(statement), params)


def _charges(c: Container, provider: ProviderName) -> list[tuple[str, int, int | None]]:
    with c.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT ref, amount, fee FROM membership_charges WHERE provider = :p"),
            {"p": provider.value},
        ).all()
    return [(str(ref), int(amount), None if fee is None else int(fee)) for ref, amount, fee in rows]


def _deliver_all(client: TestClient, c: Container, sandbox: str) -> None:
    """Every event the sandbox emitted, signed, oldest first; then the worker applies them."""
    events = httpx.get(f"{sandbox}/v1/events", params={"limit": 100}, auth=KEY).json()["data"]
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        body = httpx.Request("POST", "http://x", json=event).content
        answer = client.post(
            "/v1/webhooks/stripe",
            content=body,
            headers=signed_headers(body, WEBHOOK_SECRET, timestamp=int(c.clock().timestamp())),
        )
        assert answer.is_success, answer.text
    Worker(c).run_once()
    with c.engine.connect() as conn:
        stuck = conn.execute(
            text("SELECT type, last_error FROM webhook_events WHERE status = 'failed'")
        ).all()
    assert stuck == [], stuck


def _stripe_member(c: Container, sandbox: str, user: str) -> str:
    """A Stripe subscription paid by card, its events delivered, its charge's fee booked by
    the janitor; the charge's id."""
    with TestClient(create_app(container=c), raise_server_exceptions=False) as client:
        started = client.post(
            "/v1/me/membership", json={"tier": "pro", "provider": "stripe"}, headers=bearer(user)
        )
        assert started.status_code == 201, started.text
        confirmed = confirm_at_sandbox(sandbox, started.json()["client_secret"], "pm_card_visa")
        assert confirmed.is_success, confirmed.text
        _deliver_all(client, c, sandbox)
        mine = client.get("/v1/me/membership", headers=bearer(user)).json()["membership"]
    assert mine["status"] == "active", mine
    Worker(c).run_janitor()
    ((charge, _, fee),) = _charges(c, ProviderName.STRIPE)
    assert fee is not None  # booked
    assert fee > 0
    return charge


def test_a_stripe_membership_charge_is_ours_both_ways(own: Container, sandbox: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    charge = _stripe_member(own, sandbox, "member-reconciled")

    run = _both(own, ProviderName.STRIPE, since)
    assert (run.ours, run.theirs, run.mismatches) == (1, 1, [])

    # Recorded before the period: Stripe still lists it, and it is found by its id.
    _sql(own, "UPDATE membership_charges SET created_at = :at", at=since - timedelta(days=40))
    run = _both(own, ProviderName.STRIPE, since)
    assert (run.ours, run.theirs, run.mismatches) == (1, 1, [])

    # Recorded in the period under an id Stripe does not know: named on both sides.
    _sql(own, "UPDATE membership_charges SET created_at = :at, ref = 'ch_unknown'", at=since)
    run = _both(own, ProviderName.STRIPE, since)
    assert sorted((m.kind, m.ref) for m in run.mismatches) == sorted(
        [(MismatchKind.MISSING_HERE, charge), (MismatchKind.MISSING_THERE, "ch_unknown")]
    )


def _until(c: Container, check: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        Worker(c).run_once()
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_paypal_subscription_sale_is_ours_both_ways(
    database_url: str, stripe_sandbox: str
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    with paypal_stack(database_url, stripe_sandbox, webhook_id="WH-RECONCILE-MEMBERS") as stack:
        api, paypal, c = stack
        started = api.post(
            "/v1/me/membership",
            json={"tier": "pro", "provider": "paypal", "return_url": RETURN},
            headers=bearer("paypal-reconciled"),
        )
        assert started.status_code == 201, started.text
        with c.engine.connect() as conn:
            sub_id = conn.execute(
                text("SELECT provider_subscription_id FROM membership_subscriptions")
            ).scalar_one()
        approved = httpx.post(f"{paypal}/_sandbox/billing/subscriptions/{sub_id}/approve")
        assert approved.is_success, approved.text
        _until(c, lambda: len(_charges(c, ProviderName.PAYPAL)) == 1, "the sale recorded")
        ((_, _, fee),) = _charges(c, ProviderName.PAYPAL)
        assert fee is not None  # booked with the sale
        assert fee > 0

        run = _both(c, ProviderName.PAYPAL, since)
        assert (run.ours, run.theirs, run.mismatches) == (1, 1, [])
