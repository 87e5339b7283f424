"""The buyer's side of PayPal checkout: the approval page behind the `approve` link.

`GET /checkoutnow?token={order_id}` shows the amount, the items and the test buyer's login,
with an Approve button (`id="approve"`) and a Cancel button (`id="cancel"`). Approving makes the
order APPROVED (orders.approve) and redirects (303) to `return_url?token={id}&PayerID={payer}`;
cancelling redirects to `cancel_url?token={id}` and leaves the order as it was. Without a return
or cancel URL the page itself says what happened. No API logic lives here.
"""

from __future__ import annotations

import copy
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import accounts, orders
from .errors import PayPalError
from .records import JSON
from .store import Store

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayPal sandbox checkout</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{padding:.2rem .8rem;text-align:left}}
button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:1rem}}</style></head>
<body><h1>PayPal sandbox checkout</h1>
<p>eventpay's PayPal emulator: no real account or money is involved.</p>
{body}
</body></html>
"""

_FORM = (
    '<form method="post" action="/checkoutnow/{order_id}/{choice}" style="display:inline">'
    '<button type="submit" id="{choice}">{label}</button></form>'
)


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _order_summary(order: JSON) -> str:
    unit = order["purchase_units"][0]
    amount = unit["amount"]
    rows = "".join(
        f"<tr><td>{escape(str(item['name']))}</td><td>{escape(str(item['quantity']))}</td>"
        f"<td>{escape(item['unit_amount']['value'])} {escape(item['unit_amount']['currency_code'])}"
        "</td></tr>"
        for item in unit.get("items", [])
    )
    table = (
        f'<table id="items"><tr><th>Item</th><th>Qty</th><th>Price</th></tr>{rows}</table>'
        if rows
        else ""
    )
    description = unit.get("description")
    return (
        f'<p>Pay <strong id="amount">{escape(amount["value"])} '
        f"{escape(amount['currency_code'])}</strong> to {escape(accounts.MERCHANT_NAME)}"
        f"{' for ' + escape(description) if description else ''}.</p>{table}"
    )


def checkout_routes(store: Store) -> list[Route]:
    """The approval page and its two buttons, bound to the app's store."""

    async def show(request: Request) -> Response:
        order_id = request.query_params.get("token", "")
        if not order_id:
            return _page("<p>Missing <code>token</code>: open the order's approve link.</p>", 400)
        with store.lock:
            record = store.state.orders.get(order_id)
            order = copy.deepcopy(record.order) if record else None
        if order is None:
            return _page(f"<p>No such order: {escape(order_id)}</p>", 404)
        if order["status"] == "COMPLETED":
            return _page(f"<p>Order {escape(order_id)} is already paid.</p>", 422)
        login = (
            "<fieldset><legend>Log in as test buyer</legend>"
            f'<input id="email" value="{escape(accounts.BUYER_EMAIL)}" readonly> '
            '<input id="password" type="password" value="sandbox" readonly></fieldset>'
        )
        buttons = _FORM.format(
            order_id=escape(order_id), choice="approve", label="Approve"
        ) + _FORM.format(order_id=escape(order_id), choice="cancel", label="Cancel")
        return _page(_order_summary(order) + login + f"<p>{buttons}</p>")

    async def decide(request: Request, approved: bool) -> Response:
        order_id = str(request.path_params["order_id"])
        base_url = str(request.base_url).rstrip("/")
        try:
            with store.lock:
                if approved:
                    _, target = orders.approve(store, order_id, base_url)
                else:
                    _, target = orders.cancel(store, order_id)
        except PayPalError as exc:
            return _page(f"<p>{escape(exc.name)}: {escape(str(exc))}</p>", exc.status)
        if target is not None:
            return RedirectResponse(target, status_code=303)
        outcome = "approved" if approved else "cancelled"
        return _page(f'<p id="outcome">Payment {outcome}. You can close this window.</p>')

    async def approve(request: Request) -> Response:
        return await decide(request, approved=True)

    async def cancel(request: Request) -> Response:
        return await decide(request, approved=False)

    return [
        Route("/checkoutnow", show, methods=["GET"]),
        Route("/checkoutnow/{order_id}/approve", approve, methods=["POST"]),
        Route("/checkoutnow/{order_id}/cancel", cancel, methods=["POST"]),
    ]
