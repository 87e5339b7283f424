"""The subscriber's approval page and the `/_sandbox/billing/` test controls.

    GET  /webapps/billing/subscriptions?ba_token=BA-...   the page behind a subscription's (or a
                                                          revision's) `approve` link: plan, price,
                                                          test buyer, Approve (`id="approve"`)
                                                          and Cancel (`id="cancel"`) buttons
    POST /webapps/billing/subscriptions/{token}/approve   → 303 return_url?subscription_id=&
                                                          ba_token=&token= (or a page saying so)
    POST /webapps/billing/subscriptions/{token}/cancel    → 303 cancel_url?... (nothing changes)

    POST /_sandbox/billing/subscriptions/{id}/approve     → {"subscription", "redirect_url"}
    POST /_sandbox/billing/subscriptions/{id}/cancel-approval → {"redirect_url"}
    POST /_sandbox/billing/subscriptions/{id}/advance     {"days": N > 0} → {"subscription",
                                                          "now"}: its clock moves on; renewals,
                                                          retries, expiry due by then happen
    POST /_sandbox/billing/advance                        {"days"} → {"advanced": [ids]}: every
                                                          subscription's clock at once
    POST /_sandbox/billing/subscriptions/{id}/fail-next   {"count": N >= 0, "reason_code"?} →
                                                          {"fail_next", "reason_code"}: the next
                                                          N payment attempts are declined

No credentials needed for these (the buyer's browser has none); errors in PayPal's shape.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import accounts, billing_cycles, billing_subscriptions, identifiers
from .billing_calendar import price_minor
from .billing_records import BILLING, FAILURE_REASONS, JSON, SubscriptionRecord
from .billing_views import render_subscription
from .errors import InvalidRequest, Issue, PayPalError, ResourceNotFound, invalid
from .store import Store

Handler = Callable[[JSON, dict[str, str], str], tuple[int, Any]]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayPal sandbox subscription</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto}}
button{{font-size:1rem;padding:.5rem 1.2rem;margin-right:1rem}}</style></head>
<body><h1>PayPal sandbox subscription</h1>
<p>eventpay's PayPal emulator: no real account or money is involved.</p>
{body}
</body></html>
"""
_FORM = (
    '<form method="post" action="/webapps/billing/subscriptions/{token}/{choice}" '
    'style="display:inline"><button type="submit" id="{choice}">{label}</button></form>'
)


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status)


def _by_token(store: Store, token: str) -> SubscriptionRecord | None:
    for record in store.state.subscriptions.values():
        if record.approval_token == token:
            return record
    return None


def _summary(store: Store, record: SubscriptionRecord) -> str:
    plan_id = record.pending_plan_id or record.subscription["plan_id"]
    plan = store.state.plans[plan_id]
    rows = []
    for cycle in plan["billing_cycles"]:
        frequency = cycle["frequency"]
        price = price_minor(cycle)
        value = cycle["pricing_scheme"]["fixed_price"]["value"] if price else "free"
        every = f"every {frequency['interval_count']} {frequency['interval_unit'].lower()}(s)"
        rows.append(
            f"<li>{escape(cycle['tenure_type'].lower())}: {escape(value)} {escape(every)}</li>"
        )
    what = "Change your subscription to" if record.pending_plan_id else "Subscribe to"
    return (
        f'<p>{what} <strong id="plan">{escape(plan["name"])}</strong> '
        f"({escape(record.currency)}) from {escape(accounts.MERCHANT_NAME)}.</p>"
        f'<ul id="cycles">{"".join(rows)}</ul>'
    )


def _days(body: JSON) -> float:
    days = body.get("days")
    if isinstance(days, bool) or not isinstance(days, int | float) or days <= 0:
        raise invalid("days", days)
    return float(days)


