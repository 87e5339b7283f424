"""Test controls that play PayPal's and the buyer's part: `/_sandbox/` routes about objects.

    POST /_sandbox/orders/{id}/approve          → {"order", "redirect_url"} (as the Approve button)
    POST /_sandbox/orders/{id}/cancel           → {"order", "redirect_url"} (as the Cancel button)
    POST /_sandbox/orders/{id}/capture-outcome  {"status": COMPLETED|PENDING|DECLINED, "reason"?}
    POST /_sandbox/captures/{id}/complete       a PENDING capture completes → the capture
    POST /_sandbox/captures/{id}/deny           a PENDING capture is denied → the capture
    POST /_sandbox/payouts/{id}/process         settle a batch now → the batch
    POST /_sandbox/payouts-item/{id}/return     an UNCLAIMED item is RETURNED now → the item
    POST /_sandbox/payouts-item/{id}/claim      an UNCLAIMED item is claimed (SUCCESS) → the item
    POST /_sandbox/disputes                     {"capture_id", "reason"?, "amount"?} → 201 dispute
    POST /_sandbox/disputes/{id}/resolve        {"outcome"} → the dispute
    POST /_sandbox/invoices/{id}/pay            the buyer pays a sent invoice → the invoice

No credentials needed. Errors come back in PayPal's shape. The rules themselves live in the
operation modules; this module only binds them to routes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import captures, disputes, identifiers, invoices, orders, payouts
from .errors import ORDERS, InvalidRequest, Issue, PayPalError
from .payouts import PayoutTiming
from .records import JSON
from .store import Store

Handler = Callable[[JSON, dict[str, str], str], tuple[int, Any]]


def _endpoint(store: Store, handler: Handler) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            error = InvalidRequest(Issue("MALFORMED_REQUEST_JSON"))
            return JSONResponse(error.body(identifiers.debug_id(), ORDERS), error.status)
        params = {k: str(v) for k, v in request.path_params.items()}
        base_url = str(request.base_url).rstrip("/")
        try:
            with store.lock:
                status, content = handler(body, params, base_url)
        except PayPalError as exc:
            return JSONResponse(exc.body(identifiers.debug_id(), ORDERS), exc.status)
        return JSONResponse(content, status)

    return endpoint


def scenario_routes(store: Store, payout_timing: PayoutTiming) -> list[Route]:
    """The object controls, bound to the app's store."""

    def approve(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        record, target = orders.approve(store, params["id"], base)
        return 200, {"order": orders.render(store, record, base, full=True), "redirect_url": target}

    def cancel(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        record, target = orders.cancel(store, params["id"])
        return 200, {"order": orders.render(store, record, base, full=True), "redirect_url": target}

    def outcome(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        chosen = captures.set_outcome(store, params["id"], body)
        return 200, {"order_id": params["id"], "status": chosen.status, "reason": chosen.reason}

    def complete(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, captures.settle_pending(store, params["id"], completed=True, base_url=base)

    def deny(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, captures.settle_pending(store, params["id"], completed=False, base_url=base)

    def process(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, payouts.process(store, params["id"], payout_timing)

    def return_item(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, payouts.move_unclaimed(store, params["id"], "RETURNED")

    def claim_item(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, payouts.move_unclaimed(store, params["id"], "SUCCESS")

    def open_dispute(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 201, disputes.open_dispute(store, body, base)

    def resolve(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, disputes.resolve(store, params["id"], body.get("outcome"), base)

    def pay(body: JSON, params: dict[str, str], base: str) -> tuple[int, Any]:
        return 200, invoices.pay(store, params["id"], base)

    table: list[tuple[str, Handler]] = [
        ("/_sandbox/orders/{id}/approve", approve),
        ("/_sandbox/orders/{id}/cancel", cancel),
        ("/_sandbox/orders/{id}/capture-outcome", outcome),
        ("/_sandbox/captures/{id}/complete", complete),
        ("/_sandbox/captures/{id}/deny", deny),
        ("/_sandbox/payouts/{id}/process", process),
        ("/_sandbox/payouts-item/{id}/return", return_item),
        ("/_sandbox/payouts-item/{id}/claim", claim_item),
        ("/_sandbox/disputes", open_dispute),
        ("/_sandbox/disputes/{id}/resolve", resolve),
        ("/_sandbox/invoices/{id}/pay", pay),
    ]
    return [Route(path, _endpoint(store, handler), methods=["POST"]) for path, handler in table]
