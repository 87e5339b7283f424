"""Every request the adapter sends, and every answer the fake gives, checked against PayPal.

The JSON bodies go through the shared `support.paypal_openapi` helper (PayPal's official
OpenAPI specifications, unknown keys reported). This module finds the operation a request is
for, checks its header and query parameters against the operation's declared schemas, and
adds one rule of our own: every mutating call carries a `PayPal-Request-Id`, so a retry can
never do the work twice. Multipart bodies (dispute actions) are checked by the fake itself:
the specification declares the form but not PayPal's `input` JSON part.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from jsonschema import Draft4Validator

from support.paypal_openapi import load_spec, validate_request, validate_response

# Which specification documents which path prefix.
_SPECS = (
    ("/v2/checkout/orders", "checkout_orders_v2"),
    ("/v2/payments/", "payments_payment_v2"),
    ("/v1/payments/payouts", "payments_payouts_batch_v1"),
    ("/v1/customer/disputes", "customer_disputes_v1"),
    ("/v2/invoicing/", "invoicing_v2"),
    ("/v1/notifications/", "notifications_webhooks_v1"),
)
# POSTs that change nothing at PayPal, so need no request id.
_READ_ONLY_POSTS = frozenset({"/v1/notifications/verify-webhook-signature"})


def operation(request: httpx.Request) -> tuple[str, str, dict[str, Any]]:
    """(specification, path template, operation object) documenting `request`."""
    path, verb = request.url.path, request.method.lower()
    for prefix, spec_name in _SPECS:
        if not path.startswith(prefix):
            continue
        for template, item in load_spec(spec_name)["paths"].items():
            if verb in item and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
                return spec_name, template, item[verb]
    raise AssertionError(f"no PayPal specification documents {request.method} {path}")


def _parameters(spec_name: str, operation_object: dict[str, Any]) -> list[dict[str, Any]]:
    spec = load_spec(spec_name)
    found = []
    for parameter in operation_object.get("parameters", []):
        while "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        found.append(parameter)
    return found


def _request_body(spec_name: str, operation_object: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = operation_object.get("requestBody", {})
    while "$ref" in body:
        body = load_spec(spec_name)["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
    return body


def check_request(request: httpx.Request) -> Any:
    """Assert that PayPal documents `request` as sent; returns its JSON body (or None)."""
    spec_name, template, documented = operation(request)
    what = f"{request.method} {template}"
    if request.method == "POST" and request.url.path not in _READ_ONLY_POSTS:
        assert request.headers.get("paypal-request-id"), f"{what} sent without PayPal-Request-Id"
    for parameter in _parameters(spec_name, documented):
        where = parameter["in"]
        if where == "header":
            value: Any = request.headers.get(parameter["name"])
        elif where == "query":
            value = request.url.params.get(parameter["name"])
        else:
            continue
        if value is None:
            assert not parameter.get("required"), f"{what} lacks {where} {parameter['name']}"
            continue
        schema = parameter.get("schema", {})
        if schema.get("type") in ("integer", "boolean"):
            value = json.loads(value)
        errors = [e.message for e in Draft4Validator(schema).iter_errors(value)]
        assert not errors, f"{what} {where} {parameter['name']}={value!r}: {errors}"
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    body_spec = _request_body(spec_name, documented)
    if content_type == "multipart/form-data":
        declared = body_spec.get("content", {})
        assert content_type in declared, f"{what} takes {list(declared)}, not multipart"
        return None
    if not request.content:
        assert not body_spec.get("required"), f"{what} needs a body"
        return None
    assert content_type == "application/json", f"{what} sent {content_type!r}"
    body = json.loads(request.content)
    validate_request(spec_name, template, request.method, body)
    return body


def check_answer(request: httpx.Request, status: int, body: Any) -> None:
    """Assert that PayPal documents this answer to `request`."""
    spec_name, template, _ = operation(request)
    validate_response(spec_name, template, request.method, status, body)