def _json_endpoint(store: Store, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            error = InvalidRequest(Issue("MALFORMED_REQUEST_JSON"))
            return JSONResponse(error.body(identifiers.debug_id(), BILLING), error.status)
        params = {k: str(v) for k, v in request.path_params.items()}
        base = str(request.base_url).rstrip("/")
        try:
            with store.lock:
                status, content = handler(body, params, base)
        except PayPalError as exc:
            return JSONResponse(exc.body(identifiers.debug_id(), BILLING), exc.status)
        return JSONResponse(content, status)

    return endpoint


def billing_routes(store: Store) -> list[Route]:
    """The approval page and the billing controls, bound to the app's store."""

    def shown(record: SubscriptionRecord, base: str) -> JSON:
        plan = billing_cycles.plan_of(store, record)
        return render_subscription(record, plan, base, "last_failed_payment")

    async def show(request: Request) -> Response:
        token = request.query_params.get("ba_token", "")
        with store.lock:
            record = _by_token(store, token) if token else None
            if record is None:
                return _page(f"<p>No subscription waits for approval: {escape(token)}</p>", 404)
            summary = _summary(store, record)
        login = (
            "<fieldset><legend>Log in as test buyer</legend>"
            f'<input id="email" value="{escape(accounts.BUYER_EMAIL)}" readonly> '
            '<input id="password" type="password" value="sandbox" readonly></fieldset>'
        )
        buttons = _FORM.format(token=escape(token), choice="approve", label="Agree & Subscribe")
        buttons += _FORM.format(token=escape(token), choice="cancel", label="Cancel")
        return _page(summary + login + f"<p>{buttons}</p>")

    async def decide(request: Request, approved: bool) -> Response:
        token = str(request.path_params["token"])
        base = str(request.base_url).rstrip("/")
        try:
            with store.lock:
                record = _by_token(store, token)
                if record is None:
                    raise ResourceNotFound("ba_token", token)
                if approved:
                    target = billing_subscriptions.approve(store, record, base)
                else:
                    target = billing_subscriptions.decline(record)
        except PayPalError as exc:
            return _page(f"<p>{escape(exc.name)}: {escape(str(exc))}</p>", exc.status)
        if target is not None:
            return RedirectResponse(target, status_code=303)
        outcome = "approved" if approved else "cancelled"
        return _page(f'<p id="outcome">Subscription {outcome}. You can close this window.</p>')

    async def approve_page(request: Request) -> Response:
        return await decide(request, approved=True)

    async def cancel_page(request: Request) -> Response:
        return await decide(request, approved=False)

    def approve(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        record = billing_subscriptions.record_of(store, params["id"])
        target = billing_subscriptions.approve(store, record, base)
        return 200, {"subscription": shown(record, base), "redirect_url": target}

    def cancel_approval(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        record = billing_subscriptions.record_of(store, params["id"])
        return 200, {"redirect_url": billing_subscriptions.decline(record)}

    def advance(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        days = _days(body)
        record = billing_subscriptions.record_of(store, params["id"])
        billing_cycles.advance(store, record, days, base)
        return 200, {"subscription": shown(record, base), "now": identifiers.rfc3339(record.now())}

    def advance_all(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        days = _days(body)
        records = list(store.state.subscriptions.values())
        for record in records:
            billing_cycles.advance(store, record, days, base)
        return 200, {"advanced": [r.subscription["id"] for r in records]}

    def fail_next(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        record = billing_subscriptions.record_of(store, params["id"])
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise invalid("count", count)
        reason = body.get("reason_code", "PAYMENT_DENIED")
        if reason not in FAILURE_REASONS:
            raise invalid("reason_code", reason)
        record.fail_next, record.fail_reason = count, reason
        return 200, {"fail_next": count, "reason_code": reason}

    prefix = "/_sandbox/billing/subscriptions/{id}"
    table: list[tuple[str, Handler]] = [
        (f"{prefix}/approve", approve),
        (f"{prefix}/cancel-approval", cancel_approval),
        (f"{prefix}/advance", advance),
        (f"{prefix}/fail-next", fail_next),
        ("/_sandbox/billing/advance", advance_all),
    ]
    return [
        Route("/webapps/billing/subscriptions", show, methods=["GET"]),
        Route("/webapps/billing/subscriptions/{token}/approve", approve_page, methods=["POST"]),
        Route("/webapps/billing/subscriptions/{token}/cancel", cancel_page, methods=["POST"]),
        *[Route(path, _json_endpoint(store, h), methods=["POST"]) for path, h in table],
    ]
