"""`eventpay webhooks list|replay` and `eventpay worker --once` on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eventpay.cli import main
from eventpay.ports import WebhookStatus
from eventpay.sample_data import MEMBER_ID
from eventpay.web import create_app
from support.api import bearer, create_order, start_payment
from support.events import payment_intent_event, signed_headers
from support.stack import WEBHOOK_SECRET, fresh_sqlite, make_settings, seeded_container


def test_dead_letter_is_visible_and_replayable(
    sqlite_template_path: Path,
    tmp_path: Path,
    stripe_sandbox: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = fresh_sqlite(sqlite_template_path, tmp_path)
    settings = make_settings(url, stripe_sandbox, worker_max_attempts=1)
    # Money for an intent nobody here created: it must reach a person, not vanish.
    body = payment_intent_event(
        "payment_intent.succeeded", intent_id="pi_nobody_knows", event_id="evt_orphan"
    )
    with seeded_container(settings) as container, TestClient(create_app(container=container)) as c:
        assert c.post(
            "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
        ).is_success
    for name, value in {
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_DATABASE_URL": url,
        "EVENTPAY_STRIPE_API_BASE": stripe_sandbox,
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "EVENTPAY_WORKER_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)

    assert main(["worker", "--once"]) == 0
    assert "handled 1 events" in capsys.readouterr().out
    assert main(["webhooks", "list", "--status", "dead"]) == 0
    listed = capsys.readouterr().out
    assert "evt_orphan" in listed
    assert "UnmatchedPayment" in listed
    row_id = listed.split()[0]

    assert main(["webhooks", "replay", "--queue-only", row_id]) == 0
    assert "queued for replay" in capsys.readouterr().out
    assert main(["webhooks", "list", "--status", "pending"]) == 0
    assert "evt_orphan" in capsys.readouterr().out
    assert main(["webhooks", "replay", "no-such-row"]) == 1

    # Without --queue-only the event is applied right here; it fails again, and says why.
    assert main(["webhooks", "replay", row_id]) == 1
    assert f"{row_id} stripe evt_orphan failed (dead): UnmatchedPayment" in capsys.readouterr().out
    assert main(["webhooks", "list", "--status", "dead"]) == 0
    assert "attempts=2" in capsys.readouterr().out


def test_replay_applies_the_event_with_no_worker_running(
    sqlite_template_path: Path,
    tmp_path: Path,
    stripe_sandbox: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = fresh_sqlite(sqlite_template_path, tmp_path)
    settings = make_settings(url, stripe_sandbox, paypal_enabled=False)
    with seeded_container(settings) as container, TestClient(create_app(container=container)) as c:
        order = create_order(c, MEMBER_ID)
        payment = start_payment(c, MEMBER_ID, order["id"])
        body = payment_intent_event(
            "payment_intent.succeeded",
            intent_id=payment["client_secret"].split("_secret_")[0],
            amount=order["total"]["amount"],
            event_id="evt_paid_while_no_worker_ran",
        )
        assert c.post(
            "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
        ).is_success
        with container.uow_factory() as uow:
            (stored,) = uow.webhooks.list(status=WebhookStatus.PENDING, limit=10)
    for name, value in {
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_DATABASE_URL": url,
        "EVENTPAY_STRIPE_API_BASE": stripe_sandbox,
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "EVENTPAY_PAYPAL_ENABLED": "false",
    }.items():
        monkeypatch.setenv(name, value)

    assert main(["webhooks", "replay", stored.id]) == 0

    last_line = capsys.readouterr().out.splitlines()[-1]  # structlog shares stdout
    assert last_line == f"{stored.id} stripe evt_paid_while_no_worker_ran processed"
    with seeded_container(settings) as container, TestClient(create_app(container=container)) as c:
        paid = c.get(f"/v1/orders/{order['id']}", headers=bearer(MEMBER_ID)).json()
    assert paid["status"] == "paid"
