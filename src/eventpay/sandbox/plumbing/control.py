"""Test-control pieces that mean the same in every sandbox: JSON in and out, deliveries, faults.

Each sandbox assembles its own `/_sandbox/` table (reset, resend and anything provider-shaped
stay there) from these: `json_body` and `error_response` (`{"error": {"message": ...}}`, the
controls' own error shape, not a provider's), the delivery log filtered by event and target,
the fault routes and the idempotency counters. No API route and no provider error lives here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .delivery import DeliveryRecord
from .faults import BASIC_MODES, FaultBook, FaultSpecError, Mode, parse_fault


class Counting(Protocol):
    """An idempotency ledger that can say how much it holds."""

    def counts(self) -> dict[str, int]: ...


def error_response(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


async def json_body(request: Request) -> Any:
    """The parsed JSON body, `{}` for an empty one; raises json.JSONDecodeError."""
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def deliveries_route(attempts: Callable[[], Sequence[DeliveryRecord]], target_param: str) -> Route:
    """`GET /_sandbox/deliveries` (`?event_id=`, `?{target_param}=`): attempts, oldest first."""

    async def deliveries(request: Request) -> JSONResponse:
        event_id = request.query_params.get("event_id")
        target_id = request.query_params.get(target_param)
        data = [
            attempt.to_json()
            for attempt in attempts()
            if event_id in (None, attempt.event_id) and target_id in (None, attempt.target_id)
        ]
        return JSONResponse({"data": data})

    return Route("/_sandbox/deliveries", deliveries, methods=["GET"])


def fault_routes(
    faults: FaultBook,
    *,
    default_prefix: str,
    new_id: Callable[[], str],
    modes: tuple[Mode, ...] = BASIC_MODES,
) -> list[Route]:
    """`POST`, `GET` and `DELETE /_sandbox/faults`: arm, list and clear faults (of `modes`)."""

    async def add_fault(request: Request) -> JSONResponse:
        try:
            spec = await json_body(request)
            fault = parse_fault(spec, default_prefix=default_prefix, new_id=new_id, modes=modes)
        except (json.JSONDecodeError, FaultSpecError) as exc:
            return error_response(f"invalid fault: {exc}")
        faults.add(fault)
        return JSONResponse(fault.to_json(), status_code=201)

    async def list_faults(request: Request) -> JSONResponse:
        return JSONResponse({"data": [fault.to_json() for fault in faults.armed()]})

    async def clear_faults(request: Request) -> JSONResponse:
        cleared = len(faults.armed())
        faults.clear()
        return JSONResponse({"cleared": cleared})

    return [
        Route("/_sandbox/faults", add_fault, methods=["POST"]),
        Route("/_sandbox/faults", list_faults, methods=["GET"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
    ]


def idempotency_route(ledger: Counting) -> Route:
    """`GET /_sandbox/idempotency`: the ledger's counters (tests wait for in-flight keys)."""

    async def idempotency(request: Request) -> JSONResponse:
        return JSONResponse(ledger.counts())

    return Route("/_sandbox/idempotency", idempotency, methods=["GET"])
