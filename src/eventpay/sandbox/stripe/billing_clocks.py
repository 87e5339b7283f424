"""Test clocks: create, retrieve, list, delete, and advance, which is where billing time passes.

Customers created with `test_clock` (and their subscriptions and invoices) live at the clock's
`frozen_time`. `advance` walks forward to the new time doing, in time order, what Stripe would
have done on the way: subscription periods end (renewal invoice charged to the default payment
method, or the cancellation scheduled with `cancel_at_period_end`), failed renewals are retried
(1, 3, 7 days: billing_dunning.py), unpaid first invoices expire their subscription after 23
hours, and open invoices past their `due_date` send `invoice.overdue`. Each step runs at its own
moment, so object timestamps read as they would at Stripe. Unlike Stripe, the work is done
before the advance request returns; the answer still says `advancing` (poll for `ready`, as
with Stripe) and `test_helpers.test_clock.advancing` / `.ready` events are sent.
Objects not attached to a clock follow the wall clock and are never renewed by the sandbox.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from . import billing_invoices, billing_objects, billing_periods
from .billing_common import Result, find_clock, page, state
from .errors import InvalidRequestError, ParameterError
from .gateway import Call
from .objects import JSON, new_id
from .store import Origin, Store

_MAX_STEPS = 10_000
Step = Callable[[], None]


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["frozen_time", "name", "expand"])
    frozen = params.integer("frozen_time", required=True, minimum=0)
    clock = billing_objects.test_clock(
        clock_id=new_id("clock_"),
        created=int(time.time()),
        frozen_time=int(frozen or 0),
        name=params.string("name") or None,
    )
    state(store).test_clocks[clock["id"]] = clock
    store.emit("test_helpers.test_clock.created", clock, call.origin)
    return 200, copy.deepcopy(clock)


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, copy.deepcopy(find_clock(store, call.path("id")))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "expand"])
    items = list(state(store).test_clocks.values())
    return 200, copy.deepcopy(
        page(items, params, url="/v1/test_helpers/test_clocks", kind="test_clock")
    )


def delete(store: Store, call: Call) -> Result:
    """Delete the clock and every customer, subscription and invoice attached to it."""
    call.params.only([])
    clock = find_clock(store, call.path("id"))
    billing = state(store)
    customers = {c for c, obj in billing.customers.items() if obj["test_clock"] == clock["id"]}
    for table in (billing.subscriptions, billing.invoices, billing.invoice_items):
        for obj_id in [k for k, v in table.items() if v["customer"] in customers]:
            del table[obj_id]
    for cus_id in customers:
        del billing.customers[cus_id]
    del billing.test_clocks[clock["id"]]
    store.emit("test_helpers.test_clock.deleted", clock, call.origin)
    return 200, billing_objects.deleted(clock["id"], "test_helpers.test_clock")


def _next_step(
    store: Store, clock_id: str, origin: Origin, base_url: str
) -> tuple[int, Step] | None:
    """The earliest thing due on this clock, with what doing it means."""
    billing = state(store)
    on_clock = {c for c, obj in billing.customers.items() if obj["test_clock"] == clock_id}
    steps: list[tuple[int, int, Step]] = []
    for inv in billing.invoices.values():
        if inv["customer"] not in on_clock or inv["status"] != "open":
            continue
        retry_at = inv["next_payment_attempt"]
        if retry_at is not None:
            steps.append((int(retry_at), 0, _retry(store, inv, origin, base_url)))
        due = inv["due_date"]
        if due is not None and inv["id"] not in billing.overdue_sent:
            steps.append((int(due), 1, _overdue(store, inv, int(due), origin)))
    for sub in billing.subscriptions.values():
        if sub["customer"] not in on_clock:
            continue
        deadline = billing.incomplete_deadline.get(sub["id"])
        if deadline is not None:
            steps.append((deadline, 2, _expire(store, sub, origin)))
        ends = billing_periods.due_at(sub)
        if ends is not None:
            steps.append((ends, 3, _renew(store, sub, origin, base_url)))
    if not steps:
        return None
    at, _, step = min(steps, key=lambda s: (s[0], s[1]))
    return at, step


def _retry(store: Store, inv: JSON, origin: Origin, base_url: str) -> Step:
    def step() -> None:
        inv["next_payment_attempt"] = None
        billing_invoices.collect(store, inv, origin, base_url=base_url)

    return step


def _overdue(store: Store, inv: JSON, due: int, origin: Origin) -> Step:
    return lambda: billing_invoices.check_overdue(store, inv, due, origin)


def _expire(store: Store, sub: JSON, origin: Origin) -> Step:
    return lambda: billing_periods.expire_incomplete(store, sub, origin)


def _renew(store: Store, sub: JSON, origin: Origin, base_url: str) -> Step:
    return lambda: billing_periods.period_ends(store, sub, origin, base_url=base_url)


def advance(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["frozen_time", "expand"])
    clock = find_clock(store, call.path("id"))
    target = int(params.integer("frozen_time", required=True, minimum=0) or 0)
    if target <= int(clock["frozen_time"]):
        raise ParameterError(
            "Cannot advance a test clock to a time at or before its current frozen_time "
            f"({clock['frozen_time']}).",
            param="frozen_time",
        )
    if clock["status"] != "ready":
        raise InvalidRequestError(
            f"The test clock is {clock['status']}; wait until it is ready.",
            code="test_clock_not_ready" if clock["status"] == "advancing" else None,
        )
    clock.update(status="advancing", status_details={"advancing": {"target_frozen_time": target}})
    store.emit("test_helpers.test_clock.advancing", clock, call.origin)
    answer = copy.deepcopy(clock)
    for _ in range(_MAX_STEPS):
        # What the clock sets off is Stripe's own doing: its events name no API request.
        found = _next_step(store, clock["id"], Origin(), call.base_url)
        if found is None or found[0] > target:
            break
        at, step = found
        clock["frozen_time"] = max(int(clock["frozen_time"]), at)
        step()
    clock.update(frozen_time=target, status="ready", status_details={})
    store.emit("test_helpers.test_clock.ready", clock, Origin())
    return 200, answer
