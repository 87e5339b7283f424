"""The fake PayPal's Payouts, Disputes, Invoicing and verify-webhook-signature routes.

Mixed into `FakePayPal`; answers follow PayPal's specifications (checked by the fake) and the
behaviour the adapter relies on: a reused `sender_batch_id` is refused with PayPal's
USER_BUSINESS_ERROR and a link to the original batch, dispute actions take multipart with an
`input` JSON part, send/cancel answer with a link or nothing, invoice numbers are unique.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx

JSON = dict[str, Any]
Answer = tuple[int, JSON | None]
BASE = "https://api-m.sandbox.paypal.com"


# PayPal's fixed messages per status (its v2 specifications enumerate them).
MESSAGES = {
    400: "Request is not well-formed, syntactically incorrect, or violates schema.",
    404: "The specified resource does not exist.",
    422: (
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation."
    ),
}
# Issues PayPal documents and sends that its OpenAPI files do not enumerate for the route:
# answers carrying them are not checked against the specification.
SPEC_GAPS = frozenset({"DUPLICATE_INVOICE_NUMBER"})


def error(status: int, name: str, issue: str | None = None, **extra: Any) -> Answer:
    """PayPal's error body; issue descriptions are left out (the spec fixes their text)."""
    body: JSON = {"name": name, "message": MESSAGES.get(status, name), "debug_id": "dbg123"}
    if issue is not None:
        body["details"] = [{"issue": issue, **extra.pop("detail", {})}]
    return status, {**body, **extra}


