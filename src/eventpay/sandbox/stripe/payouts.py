"""Payouts from the platform's balance or, with `Stripe-Account`, a connected account's.

`POST /v1/payouts` takes the amount off the available balance at once (a `payout` balance
transaction) and answers `pending`; a moment later (`store.later`, the same delay as later
refund outcomes) the sandbox pays it: `paid`, `payout.updated` and `payout.paid`. The test
controls `POST /_sandbox/payouts/{id}/pay` (pay now) and `POST /_sandbox/payouts/{id}/fail`
(JSON `{failure_code?}`) decide it sooner; a failure, pending or already paid (Stripe reports
some failures after `paid`), returns the money (`payout_failure`) and sends `payout.updated` and
`payout.failed`. A connected account needs `payouts_enabled`. Only standard payouts to the
account's bank account exist here. `GET /v1/payouts[/{id}]` reads them.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from eventpay.sandbox.plumbing.control import error_response, json_body

from . import balance, connect_objects, currencies, objects
from .currencies import shown
from .errors import InvalidRequestError, ParameterError, ResourceMissing
from .gateway import Call
from .objects import JSON
from .resources import expand, paginate
from .store import Origin, Store

Result = tuple[int, JSON]

PLATFORM_BANK_ACCOUNT = "ba_sandboxplatformbank000"
ARRIVAL_DELAY_S = 2 * 24 * 60 * 60
# Stripe's payout failure codes the control accepts, with Stripe's messages.
FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "could_not_process": "The bank could not process this payout.",
    "insufficient_funds": "Your Stripe account has insufficient funds to cover the payout.",
    "invalid_account_number": "The routing number seems correct, but the account number is "
    "invalid.",
    "no_account": "The bank account details on file are probably incorrect. No bank account "
    "could be located with those details.",
}
STATUSES = ("pending", "paid", "failed", "canceled", "in_transit")


def _destination(store: Store, owner: str | None) -> str:
    if owner is None:
        return PLATFORM_BANK_ACCOUNT
    account = store.account(owner)
    if not account["payouts_enabled"]:
        raise InvalidRequestError(
            "Payouts have been disabled on this account. Please check your account settings "
            "for more information.",
            code="payouts_not_allowed",
        )
    banks = account["external_accounts"]["data"]
    return str(banks[0]["id"]) if banks else objects.new_id("ba_")


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "amount",
            "currency",
            "description",
            "metadata",
            "method",
            "statement_descriptor",
            "expand",
        ]
    )
    amount = int(params.integer("amount", required=True, minimum=1) or 0)
    currency = currencies.check_currency(str(params.string("currency", required=True)))
    currencies.check_amount(amount, currency)
    if params.string("method", choices=("standard", "instant")) == "instant":
        raise ParameterError("The Stripe sandbox offers standard payouts only.", param="method")
    owner = balance.acting_for(store, call)
    destination = _destination(store, owner)
    have = balance.available(store, owner).get(currency, 0)
    if have < amount:
        raise InvalidRequestError(
            "You have insufficient funds in your Stripe account for this transfer. Your card "
            f"balance is too low ({shown(have, currency)} available). You can use the "
            "/v1/balance endpoint to view your Stripe balance (for more details, see "
            "stripe.com/docs/api#balance).",
            code="balance_insufficient",
            param="amount",
        )
    po_id = objects.new_id("po_")
    taken = balance.record(
        store,
        owner=owner,
        amount=-amount,
        currency=currency,
        txn_type="payout",
        reporting_category="payout",
        source=po_id,
        description="STRIPE PAYOUT",
    )
    created = int(time.time())
    payout = connect_objects.payout(
        po_id=po_id,
        created=created,
        arrival_date=created + ARRIVAL_DELAY_S,
        amount=amount,
        currency=currency,
        destination=destination,
        balance_transaction=taken["id"],
        description=params.string("description") or "STRIPE PAYOUT",
        metadata=params.metadata() or {},
        method="standard",
        statement_descriptor=params.string("statement_descriptor") or None,
    )
    store.state.payouts[po_id] = payout
    store.state.owners[po_id] = owner
    store.emit("payout.created", payout, call.origin)
    store.later.schedule(_when_pending(store, po_id))
    return 200, expand(store, payout, params.strings("expand"))


def _when_pending(store: Store, po_id: str) -> Callable[[], None]:
    def action() -> None:
        with store.lock:
            found = store.state.payouts.get(po_id)
            if found is not None and found["status"] == "pending":
                pay(store, found)

    return action


def pay(store: Store, payout: JSON) -> None:
    """The bank received it."""
    previous = {"status": payout["status"]}
    payout.update(status="paid", reconciliation_status="completed")
    payout["trace_id"] = {"status": "supported", "value": objects.new_id("TRACE", 10)}
    store.emit("payout.updated", payout, Origin(), previous=previous)
    store.emit("payout.paid", payout, Origin())


def fail(store: Store, payout: JSON, failure_code: str) -> None:
    """The bank returned it: the money is back on the balance it left."""
    previous = {"status": payout["status"]}
    back = balance.record(
        store,
        owner=store.state.owners.get(payout["id"]),
        amount=int(payout["amount"]),
        currency=str(payout["currency"]),
        txn_type="payout_failure",
        reporting_category="payout_reversal",
        source=payout["id"],
        description="STRIPE PAYOUT FAILURE",
    )
    payout.update(
        status="failed",
        failure_code=failure_code,
        failure_message=FAILURES[failure_code],
        failure_balance_transaction=back["id"],
    )
    store.emit("payout.updated", payout, Origin(), previous=previous)
    store.emit("payout.failed", payout, Origin())


def _owned(store: Store, call: Call, po_id: str) -> JSON:
    owner = balance.acting_for(store, call)
    payout = store.payout(po_id)
    if store.state.owners.get(po_id) != owner:
        raise ResourceMissing("payout", po_id)
    return payout


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    payout = _owned(store, call, call.path("id"))
    return 200, expand(store, payout, call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "status", "expand"])
    owner = balance.acting_for(store, call)
    status = params.string("status", choices=STATUSES)
    found = [
        p
        for po_id, p in store.state.payouts.items()
        if store.state.owners.get(po_id) == owner and status in (None, p["status"])
    ]
    page = paginate(found[::-1], params, url="/v1/payouts", kind="payout")
    return 200, expand(store, page, params.strings("expand"))


def payout_control_routes(store: Store) -> list[Route]:
    """`/_sandbox/payouts/{id}/pay` and `/fail`: decide a payout now, for tests."""

    async def decide(request: Request, paying: bool) -> JSONResponse:
        try:
            body: Any = await json_body(request)
        except json.JSONDecodeError:
            return error_response("body must be JSON")
        code = body.get("failure_code", "account_closed") if isinstance(body, dict) else None
        if not paying and code not in FAILURES:
            return error_response(f"failure_code must be one of {', '.join(sorted(FAILURES))}")
        po_id = str(request.path_params["po_id"])
        with store.lock:
            payout = store.state.payouts.get(po_id)
            if payout is None:
                return error_response(f"No such payout: '{po_id}'", 404)
            allowed = ("pending",) if paying else ("pending", "paid")
            if payout["status"] not in allowed:
                return error_response(f"payout {po_id} is {payout['status']}", 409)
            if paying:
                pay(store, payout)
            else:
                fail(store, payout, str(code))
            return JSONResponse(copy.deepcopy(payout))

    async def pay_now(request: Request) -> JSONResponse:
        return await decide(request, paying=True)

    async def fail_now(request: Request) -> JSONResponse:
        return await decide(request, paying=False)

    return [
        Route("/_sandbox/payouts/{po_id}/pay", pay_now, methods=["POST"]),
        Route("/_sandbox/payouts/{po_id}/fail", fail_now, methods=["POST"]),
    ]
