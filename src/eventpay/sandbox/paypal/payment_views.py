"""How captures and refunds look from outside: their JSON with the HATEOAS links PayPal adds.

Records keep captures and refunds without links; these renderers add `self`, `refund` and `up`
links pointing at this sandbox, and the Payments API's extras (`supplementary_data` with the
order id, `payee`) when the object is shown on its own rather than inside its order. Used by
orders, captures, refunds and disputes; pure functions of a record and a base URL.
"""

from __future__ import annotations

import copy

from . import accounts
from .errors import link
from .records import JSON, CaptureRecord, RefundRecord


def capture_url(base_url: str, capture_id: str) -> str:
    return f"{base_url}/v2/payments/captures/{capture_id}"


def refund_url(base_url: str, refund_id: str) -> str:
    return f"{base_url}/v2/payments/refunds/{refund_id}"


def order_url(base_url: str, order_id: str) -> str:
    return f"{base_url}/v2/checkout/orders/{order_id}"


def render_capture(record: CaptureRecord, base_url: str, *, standalone: bool) -> JSON:
    """A capture as the order shows it, or (`standalone`) as GET /v2/payments/captures shows it."""
    out = copy.deepcopy(record.capture)
    url = capture_url(base_url, out["id"])
    out["links"] = [
        link(url, "self"),
        link(f"{url}/refund", "refund", "POST"),
        link(order_url(base_url, record.order_id), "up"),
    ]
    if standalone:
        out["supplementary_data"] = {"related_ids": {"order_id": record.order_id}}
        out["payee"] = accounts.payee()
    return out


def render_refund(record: RefundRecord, base_url: str) -> JSON:
    out = copy.deepcopy(record.refund)
    out["links"] = [
        link(refund_url(base_url, out["id"]), "self"),
        link(capture_url(base_url, record.capture_id), "up"),
    ]
    return out
