"""Test controls about the sandbox itself: reset, deliveries, events, faults, tokens, request ids.

    POST   /_sandbox/reset                 forget objects, events, deliveries, request ids, faults
                                           (start-up webhooks and issued tokens survive; the
                                           request id window is the app's again)
    GET    /_sandbox/deliveries            {"data": [attempt...]}  (?event_id=, ?webhook_id=)
    GET    /_sandbox/events                {"data": [event...]}, newest first
    POST   /_sandbox/events/{id}/resend    {"webhook_id"?} → {"event_id", "webhook_ids"}
    POST   /_sandbox/faults                {"path_prefix", "method"?, "mode", "delay_s"?, "times"?,
                                            "status"?, "body"?} (path_prefix defaults to /v;
                                           http_500 answers PayPal's INTERNAL_SERVER_ERROR;
                                           status answers PayPal's error for that status, or
                                           `body` exactly, without running the request)
    GET    /_sandbox/faults                {"data": [fault...]}
    DELETE /_sandbox/faults                {"cleared": n}
    GET    /_sandbox/idempotency           {"request_ids", "in_flight", "replays",
                                            "mismatched_replays", "expired"}
    GET    /_sandbox/idempotency/window    {"window_s", "orders_window_s", "payments_window_s"}
    POST   /_sandbox/idempotency/window    {"window_s": S | null}: one window for every API,
                                           or (null) PayPal's own: 6 h orders, 45 days refunds
    POST   /_sandbox/idempotency/age       {"seconds"} → {"aged_s"}: every PayPal-Request-Id
                                           remembered so far gets that much older; ids past
                                           their window are forgotten (a replay is new)
    POST   /_sandbox/tokens/expire         {"expired": n}: every issued access token stops working
    GET    /_sandbox/payouts/return-after  {"return_after_s"}: how long a payout item stays
                                           UNCLAIMED before it is RETURNED by itself
    POST   /_sandbox/payouts/return-after  {"seconds": S | null} → the same: S for items that
                                           become UNCLAIMED from now on, null the app's default
                                           (PayPal's 30 days unless the app was given another)

Object controls (approve, capture outcome, disputes...) are in scenarios.py; the pieces every
sandbox shares are plumbing/control.py's.
"""

from __future__ import annotations

import json
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from eventpay.sandbox.plumbing.control import (
    deliveries_route,
    error_response,
    fault_routes,
    idempotency_route,
    json_body,
)
from eventpay.sandbox.plumbing.faults import MODES, FaultBook

from .errors import PayPalError
from .idempotency import RequestIdLedger
from .oauth import TokenBook
from .payouts import PayoutTiming
from .store import Store
from .timers import Timers
from .webhooks import Dispatcher

FAULT_PREFIX = "/v"  # every PayPal API route: /v1/... and /v2/...


def _fault_id() -> str:
    return "flt_" + secrets.token_hex(6)


def _seconds(value: object) -> float | None:
    """A JSON number as seconds; None for anything else (true and false included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


async def _object(request: Request) -> dict[str, object] | None:
    try:
        body = await json_body(request)
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def control_routes(
    store: Store,
    faults: FaultBook,
    ledger: RequestIdLedger,
    dispatcher: Dispatcher,
    tokens: TokenBook,
    timers: Timers,
    payout_timing: PayoutTiming,
) -> list[Route]:
    """The `/_sandbox/` routes about the sandbox, bound to the app's state."""

    async def reset(request: Request) -> JSONResponse:
        await dispatcher.reset()
        timers.cancel_all()
        payout_timing.reset()
        store.reset()
        ledger.clear()
        faults.clear()
        return JSONResponse({"reset": True})

    async def list_events(request: Request) -> JSONResponse:
        return JSONResponse({"data": store.events_newest_first()})

    async def resend(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
        except json.JSONDecodeError:
            return error_response("body must be JSON")
        webhook_id = body.get("webhook_id") if isinstance(body, dict) else None
        if webhook_id is not None and not isinstance(webhook_id, str):
            return error_response("webhook_id must be a string")
        event_id = str(request.path_params["event_id"])
        try:
            targets = dispatcher.resend(event_id, None if webhook_id is None else [webhook_id])
        except PayPalError as exc:
            return error_response(str(exc), exc.status)
        return JSONResponse({"event_id": event_id, "webhook_ids": targets})

    async def read_window(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "window_s": ledger.window_s,
                "orders_window_s": ledger.window_for("/v2/checkout/orders"),
                "payments_window_s": ledger.window_for("/v2/payments/"),
            }
        )

    async def set_window(request: Request) -> JSONResponse:
        body = await _object(request)
        raw = body.get("window_s", "missing") if body is not None else "missing"
        window = _seconds(raw)
        if raw is not None and (window is None or window <= 0):
            return error_response("window_s must be a positive number of seconds, or null")
        ledger.set_window(window)
        return await read_window(request)

    async def age(request: Request) -> JSONResponse:
        body = await _object(request)
        seconds = _seconds(body.get("seconds") if body is not None else None)
        if seconds is None or seconds < 0:
            return error_response("seconds must be a number, at least 0")
        return JSONResponse({"aged_s": ledger.age(seconds)})

    async def expire_tokens(request: Request) -> JSONResponse:
        return JSONResponse({"expired": tokens.expire_all()})

    async def read_return_after(request: Request) -> JSONResponse:
        return JSONResponse({"return_after_s": payout_timing.return_after_s})

    async def set_return_after(request: Request) -> JSONResponse:
        body = await _object(request)
        raw = body.get("seconds", "missing") if body is not None else "missing"
        seconds = _seconds(raw)
        if raw is not None and (seconds is None or seconds < 0):
            return error_response("seconds must be a number of seconds, at least 0, or null")
        payout_timing.set_return_after(seconds)
        return await read_return_after(request)

    return [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        deliveries_route(dispatcher.attempts, "webhook_id"),
        Route("/_sandbox/events", list_events, methods=["GET"]),
        Route("/_sandbox/events/{event_id}/resend", resend, methods=["POST"]),
        *fault_routes(faults, default_prefix=FAULT_PREFIX, new_id=_fault_id, modes=MODES),
        idempotency_route(ledger),
        Route("/_sandbox/idempotency/window", read_window, methods=["GET"]),
        Route("/_sandbox/idempotency/window", set_window, methods=["POST"]),
        Route("/_sandbox/idempotency/age", age, methods=["POST"]),
        Route("/_sandbox/tokens/expire", expire_tokens, methods=["POST"]),
        Route("/_sandbox/payouts/return-after", read_return_after, methods=["GET"]),
        Route("/_sandbox/payouts/return-after", set_return_after, methods=["POST"]),
    ]
