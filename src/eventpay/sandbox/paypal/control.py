"""Test controls about the sandbox itself: reset, deliveries, events, faults, tokens, request ids.

    POST   /_sandbox/reset                 forget objects, events, deliveries, request ids, faults
                                           (start-up webhooks and issued tokens survive)
    GET    /_sandbox/deliveries            {"data": [attempt...]}  (?event_id=, ?webhook_id=)
    GET    /_sandbox/events                {"data": [event...]}, newest first
    POST   /_sandbox/events/{id}/resend    {"webhook_id"?} → {"event_id", "webhook_ids"}
    POST   /_sandbox/faults                {"path_prefix", "method"?, "mode", "delay_s"?, "times"?}
    GET    /_sandbox/faults                {"data": [fault...]}
    DELETE /_sandbox/faults                {"cleared": n}
    GET    /_sandbox/idempotency           {"request_ids", "in_flight", "replays",
                                            "mismatched_replays"}
    POST   /_sandbox/tokens/expire         {"expired": n}: every issued access token stops working

Object controls (approve, capture outcome, disputes...) are in scenarios.py.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .errors import PayPalError
from .faults import FaultBook, FaultSpecError, parse_fault
from .idempotency import RequestIdLedger
from .oauth import TokenBook
from .store import Store
from .timers import Timers
from .webhooks import Dispatcher


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def control_routes(
    store: Store,
    faults: FaultBook,
    ledger: RequestIdLedger,
    dispatcher: Dispatcher,
    tokens: TokenBook,
    timers: Timers,
) -> list[Route]:
    """The `/_sandbox/` routes about the sandbox, bound to the app's state."""

    async def reset(request: Request) -> JSONResponse:
        await dispatcher.reset()
        timers.cancel_all()
        store.reset()
        ledger.clear()
        faults.clear()
        return JSONResponse({"reset": True})

    async def deliveries(request: Request) -> JSONResponse:
        event_id = request.query_params.get("event_id")
        webhook_id = request.query_params.get("webhook_id")
        data = [
            attempt.to_json()
            for attempt in dispatcher.attempts()
            if event_id in (None, attempt.event_id) and webhook_id in (None, attempt.webhook_id)
        ]
        return JSONResponse({"data": data})

    async def list_events(request: Request) -> JSONResponse:
        return JSONResponse({"data": store.events_newest_first()})

    async def resend(request: Request) -> JSONResponse:
        try:
            body = await _json_body(request)
        except json.JSONDecodeError:
            return _error("body must be JSON")
        webhook_id = body.get("webhook_id") if isinstance(body, dict) else None
        if webhook_id is not None and not isinstance(webhook_id, str):
            return _error("webhook_id must be a string")
        event_id = str(request.path_params["event_id"])
        try:
            targets = dispatcher.resend(event_id, None if webhook_id is None else [webhook_id])
        except PayPalError as exc:
            return _error(str(exc), exc.status)
        return JSONResponse({"event_id": event_id, "webhook_ids": targets})

    async def add_fault(request: Request) -> JSONResponse:
        try:
            fault = parse_fault(await _json_body(request))
        except (json.JSONDecodeError, FaultSpecError) as exc:
            return _error(f"invalid fault: {exc}")
        faults.add(fault)
        return JSONResponse(fault.to_json(), status_code=201)

    async def list_faults(request: Request) -> JSONResponse:
        return JSONResponse({"data": [fault.to_json() for fault in faults.armed()]})

    async def clear_faults(request: Request) -> JSONResponse:
        cleared = len(faults.armed())
        faults.clear()
        return JSONResponse({"cleared": cleared})

    async def idempotency(request: Request) -> JSONResponse:
        return JSONResponse(ledger.counts())

    async def expire_tokens(request: Request) -> JSONResponse:
        return JSONResponse({"expired": tokens.expire_all()})

    return [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/deliveries", deliveries, methods=["GET"]),
        Route("/_sandbox/events", list_events, methods=["GET"]),
        Route("/_sandbox/events/{event_id}/resend", resend, methods=["POST"]),
        Route("/_sandbox/faults", add_fault, methods=["POST"]),
        Route("/_sandbox/faults", list_faults, methods=["GET"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/_sandbox/idempotency", idempotency, methods=["GET"]),
        Route("/_sandbox/tokens/expire", expire_tokens, methods=["POST"]),
    ]
