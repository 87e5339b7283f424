"""`eventpay.sandbox.paypal`: the project's own PayPal emulator, for tests and demos only.

An HTTP server with PayPal's routes, shapes, errors, PayPal-Request-Id idempotency and
RSA-signed webhooks for the part of the REST API eventpay uses (OAuth, Orders v2, Payments v2,
Payouts v1, Disputes v1, Invoicing v2 with recipient payments, Catalog Products v1, Billing
Plans and Subscriptions v1, Notifications v1, Transaction Search v1), plus buyer approval and
invoice payment pages and `/_sandbox/` test controls (subscription clocks among them). It is
an independent implementation that cross-checks the service's PayPal adapter, so it imports
nothing from the service:

    app = create_app(webhooks=[(url, "WH1234")], webhook_retry=RetryPolicy(base_delay_s=0.05))
    run("127.0.0.1", 12112)                     # or: python -m eventpay.sandbox.paypal
    with BackgroundServer(app) as server: ...   # server.base_url, in tests

Both refuse `environment="production"`. The public surface is re-exported here.
"""

from .app import create_app
from .server import BackgroundServer, run
from .webhooks import RetryPolicy

__all__ = ["BackgroundServer", "RetryPolicy", "create_app", "run"]
