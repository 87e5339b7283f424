"""`eventpay selftest`: drive a running service (or a fresh demo stack) through test scenarios.

A client of the HTTP API and of the Stripe sandbox, over httpx only; it never reaches into the
service's database or internals. Modules, one concept each:

    runner.py              run_selftest: the stack (if any), the run, the report
    checks.py              ScenarioFailed, response expectations, deadline polling
    client.py              the service under test: API and sandbox calls, tokens
    payment_scenarios.py   success, declined card, 3-D Secure completed and failed
    webhook_scenarios.py   twenty concurrent deliveries, forged signature, stale timestamp
    contract_scenarios.py  unknown field, closed registration, hidden orders, idempotency
"""

from eventpay.selftest.runner import run_selftest

__all__ = ["run_selftest"]
