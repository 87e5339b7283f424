"""Validate JSON against PayPal's official OpenAPI 3 specifications (tests only).

    from support.paypal_openapi import validate_request, validate_response, validate_schema

    validate_response("checkout_orders_v2", "/v2/checkout/orders", "POST", 201, body)
    validate_request("payments_payment_v2", "/v2/payments/captures/{capture_id}/refund", "POST",
                     {"amount": {"currency_code": "USD", "value": "5.00"}})
    validate_schema("notifications_webhooks_v1", "event", delivered_event)

`spec_name` is a file name without `.json` in tests/fixtures/providers/paypal-openapi/ and
`path_template` is the path exactly as the specification spells it (`{id}`, `{capture_id}`...).
A missing specification file, an undocumented operation or status, or an invalid body raises
`AssertionError` (never a skip): a check that cannot run must fail.

How: each specification is loaded once and registered as one JSON Schema resource, so its
`#/components/...` references resolve in place; schemas are checked with Draft 4 semantics,
which is what OpenAPI 3.0 schemas are (`$ref` siblings ignored, boolean `exclusiveMinimum`),
after rewriting OpenAPI's `nullable: true` into JSON Schema's `null` type. `format` is not
asserted (PayPal uses private formats such as `ppaas_date_time_v3`; its patterns still apply).

PayPal's schemas seldom forbid extra properties, so by default the helper also reports keys
that no schema along the way declares ("unknown key"), recursively through `allOf`, `anyOf`
and `oneOf` (a key declared by any branch counts as known). Objects that declare no properties,
or allow `additionalProperties`, are open. Pass `allow_unknown_keys=True` to skip that check.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "providers" / "paypal-openapi"
SPEC_NAMES = (
    "checkout_orders_v2",
    "payments_payment_v2",
    "payments_payouts_batch_v1",
    "customer_disputes_v1",
    "invoicing_v2",
    "notifications_webhooks_v1",
    "billing_subscriptions_v1",
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

__all__ = [
    "SPEC_DIR",
    "SPEC_NAMES",
    "load_spec",
    "validate_request",
    "validate_response",
    "validate_schema",
]


def _uri(spec_name: str) -> str:
    return f"urn:paypal-openapi:{spec_name}"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _nullable_to_null(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` as JSON Schema: `null` joins the allowed types."""
    if isinstance(node, list):
        return [_nullable_to_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_to_null(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        if "$ref" in out:
            return {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    return out


@cache
def load_spec(spec_name: str) -> dict[str, Any]:
    """The specification `spec_name`, with `nullable` rewritten; fails loudly when missing."""
    path = SPEC_DIR / f"{spec_name}.json"
    if not path.is_file():
        known = ", ".join(SPEC_NAMES)
        raise AssertionError(f"PayPal OpenAPI specification missing: {path} (one of {known})")
    spec: dict[str, Any] = _nullable_to_null(json.loads(path.read_text(encoding="utf-8")))
    return spec


@cache
def _registry(spec_name: str) -> Registry[Any]:
    resource: Resource[Any] = DRAFT4.create_resource(load_spec(spec_name))
    return Registry().with_resource(_uri(spec_name), resource)


def _pointer(spec_name: str, pointer: str) -> Any:
    node: Any = load_spec(spec_name)
    for token in pointer.lstrip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(spec_name: str, pointer: str) -> tuple[str, Any]:
    """Where a (possibly `$ref`-ing) OpenAPI object really lives, and the object."""
    node = _pointer(spec_name, pointer)
    while isinstance(node, dict) and "$ref" in node:
        pointer = str(node["$ref"]).removeprefix("#")
        node = _pointer(spec_name, pointer)
    return pointer, node


def _operation_pointer(spec_name: str, path_template: str, method: str) -> str:
    paths = load_spec(spec_name)["paths"]
    if path_template not in paths:
        raise AssertionError(f"{spec_name} documents no path {path_template!r}")
    verb = method.lower()
    if verb not in _METHODS or verb not in paths[path_template]:
        raise AssertionError(f"{spec_name} documents no {method.upper()} {path_template}")
    return f"/paths/{_escape(path_template)}/{verb}"


def _json_schema_pointer(spec_name: str, pointer: str, what: str) -> str | None:
    """The pointer to the `application/json` schema of a response or request body object."""
    pointer, node = _follow(spec_name, pointer)
    content = node.get("content") or {}
    if not content:
        return None
    if "application/json" not in content:
        raise AssertionError(f"{what} has no application/json body (only {', '.join(content)})")
    return f"{pointer}/content/application~1json/schema"


def validate_response(
    spec_name: str,
    path_template: str,
    method: str,
    status: int,
    body: Any,
    *,
    allow_unknown_keys: bool = False,
) -> None:
    """Assert that `body` is what the specification allows for this operation and status.

    The status must be documented exactly or as `4XX`-style; `default` covers error statuses
    (400 and up) only, so an answer of 200 where PayPal documents 201 fails. A status
    documented without content requires an empty body (None, "" or b"").
    """
    operation = _operation_pointer(spec_name, path_template, method)
    responses = _pointer(spec_name, operation)["responses"]
    # `default` stands for errors only: a success status must be documented itself.
    candidates = [str(status), f"{status // 100}XX"] + (["default"] if status >= 400 else [])
    key = next((k for k in candidates if k in responses), None)
    what = f"{spec_name} {method.upper()} {path_template} -> {status}"
    if key is None:
        raise AssertionError(f"{what}: status not documented (has {', '.join(responses)})")
    schema = _json_schema_pointer(spec_name, f"{operation}/responses/{key}", what)
    if schema is None:
        if body not in (None, "", b""):
            raise AssertionError(f"{what}: documented without a body, got {body!r:.200}")
        return
    _check(spec_name, schema, body, what, allow_unknown_keys)


def validate_request(
    spec_name: str,
    path_template: str,
    method: str,
    body: Any,
    *,
    allow_unknown_keys: bool = False,
) -> None:
    """Assert that `body` is a JSON request body the specification accepts for the operation."""
    operation = _operation_pointer(spec_name, path_template, method)
    what = f"{spec_name} {method.upper()} {path_template} request"
    if "requestBody" not in _pointer(spec_name, operation):
        raise AssertionError(f"{what}: the operation takes no request body")
    schema = _json_schema_pointer(spec_name, f"{operation}/requestBody", what)
    if schema is None:
        raise AssertionError(f"{what}: the request body has no documented schema")
    _check(spec_name, schema, body, what, allow_unknown_keys)


def validate_schema(
    spec_name: str, component: str, instance: Any, *, allow_unknown_keys: bool = False
) -> None:
    """Assert that `instance` matches `#/components/schemas/{component}` of the specification."""
    if component not in load_spec(spec_name).get("components", {}).get("schemas", {}):
        raise AssertionError(f"{spec_name} has no schema {component!r}")
    pointer = f"/components/schemas/{_escape(component)}"
    _check(spec_name, pointer, instance, f"{spec_name} {component}", allow_unknown_keys)


def _check(spec_name: str, pointer: str, instance: Any, what: str, allow_unknown: bool) -> None:
    validator = Draft4Validator(
        {"$ref": f"{_uri(spec_name)}#{pointer}"}, registry=_registry(spec_name)
    )
    problems = [
        f"at /{'/'.join(str(p) for p in error.absolute_path)}: {error.message:.300}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]
    if not allow_unknown:
        problems += [
            f"unknown key {path}"
            for path in _unknown_keys(spec_name, [_pointer(spec_name, pointer)], instance, "")
        ]
    if problems:
        shown = "\n  ".join(problems[:12])
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        raise AssertionError(f"{what}: {len(problems)} problem(s)\n  {shown}{more}")


def _flatten(spec_name: str, schemas: list[Any]) -> Iterator[dict[str, Any]]:
    """Every schema that applies, with `$ref`s followed and combinators opened."""
    pending = list(schemas)
    seen: set[int] = set()
    while pending:
        schema = pending.pop()
        while isinstance(schema, dict) and "$ref" in schema:
            schema = _pointer(spec_name, str(schema["$ref"]).removeprefix("#"))
        if not isinstance(schema, dict) or id(schema) in seen:
            continue
        seen.add(id(schema))
        yield schema
        for combinator in ("allOf", "anyOf", "oneOf"):
            pending.extend(schema.get(combinator, []))


def _unknown_keys(spec_name: str, schemas: list[Any], instance: Any, path: str) -> list[str]:
    applying = list(_flatten(spec_name, schemas))
    found: list[str] = []
    if isinstance(instance, dict):
        declared: dict[str, list[Any]] = {}
        open_object = not any("properties" in s for s in applying)
        extra: list[Any] = []
        for schema in applying:
            for name, sub in schema.get("properties", {}).items():
                declared.setdefault(name, []).append(sub)
            additional = schema.get("additionalProperties")
            if additional is True:
                open_object = True
            elif isinstance(additional, dict):
                open_object = True
                extra.append(additional)
        for key, value in instance.items():
            where = f"{path}/{key}"
            if key in declared:
                found += _unknown_keys(spec_name, declared[key], value, where)
            elif extra:
                found += _unknown_keys(spec_name, extra, value, where)
            elif not open_object:
                found.append(where)
    elif isinstance(instance, list):
        items = [s["items"] for s in applying if isinstance(s.get("items"), dict)]
        if items:
            for index, value in enumerate(instance):
                found += _unknown_keys(spec_name, copy.copy(items), value, f"{path}/{index}")
    return found
