"""Checking a create-order request the way PayPal does, and normalising what it echoes back.

Supported: `intent: CAPTURE` (AUTHORIZE is refused with UNSUPPORTED_INTENT), exactly one
purchase unit (PayPal allows ten; the sandbox keeps the service's one-unit contract), amounts as
decimal strings in one supported currency, an optional `breakdown` that must add up
(AMOUNT_MISMATCH), `items` whose `unit_amount * quantity` sum must equal `item_total`
(ITEM_TOTAL_REQUIRED, ITEM_TOTAL_MISMATCH), and return/cancel URLs from
`payment_source.paypal.experience_context` or the older `application_context`. The first
problem found is reported, with PayPal's JSON-pointer `field`. Pure: no state, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import accounts, money
from .errors import InvalidRequest, Issue, UnprocessableEntity, invalid, missing
from .records import JSON

_ADDED = ("item_total", "tax_total", "shipping", "handling", "insurance")
_SUBTRACTED = ("shipping_discount", "discount")
_TEXT_LIMITS = {"description": 127, "custom_id": 127, "invoice_id": 127, "soft_descriptor": 22}
_ITEM_TEXT = ("name", "description", "sku", "category", "url", "image_url")


@dataclass(frozen=True)
class OrderRequest:
    purchase_unit: JSON  # normalised, as orders show it
    currency: str
    amount_minor: int
    return_url: str | None
    cancel_url: str | None
    payment_source: JSON | None  # what the order shows under payment_source before approval


def parse_order_request(body: Any) -> OrderRequest:
    intent = body.get("intent")
    if intent is None:
        raise missing("/intent")
    if intent == "AUTHORIZE":
        raise UnprocessableEntity(Issue("UNSUPPORTED_INTENT", field="/intent", value=intent))
    if intent != "CAPTURE":
        raise invalid("/intent", intent)
    units = body.get("purchase_units")
    if units is None:
        raise missing("/purchase_units")
    if not isinstance(units, list):
        raise invalid("/purchase_units", None, "INVALID_PARAMETER_SYNTAX")
    if not units:
        raise InvalidRequest(Issue("INVALID_ARRAY_MIN_ITEMS", field="/purchase_units"))
    if len(units) > 1:
        raise InvalidRequest(Issue("INVALID_ARRAY_MAX_ITEMS", field="/purchase_units"))
    if not isinstance(units[0], dict):
        raise invalid("/purchase_units/0", None, "INVALID_PARAMETER_SYNTAX")
    unit, currency, total = _purchase_unit(units[0])
    return_url, cancel_url, source = _experience(body)
    return OrderRequest(unit, currency, total, return_url, cancel_url, source)


def _purchase_unit(raw: JSON) -> tuple[JSON, str, int]:
    ref = raw.get("reference_id", "default")
    if not isinstance(ref, str) or not 1 <= len(ref) <= 256:
        raise invalid("/purchase_units/0/reference_id", ref, "INVALID_STRING_LENGTH")
    at = f"/purchase_units/@reference_id=='{ref}'"
    amount = raw.get("amount")
    if not isinstance(amount, dict):
        raise missing(f"{at}/amount")
    total = _money(amount, f"{at}/amount", amount.get("currency_code"), positive=True)
    currency = str(amount["currency_code"])
    unit: JSON = {"reference_id": ref, "amount": money.amount(total, currency)}
    breakdown = amount.get("breakdown")
    parts: dict[str, int] = {}
    if breakdown is not None:
        if not isinstance(breakdown, dict):
            raise invalid(f"{at}/amount/breakdown", None, "INVALID_PARAMETER_SYNTAX")
        for name in (*_ADDED, *_SUBTRACTED):
            if name in breakdown:
                parts[name] = _money(breakdown[name], f"{at}/amount/breakdown/{name}", currency)
        summed = sum(parts.get(n, 0) for n in _ADDED) - sum(parts.get(n, 0) for n in _SUBTRACTED)
        if summed != total:
            raise UnprocessableEntity(Issue("AMOUNT_MISMATCH", field=f"{at}/amount/value"))
        unit["amount"]["breakdown"] = {n: money.amount(v, currency) for n, v in parts.items()}
    unit["payee"] = accounts.payee()
    for name, limit in _TEXT_LIMITS.items():
        if name in raw:
            unit[name] = _text(raw[name], f"{at}/{name}", limit)
    if "items" in raw:
        unit["items"] = _items(raw["items"], at, currency, parts.get("item_total"))
    return unit, currency, total


def _items(raw: Any, at: str, currency: str, item_total: int | None) -> list[JSON]:
    if not isinstance(raw, list):
        raise invalid(f"{at}/items", None, "INVALID_PARAMETER_SYNTAX")
    items: list[JSON] = []
    summed = 0
    for index, entry in enumerate(raw):
        where = f"{at}/items/{index}"
        if not isinstance(entry, dict):
            raise invalid(where, None, "INVALID_PARAMETER_SYNTAX")
        if "name" not in entry:
            raise missing(f"{where}/name")
        quantity = entry.get("quantity")
        if quantity is None:
            raise missing(f"{where}/quantity")
        if not isinstance(quantity, str) or not quantity.isdigit() or int(quantity) < 1:
            raise invalid(f"{where}/quantity", quantity)
        if "unit_amount" not in entry:
            raise missing(f"{where}/unit_amount")
        unit_minor = _money(entry["unit_amount"], f"{where}/unit_amount", currency)
        summed += unit_minor * int(quantity)
        item: JSON = {
            key: _text(entry[key], f"{where}/{key}", 2048) for key in _ITEM_TEXT if key in entry
        }
        item["unit_amount"] = money.amount(unit_minor, currency)
        item["quantity"] = str(int(quantity))
        items.append(item)
    if items and item_total is None:
        raise UnprocessableEntity(Issue("ITEM_TOTAL_REQUIRED", field=f"{at}/amount/breakdown"))
    if items and summed != item_total:
        field = f"{at}/amount/breakdown/item_total/value"
        raise UnprocessableEntity(Issue("ITEM_TOTAL_MISMATCH", field=field))
    return items


def _money(raw: Any, field: str, currency: Any, *, positive: bool = False) -> int:
    """Minor units of a `{currency_code, value}` in the order's currency."""
    if not isinstance(raw, dict):
        raise missing(field)
    for key in ("currency_code", "value"):
        if key not in raw:
            raise missing(f"{field}/{key}")
    if raw["currency_code"] != currency:
        raise UnprocessableEntity(Issue("MULTI_CURRENCY_ORDER", field=f"{field}/currency_code"))
    try:
        minor = money.parse(raw["value"], raw["currency_code"])
    except money.MoneyProblem as problem:
        issue = "DECIMAL_PRECISION" if problem.issue == "DECIMALS_NOT_SUPPORTED" else problem.issue
        value = str(raw["value"])
        if issue == "INVALID_PARAMETER_SYNTAX":
            raise invalid(f"{field}/value", value, issue) from problem
        where = f"{field}/currency_code" if issue == "INVALID_CURRENCY_CODE" else f"{field}/value"
        raise UnprocessableEntity(Issue(issue, field=where, value=value)) from problem
    if positive and minor <= 0:
        zero = Issue("CANNOT_BE_ZERO_OR_NEGATIVE", field=f"{field}/value", value=raw["value"])
        raise UnprocessableEntity(zero)
    if minor < 0:
        raise UnprocessableEntity(Issue("CANNOT_BE_NEGATIVE", field=f"{field}/value"))
    return minor


def _text(raw: Any, field: str, limit: int) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw) <= limit:
        raise invalid(field, raw, "INVALID_STRING_LENGTH")
    return raw


def _experience(body: JSON) -> tuple[str | None, str | None, JSON | None]:
    """Return and cancel URLs, and the `payment_source` the order echoes before approval."""
    source = body.get("payment_source")
    context: Any = {}
    echoed: JSON | None = None
    where = "/application_context"
    if isinstance(source, dict) and isinstance(source.get("paypal"), dict):
        context = source["paypal"].get("experience_context", {})
        where = "/payment_source/paypal/experience_context"
        echoed = {"paypal": {}}
    elif source is not None:
        raise invalid("/payment_source", None, "INVALID_PARAMETER_SYNTAX")
    if not context:
        context = body.get("application_context", {})
        where = "/application_context"
    if not isinstance(context, dict):
        raise invalid(where, None, "INVALID_PARAMETER_SYNTAX")
    urls = []
    for key in ("return_url", "cancel_url"):
        url = context.get(key)
        if url is not None and (
            not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https")
        ):
            raise invalid(f"{where}/{key}", url, "INVALID_PARAMETER_SYNTAX")
        urls.append(url)
    return urls[0], urls[1], echoed
