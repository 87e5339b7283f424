"""The books after everything else ran: balanced, matching every order, and paying organizers.

Runs last: by then the other scenarios have paid, refused, double-paid and refunded orders.
`ledger-verify` asks the service (as an admin) to check every ledger transaction and every
order's postings against its payments and refunds; a paid order in between must raise its
organizer's balance by exactly the order's net.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from eventpay.selftest.checks import Scenario, ScenarioFailed, expect
from eventpay.selftest.client import ServiceUnderTest
from eventpay.selftest.payment_scenarios import is_paid

ORGANIZER_ID = "org-bassline"  # the sample catalog's organizer


def _available(sut: ServiceUnderTest, currency: str) -> int:
    balances: dict[str, Any] = expect(sut.organizer_balance(ORGANIZER_ID), 200)
    for entry in balances.get("balances", []):
        if entry.get("currency") == currency:
            # What it is owed: available now, or held until its event's reserve ends.
            return int(entry["available"]["amount"]) + int(entry["held"]["amount"])
    return 0


def ledger_verify(sut: ServiceUnderTest) -> str:
    before = expect(sut.ledger_verify(), 200)
    if not before.get("clean"):
        raise ScenarioFailed(f"ledger not clean before: {before.get('problems')}")
    payment = sut.new_payment()
    order = sut.order(payment.order_id)
    currency, total = str(order["currency"]), int(order["total"]["amount"])
    was = _available(sut, currency)
    expect(sut.sandbox().confirm(payment.client_secret, "pm_card_visa"), 200)
    sut.wait_for_order(payment.order_id, is_paid, "the order paid")
    now = _available(sut, currency)
    after = expect(sut.ledger_verify(), 200)
    if not after.get("clean"):
        raise ScenarioFailed(f"ledger not clean: {after.get('problems')}")
    if not 0 < now - was <= total:
        raise ScenarioFailed(
            f"organizer balance went from {was} to {now} for an order of {total} {currency}"
        )
    return (
        f"{after.get('orders')} orders checked, every transaction balanced; organizer "
        f"balance +{now - was} of {total} {currency} for one paid order (the fee is the rest)"
    )


def reconcile_clean(sut: ServiceUnderTest) -> str:
    """Everything the self-test paid and refunded by card agrees with the Stripe sandbox."""
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    deadline = time.monotonic() + 10
    while True:
        run = expect(sut.reconcile("stripe", since), 201)
        # A success Stripe already lists may still be on its way to us as a webhook.
        if run.get("clean") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not run.get("clean"):
        raise ScenarioFailed(f"reconciliation with Stripe found {run.get('mismatches')}")
    return f"ours {run.get('ours')}, Stripe's {run.get('theirs')}: every movement agrees"


SCENARIOS = (
    Scenario("ledger-verify", ledger_verify),
    Scenario("reconcile-clean", reconcile_clean),
)
