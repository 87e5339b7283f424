"""Test-support routes under `/_sandbox/` (plain JSON, no API key): reset, deliveries, faults.

These are the sandbox's own controls, not Stripe's API: tests use them to start clean, to see
every webhook delivery attempt (`?endpoint_id=`), to redeliver an event, to arm faults (an
`http_500` fault answers Stripe's api_error, a `status` fault Stripe's error for that status or
a given body; the default `path_prefix` is `/v1`), to wait for requests that hold an
idempotency key, and to move idempotency keys towards expiry: `POST
/_sandbox/idempotency/window {"window_s"}` sets how long keys are remembered (GET reads it) and
`POST /_sandbox/idempotency/age {"seconds"}` makes every remembered key that much older. Error
bodies use `{"error": {"message": ...}}`. The pieces every sandbox shares are
plumbing/control.py's.
"""

from __future__ import annotations

import json

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

from . import objects
from .errors import StripeError
from .idempotency import IdempotencyLedger
from .store import Store
from .webhooks import Dispatcher


def _fault_id() -> str:
    return objects.new_id("flt_", 12)


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

    async def resend(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
        except json.JSONDecodeError:
            return error_response("body must be JSON")
        endpoint_id = body.get("endpoint_id") if isinstance(body, dict) else None
        if endpoint_id is not None and not isinstance(endpoint_id, str):
            return error_response("endpoint_id must be a string")
        event_id = str(request.path_params["event_id"])
        try:
            targets = dispatcher.resend(event_id, endpoint_id)
        except StripeError as exc:
            return error_response(exc.message, exc.status)
        return JSONResponse({"event_id": event_id, "endpoints": targets})

    async def number(request: Request, name: str) -> float | JSONResponse:
        try:
            body = await json_body(request)
        except json.JSONDecodeError:
            return error_response("body must be JSON")
        value = body.get(name) if isinstance(body, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            return error_response(f"{name} must be a positive number of seconds")
        return float(value)

    async def read_window(request: Request) -> JSONResponse:
        return JSONResponse({"window_s": ledger.window_s})

    async def set_window(request: Request) -> JSONResponse:
        window = await number(request, "window_s")
        if isinstance(window, JSONResponse):
            return window
        ledger.set_window(window)
        return JSONResponse({"window_s": ledger.window_s})

    async def age(request: Request) -> JSONResponse:
        seconds = await number(request, "seconds")
        if isinstance(seconds, JSONResponse):
            return seconds
        ledger.age(seconds)
        return JSONResponse({"aged_s": seconds, **ledger.counts()})

    return [
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/idempotency/window", read_window, methods=["GET"]),
        Route("/_sandbox/idempotency/window", set_window, methods=["POST"]),
        Route("/_sandbox/idempotency/age", age, methods=["POST"]),
        deliveries_route(dispatcher.attempts, "endpoint_id"),
        Route("/_sandbox/events/{event_id}/resend", resend, methods=["POST"]),
        *fault_routes(faults, default_prefix="/v1", new_id=_fault_id, modes=MODES),
        idempotency_route(ledger),
    ]
