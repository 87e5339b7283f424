"""`eventpay.sandbox.stripe`: the project's own Stripe emulator, for tests and demos only.

An HTTP server with Stripe's routes, shapes, errors, idempotency and signed webhooks for the
part of the API eventpay uses, so the official `stripe` SDK works against it unmodified:

    app = create_app(webhook_retry=RetryPolicy(base_delay_s=0.2), endpoints=[(url, "whsec_...")])
    run("127.0.0.1", 12111)                     # or: python -m eventpay.sandbox.stripe
    with BackgroundServer(app) as server: ...   # server.base_url, in tests

Both refuse `environment="production"`. The public surface is re-exported here.
"""

from .app import create_app
from .server import BackgroundServer, run
from .webhooks import RetryPolicy, signature_header

__all__ = ["BackgroundServer", "RetryPolicy", "create_app", "run", "signature_header"]
