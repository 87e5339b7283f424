"""`run_selftest`: run every scenario against a service, print one line each, and a verdict.

The service runs elsewhere: whoever calls this (the `eventpay selftest` command) either names a
running one or starts a throwaway demo stack first, and hands over the operator's
`Credentials`. Scenarios are independent (each makes its own orders, as a buyer of its own,
so that a run can follow another against the same service) and run in order; one failing or
crashing never stops the others. A scenario that needs PayPal is skipped, with the reason,
against a service whose `/v1/payment-config` says PayPal is off.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum

import httpx

from eventpay.selftest import (
    capacity_scenarios,
    connect_scenarios,
    contract_scenarios,
    double_payment_scenarios,
    ledger_scenarios,
    membership_scenarios,
    payment_scenarios,
    payout_scenarios,
    paypal_scenarios,
    paypal_webhook_scenarios,
    product_scenarios,
    refund_scenarios,
    sponsor_scenarios,
    webhook_scenarios,
)
from eventpay.selftest.checks import Scenario, ScenarioFailed, ScenarioSkipped
from eventpay.selftest.client import ServiceUnderTest
from eventpay.selftest.credentials import Credentials

SCENARIOS: tuple[Scenario, ...] = (
    *payment_scenarios.SCENARIOS,
    *webhook_scenarios.SCENARIOS,
    *paypal_scenarios.SCENARIOS,
    *paypal_webhook_scenarios.SCENARIOS,
    *double_payment_scenarios.SCENARIOS,
    *refund_scenarios.SCENARIOS,
    *contract_scenarios.SCENARIOS,
    *connect_scenarios.SCENARIOS,
    *payout_scenarios.SCENARIOS,
    *capacity_scenarios.SCENARIOS,
    *product_scenarios.SCENARIOS,
    *membership_scenarios.SCENARIOS,
    *sponsor_scenarios.SCENARIOS,
    *ledger_scenarios.SCENARIOS,
)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


def run_scenario(scenario: Scenario, sut: ServiceUnderTest) -> tuple[Outcome, str]:
    """Run one scenario; its outcome and its report line. Never raises."""
    started = time.monotonic()
    try:
        detail = scenario.run(sut)
    except ScenarioSkipped as exc:
        return Outcome.SKIPPED, f"SKIP {scenario.name}: {exc}"
    except ScenarioFailed as exc:
        return Outcome.FAILED, f"FAIL {scenario.name}: {exc}"
    except httpx.HTTPError as exc:
        return Outcome.FAILED, f"FAIL {scenario.name}: {type(exc).__name__}: {exc}"
    except Exception as exc:
        # A crash is reported like any failure so that the remaining scenarios still run.
        return Outcome.FAILED, f"FAIL {scenario.name}: unexpected {type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - started
    return Outcome.PASSED, f"PASS {scenario.name} ({detail}; {elapsed:.1f}s)"


def summary(outcomes: Counter[Outcome]) -> str:
    return ", ".join(f"{outcomes[outcome]} {outcome.value}" for outcome in Outcome)


def run_selftest(
    credentials: Credentials,
    *,
    base_url: str,
    scenarios: Sequence[Scenario] = SCENARIOS,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Drive the service at `base_url` through `scenarios`, printing a line for each.

    Returns the exit status: 0 when none failed (skipped ones do not fail a run), 1 otherwise.
    """
    outcomes: Counter[Outcome] = Counter()
    with ServiceUnderTest(credentials, base_url, transport=transport) as sut:
        print(f"eventpay selftest against {sut.base_url}", flush=True)
        paypal_off = sut.paypal_disabled() if any(s.needs_paypal for s in scenarios) else None
        for scenario in scenarios:
            if scenario.needs_paypal and paypal_off is not None:
                outcome, line = Outcome.SKIPPED, f"SKIP {scenario.name}: {paypal_off}"
            else:
                sut.new_buyer()
                outcome, line = run_scenario(scenario, sut)
            outcomes[outcome] += 1
            print(line, flush=True)
    print(summary(outcomes), flush=True)
    return 1 if outcomes[Outcome.FAILED] else 0
