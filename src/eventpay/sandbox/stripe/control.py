"""Test-support routes under `/_sandbox/` (plain JSON, no API key): reset, deliveries, faults.

These are the sandbox's own controls, not Stripe's API: tests use them to start clean, to see
every webhook delivery attempt, to redeliver an event, to arm faults and to wait for requests
that hold an idempotency key. Error bodies use `{"error": {"message": ...}}`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .errors import StripeError
from .faults import FaultBook, FaultSpecError, parse_fault
from .idempotency import IdempotencyLedger
from .store import Store
from .webhooks import Dispatcher


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


def control_routes(
    store: Store, faults: FaultBook, ledger: IdempotencyLedger, dispatcher: Dispatcher
) -> list[Route]:
    """The `/_sandbox/` routes, bound to the app's state."""

    async def reset(request: Request) -> JSONResponse:
        await dispatcher.reset()
        store.reset()
        ledger.clear()
        faults.clear()
        return JSONResponse({"reset": True})

    async def deliveries(request: Request) -> JSONResponse:
        event_id = request.query_params.get("event_id")
        endpoint_id = request.query_params.get("endpoint_id")
        data = [
            attempt.to_json()
            for attempt in dispatcher.attempts()
            if event_id in (None, attempt.event_id) and endpoint_id in (None, attempt.endpoint_id)
        ]
        return JSONResponse({"data": data})

    async def resend(request: Request) -> JSONResponse:
        try:
            body = await _json_body(request)
        except json.JSONDecodeError:
            return _error("body must be JSON")
        endpoint_id = body.get("endpoint_id") if isinstance(body, dict) else None
        if endpoint_id is not None and not isinstance(endpoint_id, str):
            return _error("endpoint_id must be a string")
        event_id = str(request.path_params["event_id"])
        try:
            targets = dispatcher.resend(event_id, endpoint_id)
        except StripeError as exc:
            return _error(exc.message, exc.status)
        return JSONResponse({"event_id": event_id, "endpoints": targets})

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

    return [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/deliveries", deliveries, methods=["GET"]),
        Route("/_sandbox/events/{event_id}/resend", resend, methods=["POST"]),
        Route("/_sandbox/faults", add_fault, methods=["POST"]),
        Route("/_sandbox/faults", list_faults, methods=["GET"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
        Route("/_sandbox/idempotency", idempotency, methods=["GET"]),
    ]