def multipart_parts(request: httpx.Request) -> dict[str, tuple[str, bytes]]:
    """name -> (content type, content) of a multipart/form-data request."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        parts[name] = (part.get_content_type(), payload)
    return parts


@dataclass
class BusinessRoutes:
    batches: dict[str, JSON] = field(default_factory=dict)
    batch_by_sender_id: dict[str, str] = field(default_factory=dict)
    disputes: dict[str, JSON] = field(default_factory=dict)
    dispute_inputs: list[JSON] = field(default_factory=list)
    invoices: dict[str, JSON] = field(default_factory=dict)
    verification_status: str = "SUCCESS"
    verify_requests: list[bytes] = field(default_factory=list)

    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str = "") -> str:
        """A PayPal-looking id: 17 upper-case letters and digits."""
        return f"{prefix}{next(self.ids):0{17 - len(prefix)}d}"

    def business_route(self, parts: list[str]) -> Callable[..., Answer] | None:
        if parts[:3] == ["v1", "payments", "payouts"]:
            return self._payouts
        if parts[:3] == ["v1", "customer", "disputes"]:
            return self._disputes
        if parts[:3] == ["v2", "invoicing", "invoices"]:
            return self._invoices
        if parts[:3] == ["v1", "notifications", "verify-webhook-signature"]:
            return self._verify
        return None

    # -- payouts --------------------------------------------------------------------------

    def _payouts(self, method: str, parts: list[str], body: Any, req: httpx.Request) -> Answer:
        if method == "GET":
            batch = self.batches.get(parts[3])
            return (200, batch) if batch else error(404, "INVALID_RESOURCE_ID", "NOT_FOUND")
        header = body["sender_batch_header"]
        existing = self.batch_by_sender_id.get(header["sender_batch_id"])
        if existing is not None:
            href = f"{BASE}/v1/payments/payouts/{existing}"
            return error(
                400,
                "USER_BUSINESS_ERROR",
                "Batch with given sender_batch_id already exists",
                message="User business error.",
                detail={"field": "SENDER_BATCH_ID", "location": "body"},
                links=[{"href": href, "rel": "self", "method": "GET"}],
            )
        batch_id = self.new_id("PB")
        items = [
            {
                "payout_item_id": self.new_id("PI"),
                "transaction_status": "UNCLAIMED" if "unclaimed" in item["receiver"] else "SUCCESS",
                "payout_batch_id": batch_id,
                "payout_item": item,
            }
            for item in body["items"]
        ]
        batch_header = {
            "payout_batch_id": batch_id,
            "batch_status": "PENDING",
            "sender_batch_header": header,
        }
        self.batch_by_sender_id[header["sender_batch_id"]] = batch_id
        self.batches[batch_id] = {
            "batch_header": {**batch_header, "batch_status": "SUCCESS"},
            "items": items,
        }
        return 201, {"batch_header": batch_header, "links": [{"href": BASE, "rel": "self"}]}

    # -- disputes -------------------------------------------------------------------------

    def add_dispute(self, capture_id: str, value: str = "10.00", currency: str = "USD") -> str:
        dispute_id = f"PP-D-{len(self.disputes) + 1000}"
        self.disputes[dispute_id] = {
            "dispute_id": dispute_id,
            "create_time": "2026-01-02T10:00:00.000Z",
            "update_time": "2026-01-02T10:00:00.000Z",
            "disputed_transactions": [{"seller_transaction_id": capture_id}],
            "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
            "status": "WAITING_FOR_SELLER_RESPONSE",
            "dispute_amount": {"currency_code": currency, "value": value},
            "links": [
                {
                    "href": f"{BASE}/v1/customer/disputes/{dispute_id}",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }
        return dispute_id

    def _disputes(self, method: str, parts: list[str], body: Any, req: httpx.Request) -> Answer:
        if len(parts) == 3:
            keys = ("dispute_id", "create_time", "reason", "status", "dispute_amount")
            items = [{k: d[k] for k in keys} for d in self.disputes.values()]
            return 200, {"items": items, "links": [{"href": BASE, "rel": "self"}]}
        dispute = self.disputes.get(parts[3])
        if dispute is None:
            return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if method == "GET":
            return 200, dispute
        content_type, content = multipart_parts(req)["input"]
        assert content_type == "application/json"
        request = json.loads(content)
        self.dispute_inputs.append(request)
        if parts[4] == "provide-evidence":
            assert request["evidences"][0]["evidence_type"] == "OTHER"
            dispute["status"] = "UNDER_REVIEW"
        else:
            assert request["note"]
            dispute["status"] = "RESOLVED"
            dispute["dispute_outcome"] = {
                "outcome_code": "RESOLVED_BUYER_FAVOUR",
                "amount_refunded": dispute["dispute_amount"],
            }
        link = {"href": f"{BASE}/v1/customer/disputes/{parts[3]}", "rel": "self", "method": "GET"}
        return 200, {"links": [link]}

    # -- invoices -------------------------------------------------------------------------

    def _invoices(self, method: str, parts: list[str], body: Any, req: httpx.Request) -> Answer:
        if method == "POST" and len(parts) == 3:
            return self._create_invoice(body, req)
        invoice = self.invoices.get(parts[3])
        if invoice is None:
            return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if method == "GET":
            return 200, invoice
        link = {"href": f"{BASE}/invoice/p/#{parts[3]}", "rel": "payer-view", "method": "GET"}
        if parts[4] == "send":
            invoice["status"] = "SENT"
            invoice["links"].append(link)
            return 200, link
        if invoice["status"] == "DRAFT":
            return error(422, "UNPROCESSABLE_ENTITY", "CANNOT_CANCEL_DRAFT_INVOICE")
        invoice["status"] = "CANCELLED"
        return 204, None

    def _create_invoice(self, body: JSON, req: httpx.Request) -> Answer:
        number = body["detail"]["invoice_number"]
        if any(i["detail"]["invoice_number"] == number for i in self.invoices.values()):
            return error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_NUMBER")
        invoice_id = f"INV2-{len(self.invoices) + 1:04d}-AAAA-BBBB-CCCC"
        currency = body["detail"]["currency_code"]
        total = sum(
            (Decimal(i["unit_amount"]["value"]) * int(i["quantity"]) for i in body["items"]),
            Decimal(0),
        )
        href = f"{BASE}/v2/invoicing/invoices/{invoice_id}"
        self.invoices[invoice_id] = {
            **body,
            "id": invoice_id,
            "status": "DRAFT",
            "amount": {"currency_code": currency, "value": str(total)},
            "links": [{"href": href, "rel": "self", "method": "GET"}],
        }
        if "return=representation" in req.headers.get("prefer", ""):
            return 201, self.invoices[invoice_id]
        return 201, {"href": href, "rel": "self", "method": "GET"}

    # -- webhooks -------------------------------------------------------------------------

    def _verify(self, method: str, parts: list[str], body: Any, req: httpx.Request) -> Answer:
        self.verify_requests.append(req.content)
        return 200, {"verification_status": self.verification_status}
