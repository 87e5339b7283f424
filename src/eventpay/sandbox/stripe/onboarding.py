"""The Connect onboarding page an account link points at, and the account-state test control.

`GET /sandbox/connect/onboarding/{token}` shows the page with two buttons: "Complete onboarding"
(charges and payouts enabled, nothing due, `account.updated`) and "Leave for now" (nothing
changes). Both end at the link's `return_url`, as Stripe's flow does: the service must read the
account to learn what happened. A link is single use and expires; opening a used or expired one
redirects to its `refresh_url`, where the service makes a new link. Scripts may POST without a
form and get the account as JSON.

`POST /_sandbox/accounts/{id}/state` (JSON `{charges_enabled?, payouts_enabled?,
currently_due?}`) sets an account's state for tests and emits `account.updated` the same way.
"""

from __future__ import annotations

import copy
import json
import time
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from eventpay.sandbox.plumbing.control import error_response, json_body

from . import accounts
from .store import AccountLink, Origin, Store

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect onboarding (sandbox)</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}
button{{font-size:1rem;padding:.5rem 1rem;margin-right:1rem}}</style></head>
<body><h1>Express account onboarding</h1>
<p>Stripe sandbox test page: no identity or bank details are collected.</p>
{body}
</body></html>
"""
_BUTTON = (
    '<form method="post" action="{base}/{choice}" style="display:inline">'
    '<button type="submit" id="{choice}">{label}</button></form>'
)


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _usable(link: AccountLink) -> bool:
    return not link.used and time.time() < link.expires_at


def connect_routes(store: Store) -> list[Route]:
    """The onboarding page and the account-state control, bound to the app's store."""

    async def show(request: Request) -> Response:
        token = str(request.path_params["token"])
        with store.lock:
            link = store.state.account_links.get(token)
        if link is None:
            return _page("<p>This account link does not exist.</p>", 404)
        if not _usable(link):
            return RedirectResponse(link.refresh_url, 303)
        base = f"/sandbox/connect/onboarding/{escape(token)}"
        return _page(
            f"<p>Onboard the connected account <code id='account'>{escape(link.account)}"
            "</code>.</p>"
            + _BUTTON.format(base=base, choice="complete", label="Complete onboarding")
            + _BUTTON.format(base=base, choice="leave", label="Leave for now")
        )

    async def finish(request: Request, complete: bool) -> Response:
        token = str(request.path_params["token"])
        with store.lock:
            link = store.state.account_links.get(token)
            if link is None:
                return _page("<p>This account link does not exist.</p>", 404)
            if not _usable(link):
                return RedirectResponse(link.refresh_url, 303)
            link.used = True
            account = store.account(link.account)
            if complete:
                accounts.complete_onboarding(store, account)
            snapshot = copy.deepcopy(account)
        if _is_form(request):
            return RedirectResponse(link.return_url, 303)
        return JSONResponse(snapshot)

    async def complete(request: Request) -> Response:
        return await finish(request, complete=True)

    async def leave(request: Request) -> Response:
        return await finish(request, complete=False)

    async def set_state(request: Request) -> JSONResponse:
        try:
            body: Any = await json_body(request)
        except json.JSONDecodeError:
            return error_response("body must be JSON")
        if not isinstance(body, dict):
            return error_response("body must be a JSON object")
        acct_id = str(request.path_params["acct_id"])
        with store.lock:
            account = store.state.accounts.get(acct_id)
            if account is None:
                return error_response(f"No such account: '{acct_id}'", 404)
            charges = body.get("charges_enabled", account["charges_enabled"])
            payouts = body.get("payouts_enabled", account["payouts_enabled"])
            due = body.get("currently_due", account["requirements"]["currently_due"])
            flags_ok = isinstance(charges, bool) and isinstance(payouts, bool)
            if not flags_ok or not (isinstance(due, list) and all(isinstance(d, str) for d in due)):
                return error_response(
                    "charges_enabled and payouts_enabled are booleans, currently_due a list of "
                    "strings"
                )
            accounts.change_state(
                store,
                account,
                charges_enabled=bool(charges),
                payouts_enabled=bool(payouts),
                currently_due=due,
                origin=Origin(),
            )
            return JSONResponse(copy.deepcopy(account))

    return [
        Route("/sandbox/connect/onboarding/{token}", show, methods=["GET"]),
        Route("/sandbox/connect/onboarding/{token}/complete", complete, methods=["POST"]),
        Route("/sandbox/connect/onboarding/{token}/leave", leave, methods=["POST"]),
        Route("/_sandbox/accounts/{acct_id}/state", set_state, methods=["POST"]),
    ]
