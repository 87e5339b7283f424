"""`eventpay selftest`: drive a running service through test scenarios, as a black box.

A client of the HTTP API and of the Stripe and PayPal sandboxes, over httpx only; it never
reaches into the service's database or internals, and imports nothing of eventpay outside this
package but the sample catalog's ids (`eventpay.sample_ids`, plain strings). A test
(tests/unit/test_selftest_imports.py) holds it to that. The command that starts it (cli.py,
demo.py) turns the settings into `Credentials` and, without `--base-url`, starts a throwaway
stack. Modules, one concept each:

    runner.py                    run_selftest: the run, SKIP/PASS/FAIL lines, the verdict
    credentials.py               the operator's secrets; tokens and Stripe signatures made with them
    checks.py                    ScenarioFailed/Skipped, response expectations, deadline polling
    client.py                    the service under test: API and Stripe sandbox calls
    paypal_sandbox.py            the PayPal sandbox: the buyer's buttons, PayPal's books
    listener.py                  a loopback listener that records who connects to it
    forgery.py                   a forger's own key and certificate, a PayPal capture event
    payment_scenarios.py         success, declined card, 3-D Secure completed and failed
    webhook_scenarios.py         twenty concurrent deliveries, forged signature, stale timestamp
    paypal_scenarios.py          PayPal paid, cancelled, declined, return raced by webhooks
    paypal_webhook_scenarios.py  forged PayPal signature, certificate URL off the allow-list
    double_payment_scenarios.py  paid with PayPal and by card: the card refunded automatically
    contract_scenarios.py        unknown field, closed registration, hidden orders, idempotency
"""

from eventpay.selftest.credentials import Credentials
from eventpay.selftest.runner import run_selftest

__all__ = ["Credentials", "run_selftest"]
