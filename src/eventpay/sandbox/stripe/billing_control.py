"""Billing test controls under `/_sandbox/` (plain JSON, no API key): not part of Stripe's API.

- `POST /_sandbox/customers/{id}/test_clock`: attach a new test clock, frozen at the current
  time, to a customer created without one (and to its subscriptions and invoices), and answer
  with the clock. Stripe only attaches clocks at creation; this lets a test drive the billing
  time of customers the service created itself, with the ordinary
  `POST /v1/test_helpers/test_clocks/{id}/advance`.
- `POST /_sandbox/invoices/{id}/overdue`: the open invoice is overdue now: `invoice.overdue`
  (once per invoice, as when a clock passes its due date), for invoices not on a clock.

Making renewals fail needs no control: set a declining card (`pm_card_chargeDeclined`,
`pm_card_chargeCustomerFail`) as the subscription's or the customer's default payment method.
"""

from __future__ import annotations

import copy
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from eventpay.sandbox.plumbing.control import error_response

from . import billing_invoices, billing_objects
from .billing_common import customer, invoice, state
from .errors import StripeError
from .objects import new_id
from .store import Origin, Store


def billing_control_routes(store: Store) -> list[Route]:
    async def attach_clock(request: Request) -> JSONResponse:
        cus_id = str(request.path_params["cus_id"])
        with store.lock:
            try:
                cus = customer(store, cus_id)
            except StripeError as exc:
                return error_response(exc.message, exc.status)
            if cus["test_clock"] is not None:
                return error_response(f"Customer {cus_id} already has a test clock.", 409)
            now = int(time.time())
            clock = billing_objects.test_clock(
                clock_id=new_id("clock_"),
                created=now,
                frozen_time=now,
                name=f"attached to {cus_id} by the sandbox",
            )
            billing = state(store)
            billing.test_clocks[clock["id"]] = clock
            cus["test_clock"] = clock["id"]
            for table in (billing.subscriptions, billing.invoices, billing.invoice_items):
                for obj in table.values():
                    if obj["customer"] == cus_id:
                        obj["test_clock"] = clock["id"]
            store.emit("test_helpers.test_clock.created", clock, Origin())
            return JSONResponse(copy.deepcopy(clock))

    async def overdue(request: Request) -> JSONResponse:
        in_id = str(request.path_params["in_id"])
        with store.lock:
            try:
                inv = invoice(store, in_id)
            except StripeError as exc:
                return error_response(exc.message, exc.status)
            if inv["status"] != "open" or inv["due_date"] is None:
                return error_response("Only an open invoice with a due date can be overdue.", 409)
            billing_invoices.check_overdue(store, inv, max(int(inv["due_date"]), 0), Origin())
            return JSONResponse(copy.deepcopy(inv))

    return [
        Route("/_sandbox/customers/{cus_id}/test_clock", attach_clock, methods=["POST"]),
        Route("/_sandbox/invoices/{in_id}/overdue", overdue, methods=["POST"]),
    ]
