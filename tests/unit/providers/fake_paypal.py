"""An in-memory PayPal for the adapter's unit tests, served through `httpx.MockTransport`.

It behaves like PayPal where the adapter depends on it (OAuth tokens and 401s, Orders v2
create/read/capture with ORDER_ALREADY_CAPTURED and INSTRUMENT_DECLINED, refunds with their
cap, PayPal-Request-Id replay, payouts, disputes, invoices), and `spec_checks` holds every
request the adapter sends and every answer the fake gives to PayPal's OpenAPI specifications
(unknown keys included), so neither side can drift from PayPal's shapes.

Tests script the rest: `fake.fail_next(...)` answers the next matching request with a given
status or raises a transport error; `fake.approve(order_id)`, `fake.capture_outcome[...]`,
`fake.add_dispute(...)` move PayPal-side state the way a buyer or PayPal would.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .fake_paypal_business import SPEC_GAPS, BusinessRoutes, error
from .spec_checks import check_answer, check_request

API_BASE = "https://api-m.sandbox.paypal.com"
CLIENT_ID = "client-abc"
CLIENT_SECRET = "secret-xyz"

JSON = dict[str, Any]
Answer = tuple[int, JSON | None]


def money_value(amount: JSON) -> Decimal:
    return Decimal(amount["value"])


def _spec_gap(answer: JSON | None) -> bool:
    details = (answer or {}).get("details") or [{}]
    return details[0].get("issue") in SPEC_GAPS


@dataclass
class Scripted:
    method: str
    path_prefix: str
    status: int = 500
    body: JSON | None = None
    exception: Exception | None = None


@dataclass
class FakePayPal(BusinessRoutes):
    expires_in: int = 32400
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    scripted: list[Scripted] = field(default_factory=list)
    orders: dict[str, JSON] = field(default_factory=dict)
    captures: dict[str, str] = field(default_factory=dict)  # capture id -> order id
    capture_outcome: dict[str, str] = field(default_factory=dict)  # order id -> outcome
    replays: dict[tuple[str, str, str], Answer] = field(default_factory=dict)

    # -- plumbing -------------------------------------------------------------------------

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int = 500,
        body: JSON | None = None,
        exception: Exception | None = None,
    ) -> None:
        self.scripted.append(Scripted(method, path_prefix, status, body, exception))

    def api_requests(self, method: str | None = None, path: str = "") -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.url.path != "/v1/oauth2/token"
            and (method is None or r.method == method)
            and r.url.path.startswith(path)
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for scripted in self.scripted:
            if request.method == scripted.method and request.url.path.startswith(
                scripted.path_prefix
            ):
                self.scripted.remove(scripted)
                if scripted.exception is not None:
                    raise scripted.exception
                return httpx.Response(scripted.status, json=scripted.body)
        if request.url.path == "/v1/oauth2/token":
            return self._token(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens_issued or token in self.revoked:
            return httpx.Response(
                401, json={"error": "invalid_token", "error_description": "Token expired"}
            )
        body = check_request(request)
        key = request.headers.get("paypal-request-id")
        replay_key = (request.method, request.url.path, key or "")
        if key is not None and replay_key in self.replays:
            status, answer = self.replays[replay_key]
        else:
            status, answer = self._route(request, body)
            if key is not None and 200 <= status < 300:
                self.replays[replay_key] = (status, answer)
        if not _spec_gap(answer):
            check_answer(request, status, answer)
        return httpx.Response(status, json=answer) if answer is not None else httpx.Response(status)

    def _token(self, request: httpx.Request) -> httpx.Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return httpx.Response(
                401, json={"error": "invalid_client", "error_description": "Client Auth failed"}
            )
        assert request.content == b"grant_type=client_credentials"
        token = f"A21AA{len(self.tokens_issued) + 1:04d}"
        self.tokens_issued.append(token)
        return httpx.Response(
            200,
            json={
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": self.expires_in,
                "nonce": "2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6bAKFoGSEzuy3CQcz3ljhibkOHg",
            },
        )

    def _route(self, request: httpx.Request, body: Any) -> Answer:
        method, parts = request.method, request.url.path.strip("/").split("/")
        handler: Callable[..., Answer] | None = None
        if parts[:3] == ["v2", "checkout", "orders"]:
            handler = self._orders
        elif parts[:3] == ["v2", "payments", "captures"]:
            handler = self._captures
        elif parts[:3] == ["v2", "payments", "refunds"]:
            handler = self._refunds
        else:
            handler = self.business_route(parts)
        if handler is None:
            return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        return handler(method, parts, body, request)

    # -- orders ---------------------------------------------------------------------------

    def approve(self, order_id: str) -> None:
        self.orders[order_id]["status"] = "APPROVED"

    def _orders(self, method: str, parts: list[str], body: Any, request: httpx.Request) -> Answer:
        if method == "POST" and len(parts) == 3:
            return self._create_order(body, request)
        order = self.orders.get(parts[3])
        if order is None:
            return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if method == "GET":
            return 200, order
        return self._capture(order)

    def _create_order(self, body: JSON, request: httpx.Request) -> Answer:
        order_id = self.new_id()
        unit = body["purchase_units"][0]
        items_total = sum(
            (money_value(i["unit_amount"]) * int(i["quantity"]) for i in unit.get("items", [])),
            Decimal(0),
        )
        breakdown = unit["amount"].get("breakdown", {})
        if "item_total" in breakdown and money_value(breakdown["item_total"]) != items_total:
            return error(422, "UNPROCESSABLE_ENTITY", "ITEM_TOTAL_MISMATCH")
        discount = money_value(breakdown["discount"]) if "discount" in breakdown else Decimal(0)
        if "item_total" in breakdown and money_value(unit["amount"]) != items_total - discount:
            return error(422, "UNPROCESSABLE_ENTITY", "AMOUNT_MISMATCH")
        with_source = "payment_source" in body
        rel = "payer-action" if with_source else "approve"
        order = {
            "id": order_id,
            "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED" if with_source else "CREATED",
            "purchase_units": [{**unit, "payee": {"merchant_id": "7KNGBPH2U58GQ"}}],
            "create_time": "2026-01-01T10:00:00Z",
            "links": [
                {
                    "href": f"{API_BASE}/v2/checkout/orders/{order_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                    "rel": rel,
                    "method": "GET",
                },
            ],
        }
        self.orders[order_id] = order
        if "return=representation" in request.headers.get("prefer", ""):
            return 201, order
        return 201, {k: order[k] for k in ("id", "status", "links")}

    def _capture(self, order: JSON) -> Answer:
        if order["status"] == "COMPLETED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] == "PAYER_ACTION_REQUIRED" and "payments" in order["purchase_units"][0]:
            order["links"][1]["rel"] = "payer-action"
        if order["status"] != "APPROVED":
            return error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        outcome = self.capture_outcome.pop(order["id"], "COMPLETED")
        unit = order["purchase_units"][0]
        capture_id = self.new_id("CAP")
        capture: JSON = {
            "id": capture_id,
            "status": outcome,
            "amount": {k: unit["amount"][k] for k in ("currency_code", "value")},
            "custom_id": unit["custom_id"],
            "invoice_id": unit["invoice_id"],
            "final_capture": True,
            "links": [
                {"href": f"{API_BASE}/v2/payments/captures/{capture_id}", "rel": "self"},
                {"href": f"{API_BASE}/v2/checkout/orders/{order['id']}", "rel": "up"},
            ],
        }
        if outcome == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        unit.setdefault("payments", {}).setdefault("captures", []).append(capture)
        if outcome == "INSTRUMENT_DECLINED":
            # PayPal's "handle funding failures": the capture is refused, the buyer is sent
            # back (`redirect`) to choose another funding source for the same order.
            capture["status"] = "DECLINED"
            order["status"] = "PAYER_ACTION_REQUIRED"
            redirect = {"href": order["links"][1]["href"], "rel": "redirect", "method": "GET"}
            status, body = error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED")
            return status, {**(body or {}), "links": [redirect]}
        order["status"] = "COMPLETED"
        self.captures[capture_id] = order["id"]
        return 201, order

    # -- refunds --------------------------------------------------------------------------

    def _captures(self, method: str, parts: list[str], body: Any, req: httpx.Request) -> Answer:
        order_id = self.captures.get(parts[3])
        if order_id is None or parts[4:] != ["refund"]:
            return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        unit = self.orders[order_id]["purchase_units"][0]
        capture = unit["payments"]["captures"][0]
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            return error(422, "UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
        refunds = unit["payments"].setdefault("refunds", [])
        done = sum((money_value(r["amount"]) for r in refunds), Decimal(0))
        left = money_value(capture["amount"]) - done
        amount = body.get("amount") or {**capture["amount"], "value": str(left)}
        if money_value(amount) > left:
            return error(422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED")
        refund_id = self.new_id("REF")
        refund = {
            "id": refund_id,
            "status": "COMPLETED",
            "amount": amount,
            "custom_id": body["custom_id"],
            "links": [
                {"href": f"{API_BASE}/v2/payments/refunds/{refund_id}", "rel": "self"},
                {"href": f"{API_BASE}/v2/payments/captures/{parts[3]}", "rel": "up"},
            ],
        }
        refunds.append(refund)
        capture["status"] = "REFUNDED" if money_value(amount) == left else "PARTIALLY_REFUNDED"
        return 201, refund

    def _refunds(self, method: str, parts: list[str], body: Any, req: httpx.Request) -> Answer:
        for order in self.orders.values():
            payments = order["purchase_units"][0].get("payments") or {}
            for refund in payments.get("refunds") or ():
                if method == "GET" and parts[3:] == [refund["id"]]:
                    return 200, refund
        return error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")

    def body_of(self, request: httpx.Request) -> Any:
        return json.loads(request.content)
