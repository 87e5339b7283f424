"""Orders v2: create, show, and the buyer's approval or cancellation of an order.

Statuses: CREATED (no payment_source: the buyer goes to the `approve` link) or
PAYER_ACTION_REQUIRED (payment_source.paypal given: the `payer-action` link) → APPROVED once
the test buyer approves → COMPLETED after a capture (captures.py). Cancelling at the approval
page leaves the order as it was, like PayPal. `Prefer: return=minimal` (PayPal's default)
answers `{id, status, payment_source?, links}`; `return=representation` the whole order.
"""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from . import accounts, identifiers
from .errors import Issue, UnprocessableEntity, link
from .gateway import Call, Reply
from .order_requests import parse_order_request
from .payment_views import order_url, render_capture, render_refund
from .records import JSON, OrderRecord
from .store import Store

_AWAITING = ("CREATED", "PAYER_ACTION_REQUIRED")


def checkout_url(base_url: str, order_id: str) -> str:
    return f"{base_url}/checkoutnow?{urlencode({'token': order_id})}"


def create(store: Store, call: Call) -> Reply:
    request = parse_order_request(call.body)
    now = identifiers.timestamp()
    status = "PAYER_ACTION_REQUIRED" if request.payment_source is not None else "CREATED"
    order: JSON = {
        "id": identifiers.resource_id(),
        "intent": "CAPTURE",
        "status": status,
        "purchase_units": [request.purchase_unit],
        "create_time": now,
        "update_time": now,
    }
    if request.payment_source is not None:
        order["payment_source"] = request.payment_source
    record = OrderRecord(order, status, request.return_url, request.cancel_url)
    store.state.orders[order["id"]] = record
    return Reply(201, render(store, record, call.base_url, full=call.representation))


def retrieve(store: Store, call: Call) -> Reply:
    record = store.order(call.path("id"))
    return Reply(200, render(store, record, call.base_url, full=True))


def render(store: Store, record: OrderRecord, base_url: str, *, full: bool) -> JSON:
    """The order with its payments and the links its status allows."""
    order = copy.deepcopy(record.order)
    links = _links(order["id"], order["status"], base_url)
    if not full:
        minimal = {"id": order["id"], "status": order["status"]}
        if "payment_source" in order:
            minimal["payment_source"] = order["payment_source"]
        return {**minimal, "links": links}
    captures = [store.state.captures[cid] for cid in record.capture_ids]
    if captures:
        payments: JSON = {
            "captures": [render_capture(c, base_url, standalone=False) for c in captures]
        }
        refunds = [store.state.refunds[rid] for c in captures for rid in c.refund_ids]
        if refunds:
            payments["refunds"] = [render_refund(r, base_url) for r in refunds]
        order["purchase_units"][0]["payments"] = payments
    order["links"] = links
    return order


def _links(order_id: str, status: str, base_url: str) -> list[JSON]:
    url = order_url(base_url, order_id)
    links = [link(url, "self")]
    if status == "COMPLETED":
        return links
    if status in _AWAITING:
        rel = "approve" if status == "CREATED" else "payer-action"
        links.append(link(checkout_url(base_url, order_id), rel))
    links.append(link(url, "update", "PATCH"))
    links.append(link(f"{url}/capture", "capture", "POST"))
    return links


def _refuse_completed(record: OrderRecord) -> None:
    if record.order["status"] == "COMPLETED":
        raise UnprocessableEntity(Issue("ORDER_ALREADY_CAPTURED", location="path"))


def approve(store: Store, order_id: str, base_url: str) -> tuple[OrderRecord, str | None]:
    """The test buyer approves: APPROVED with a payer, CHECKOUT.ORDER.APPROVED, return URL."""
    record = store.order(order_id)
    _refuse_completed(record)
    order = record.order
    if order["status"] in _AWAITING:
        order["status"] = "APPROVED"
        order["payer"] = accounts.payer()
        order["payment_source"] = {"paypal": accounts.paypal_wallet()}
        order["update_time"] = identifiers.timestamp()
        store.emit(
            "CHECKOUT.ORDER.APPROVED",
            render(store, record, base_url, full=True),
            summary="An order has been approved by buyer",
            base_url=base_url,
        )
    query = {"token": order_id, "PayerID": accounts.BUYER_PAYER_ID}
    return record, _with_query(record.return_url, query)


def cancel(store: Store, order_id: str) -> tuple[OrderRecord, str | None]:
    """The buyer cancels at PayPal: the order is untouched, the browser goes to cancel_url."""
    record = store.order(order_id)
    _refuse_completed(record)
    return record, _with_query(record.cancel_url, {"token": order_id})


def _with_query(url: str | None, query: dict[str, str]) -> str | None:
    if url is None:
        return None
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode(query)}"
