"""The hosted invoice page (`hosted_invoice_url`): the recipient sees the invoice and pays it.

`GET /sandbox/invoices/{id}` shows the amount due and a form; `POST /sandbox/invoices/{id}/pay`
(form or JSON `{"payment_method": "pm_card_visa"}`, the default) confirms the invoice's
PaymentIntent on-session, exactly as a card payment on Stripe's hosted page would: a declined
card answers 402 with Stripe's card error, a 3-D Secure card answers with the PaymentIntent in
`requires_action` (a form is redirected to the challenge page). No API key, like the page.
"""

from __future__ import annotations

import copy
import json
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import billing_invoices
from .billing_common import invoice, payment_method
from .cards import TEST_CARDS
from .currencies import shown
from .errors import CardError, StripeError
from .processing import challenge_url
from .store import Origin, Store

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {number} (sandbox)</title></head>
<body><h1>Invoice <span id="number">{number}</span></h1>
<p>Stripe sandbox test page: no real money moves.</p>
<p>Status: <strong id="status">{status}</strong>.
Amount due: <strong id="amount">{amount}</strong>.</p>
{form}
</body></html>
"""


def _form(in_id: str) -> str:
    options = "".join(
        f'<option value="{escape(token)}">{escape(token)} ({escape(card.note)})</option>'
        for token, card in TEST_CARDS.items()
    )
    return (
        f'<form method="post" action="/sandbox/invoices/{escape(in_id)}/pay">'
        f'<select name="payment_method">{options}</select> '
        '<button type="submit" id="pay">Pay</button></form>'
    )


async def _chosen(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = json.loads(await request.body() or b"{}")
        value = body.get("payment_method") if isinstance(body, dict) else None
    else:
        value = (await request.form()).get("payment_method")
    return value if isinstance(value, str) and value else "pm_card_visa"


def hosted_routes(store: Store) -> list[Route]:
    async def show(request: Request) -> Response:
        in_id = str(request.path_params["in_id"])
        with store.lock:
            try:
                inv = copy.deepcopy(invoice(store, in_id))
            except StripeError as exc:
                return HTMLResponse(f"<p>{escape(exc.message)}</p>", exc.status)
        if inv["status"] == "draft":
            return HTMLResponse("<p>This invoice is not finalized yet.</p>", 404)
        form = _form(in_id) if inv["status"] == "open" else ""
        return HTMLResponse(
            _PAGE.format(
                number=escape(str(inv["number"])),
                status=escape(str(inv["status"])),
                amount=escape(shown(int(inv["amount_remaining"]), str(inv["currency"]))),
                form=form,
            )
        )

    async def pay(request: Request) -> Response:
        in_id = str(request.path_params["in_id"])
        is_form = not request.headers.get("content-type", "").startswith("application/json")
        base_url = str(request.base_url).rstrip("/")
        try:
            chosen = await _chosen(request)
        except json.JSONDecodeError:
            return JSONResponse({"error": {"message": "body must be JSON"}}, 400)
        with store.lock:
            try:
                inv = invoice(store, in_id)
                if inv["status"] != "open":
                    raise StripeError(f"This invoice is {inv['status']}, not open for payment.")
                pm_id = payment_method(store, chosen, param="payment_method")
                billing_invoices.charge(
                    store, inv, pm_id, Origin(), base_url=base_url, off_session=False
                )
            except CardError as exc:
                return JSONResponse(exc.body(), exc.status)
            except StripeError as exc:
                return JSONResponse(exc.body(), exc.status)
            intent = billing_invoices.intent_of(store, inv)
            snapshot = copy.deepcopy(inv)
            waiting = intent is not None and intent["status"] == "requires_action"
            pi_id = None if intent is None else str(intent["id"])
        if waiting and is_form and pi_id is not None:
            return RedirectResponse(challenge_url(base_url, pi_id), 303)
        if is_form:
            return RedirectResponse(f"/sandbox/invoices/{in_id}", 303)
        return JSONResponse({"invoice": snapshot, "requires_action": waiting})

    return [
        Route("/sandbox/invoices/{in_id}", show, methods=["GET"]),
        Route("/sandbox/invoices/{in_id}/pay", pay, methods=["POST"]),
    ]
