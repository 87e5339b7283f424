"""The 3-D Secure challenge: a page with Complete and Fail buttons, and the two POST routes.

`next_action` of a PaymentIntent in `requires_action` points at `GET /sandbox/3ds/{pi_id}`.
Submitting its form completes or fails authentication and, when the confirmation gave a
`return_url`, redirects there with Stripe's query (`payment_intent`,
`payment_intent_client_secret`, `redirect_status`). Scripts and tests may POST without a form
and get the PaymentIntent as JSON. What completing or failing does is in processing.py.
"""

from __future__ import annotations

import copy
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .currencies import shown
from .errors import StripeError
from .processing import complete_authentication, fail_authentication, return_redirect
from .store import Store

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>3-D Secure (sandbox)</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}
button{{font-size:1rem;padding:.5rem 1rem;margin-right:1rem}}</style></head>
<body><h1>3-D Secure authentication</h1>
<p>Stripe sandbox test page: no real bank is involved.</p>
{body}
</body></html>
"""


_BUTTON = (
    '<form method="post" action="{base}/{choice}" style="display:inline">'
    '<button type="submit" name="choice" value="{choice}" id="{choice}">{label}</button></form>'
)


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def challenge_routes(store: Store) -> list[Route]:
    """Routes for the challenge page, bound to the app's store."""

    async def show(request: Request) -> Response:
        pi_id = str(request.path_params["pi_id"])
        with store.lock:
            intent = store.state.payment_intents.get(pi_id)
            waiting = pi_id in store.state.authentications
            amount = shown(int(intent["amount"]), str(intent["currency"])) if intent else ""
        if intent is None:
            return _page(f"<p>No such payment_intent: {escape(pi_id)}</p>", 404)
        if not waiting:
            return _page(
                f"<p>PaymentIntent {escape(pi_id)} is not waiting for authentication "
                f"(status: {escape(str(intent['status']))}).</p>",
                409,
            )
        base = f"/sandbox/3ds/{escape(pi_id)}"
        return _page(
            f"<p>Authenticate the payment <code>{escape(pi_id)}</code> of "
            f"<strong id='amount'>{escape(amount)}</strong>.</p>"
            + _BUTTON.format(base=base, choice="complete", label="Complete")
            + _BUTTON.format(base=base, choice="fail", label="Fail")
        )

    async def finish(request: Request, succeeded: bool) -> Response:
        pi_id = str(request.path_params["pi_id"])
        form = _is_form(request)
        try:
            with store.lock:
                action = complete_authentication if succeeded else fail_authentication
                intent, return_url = action(store, pi_id)
                snapshot = copy.deepcopy(intent)
        except StripeError as exc:
            if form:
                return _page(f"<p>{escape(exc.message)}</p>", exc.status)
            return JSONResponse(exc.body(), exc.status)
        if form and return_url:
            return RedirectResponse(return_redirect(return_url, snapshot, succeeded), 303)
        if form:
            outcome = "completed" if succeeded else "failed"
            return _page(
                f"<p id='outcome'>Authentication {outcome}. You can close this window.</p>"
            )
        return JSONResponse(snapshot)

    async def complete(request: Request) -> Response:
        return await finish(request, succeeded=True)

    async def fail(request: Request) -> Response:
        return await finish(request, succeeded=False)

    return [
        Route("/sandbox/3ds/{pi_id}", show, methods=["GET"]),
        Route("/sandbox/3ds/{pi_id}/complete", complete, methods=["POST"]),
        Route("/sandbox/3ds/{pi_id}/fail", fail, methods=["POST"]),
    ]
