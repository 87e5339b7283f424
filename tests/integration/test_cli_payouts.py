"""`eventpay payouts run [--dry-run]` on a real SQLite database against both sandboxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventpay.cli import main
from eventpay.ports import Principal, Role
from eventpay.sample_ids import PAYOUT_EVENT, PAYOUT_ORGANIZER_ID
from eventpay.services import payouts
from support.paid_orders import paid_order
from support.stack import WEBHOOK_SECRET, fresh_sqlite, make_settings, seeded_container

ADMIN = Principal(user_id="ops", role=Role.ADMIN)


def test_a_dry_run_plans_and_a_run_pays_once_per_period(
    sqlite_template_path: Path,
    tmp_path: Path,
    stripe_sandbox: str,
    paypal_sandbox: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = fresh_sqlite(sqlite_template_path, tmp_path)
    settings = make_settings(url, stripe_sandbox, paypal_api_base=paypal_sandbox)
    with seeded_container(settings) as c:
        paid_order(c, stripe_sandbox, event_id=PAYOUT_EVENT, class_id=f"{PAYOUT_EVENT}-spl")
        payouts.release_reserve(
            uow_factory=c.uow_factory,
            caller=ADMIN,
            event_id=PAYOUT_EVENT,
            reason="t",
            now=c.clock(),
        )
    for name, value in {
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_DATABASE_URL": url,
        "EVENTPAY_STRIPE_API_BASE": stripe_sandbox,
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "EVENTPAY_PAYPAL_API_BASE": paypal_sandbox,
    }.items():
        monkeypatch.setenv(name, value)

    assert main(["payouts", "run", "--dry-run", "--period", "2026-w49"]) == 0
    dry = capsys.readouterr()
    assert "dry run, nothing written" in dry.out
    assert PAYOUT_ORGANIZER_ID in dry.out
    assert "1 payouts, would pay" in dry.out
    assert "organizer balances" in dry.err  # the progress bar

    assert main(["payouts", "run", "--period", "2026-w49", "--quiet"]) == 0
    paid = capsys.readouterr().out
    assert "created po_" in paid
    assert "sent 1, failed 0, awaiting retry 0" in paid

    assert main(["payouts", "run", "--period", "2026-w49", "--quiet"]) == 0
    again = capsys.readouterr().out
    assert "0 payouts, paying nothing" in again
    assert main(["payouts", "run", "--period", "bad period"]) == 2
    assert "payouts run refused" in capsys.readouterr().err
