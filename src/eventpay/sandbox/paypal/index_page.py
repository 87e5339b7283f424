"""`GET /`: a short page saying what this server is, for whoever opens it in a browser.

Lists the API families served, the test buyer, and the `/_sandbox/` controls with the outcome
each one produces. Static text only.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from . import accounts

_CONTROLS = (
    ("POST /_sandbox/orders/{id}/approve", "approve as the test buyer (or use the approve link)"),
    ("POST /_sandbox/orders/{id}/cancel", "cancel at the approval page"),
    ("POST /_sandbox/orders/{id}/capture-outcome", '{"status": COMPLETED|PENDING|DECLINED}'),
    ("POST /_sandbox/captures/{id}/complete | deny", "settle a PENDING capture"),
    ("POST /_sandbox/payouts/{id}/process", "settle a payout batch now"),
    ("POST /_sandbox/payouts-item/{id}/return | claim", "an UNCLAIMED item: RETURNED | SUCCESS"),
    ("GET|POST /_sandbox/payouts/return-after", '{"seconds": S | null}: UNCLAIMED → RETURNED'),
    ("POST /_sandbox/disputes", '{"capture_id"}: the buyer opens a dispute'),
    ("POST /_sandbox/disputes/{id}/resolve", '{"outcome": RESOLVED_SELLER_FAVOUR|...}'),
    ("POST /_sandbox/invoices/{id}/pay", "the buyer pays a sent invoice"),
    ("POST /_sandbox/invoices/{id}/recipient-payments", '{"amount"}: the recipient pays part'),
    ("POST /_sandbox/billing/subscriptions/{id}/approve", "approve a subscription as the buyer"),
    ("POST /_sandbox/billing/subscriptions/{id}/advance", '{"days"}: its clock moves on'),
    ("POST /_sandbox/billing/subscriptions/{id}/fail-next", '{"count"}: next charges fail'),
    ("POST /_sandbox/billing/advance", '{"days"}: every subscription\'s clock moves on'),
    ("POST /_sandbox/tokens/expire", "expire every access token"),
    ("POST /_sandbox/idempotency/age", '{"seconds"}: request ids get older (6 h orders, 45 d)'),
    ("GET|POST /_sandbox/idempotency/window", '{"window_s": S | null}: how long ids are kept'),
    ("GET /_sandbox/events, /_sandbox/deliveries", "what was emitted and delivered"),
    ("POST|GET|DELETE /_sandbox/faults", "inject 500s, delays or any status"),
    ("POST /_sandbox/reset", "start again from empty"),
)


def _index() -> str:
    rows = "".join(
        f"<tr><td><code>{escape(route)}</code></td><td>{escape(effect)}</td></tr>"
        for route, effect in _CONTROLS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eventpay PayPal sandbox</title></head>
<body style="font-family:sans-serif;max-width:52rem;margin:2rem auto">
<h1>eventpay PayPal sandbox</h1>
<p>An offline emulator of the part of PayPal's REST API eventpay uses, for tests and demos
only. Get a token at <code>POST /v1/oauth2/token</code> with any client id and secret (unless
the server was started with fixed credentials), then call Orders v2, Payments v2, Payouts v1,
Disputes v1, Invoicing v2, Notifications v1 and Transaction Search v1 as on PayPal. Webhooks
are signed with this server's certificate.</p>
<p>Test buyer: <code>{escape(accounts.BUYER_EMAIL)}</code> (payer id
<code>{escape(accounts.BUYER_PAYER_ID)}</code>). Payout receivers ending in
<code>@unknown.example.com</code> or named <code>unclaimed@</code> stay UNCLAIMED (RETURNED after
30 days); <code>returned@</code>, <code>failed@</code> and <code>blocked@</code> end RETURNED,
FAILED and BLOCKED; any other receiver is paid (SUCCESS).</p>
<h2>Test controls</h2>
<table>{rows}</table>
</body></html>
"""


async def index(request: Request) -> Response:
    return HTMLResponse(_index())


def index_routes() -> list[Route]:
    return [Route("/", index, methods=["GET"])]
