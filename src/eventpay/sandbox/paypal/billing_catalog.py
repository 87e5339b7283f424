"""Catalog Products v1 and Billing Plans v1: what a subscription is a subscription to.

- `POST /v1/catalogs/products` `{name, type, id?, description?, category?, image_url?,
  home_url?}` → 201 the product (id `PROD-...` unless given; a taken id is 422 DUPLICATE_ID);
  `GET /v1/catalogs/products` (page, page_size, total_required) and `GET .../{id}`.
- `POST /v1/billing/plans` `{product_id, name, billing_cycles, payment_preferences, status?,
  taxes?, quantity_supported?}` → 201 (`Prefer: return=representation` the whole plan, else
  PayPal's minimal `{id, product_id, name, status, create_time, links}`); cycles are checked
  as PayPal does (1-12 cycles, unique sequences, TRIAL before REGULAR, interval limits per
  unit, a REGULAR cycle has a fixed price, one currency, only the last cycle may be infinite);
  `GET /v1/billing/plans` (product_id, plan_ids, page, page_size, total_required),
  `GET .../{id}`, `POST .../{id}/deactivate` and `/activate` (204, PLAN_STATUS_INVALID when
  already so). Events: CATALOG.PRODUCT.CREATED, BILLING.PLAN.CREATED, .ACTIVATED, .DEACTIVATED.
Taxes are kept as given and not added to charges. Tiered and volume pricing are refused.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from . import identifiers, money
from .billing_records import (
    JSON,
    billing_issue,
    found,
    invalid_field,
    missing_field,
    plan_id,
    product_id,
    status_invalid,
)
from .errors import InvalidRequest, Issue, UnprocessableEntity, link
from .gateway import Call, Reply
from .store import Store

PRODUCT_TYPES = ("PHYSICAL", "DIGITAL", "SERVICE")
UNITS = {"DAY": 365, "WEEK": 52, "MONTH": 12, "YEAR": 1}  # unit -> largest interval_count
_PRODUCT_FIELDS = ("description", "category", "image_url", "home_url")


def product_url(base_url: str, pid: str) -> str:
    return f"{base_url}/v1/catalogs/products/{pid}"


def plan_url(base_url: str, pid: str) -> str:
    return f"{base_url}/v1/billing/plans/{pid}"


def plan(store: Store, pid: str) -> JSON:
    found_plan: JSON = found(store.state.plans.get(pid), "id", pid)
    return found_plan


def _string(body: JSON, key: str, *, required: bool, low: int = 1, high: int = 127) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise missing_field(f"/{key}")
        return None
    if not isinstance(value, str):
        raise invalid_field(f"/{key}", value, "INVALID_PARAMETER_SYNTAX")
    if len(value) < low:
        raise invalid_field(f"/{key}", value, "INVALID_STRING_MIN_LENGTH")
    if len(value) > high:
        raise invalid_field(f"/{key}", value, "INVALID_STRING_MAX_LENGTH")
    return value


def create_product(store: Store, call: Call) -> Reply:
    body = call.body
    name = _string(body, "name", required=True)
    kind = body.get("type")
    if kind is None:
        raise missing_field("/type")
    if kind not in PRODUCT_TYPES:
        raise invalid_field("/type", kind)
    pid = _string(body, "id", required=False, low=6, high=50) or product_id()
    if pid in store.state.products:
        issue = Issue("DUPLICATE_ID", field="/id", value=pid, description="Duplicate product id.")
        raise UnprocessableEntity(issue)
    now = identifiers.timestamp()
    product: JSON = {"id": pid, "name": name, "type": kind}
    product.update({k: body[k] for k in _PRODUCT_FIELDS if isinstance(body.get(k), str)})
    product.update(create_time=now, update_time=now)
    store.state.products[pid] = product
    rendered = render_product(product, call.base_url)
    store.emit(
        "CATALOG.PRODUCT.CREATED",
        rendered,
        summary="A product was created",
        base_url=call.base_url,
    )
    return Reply(201, rendered)


def render_product(product: JSON, base_url: str) -> JSON:
    url = product_url(base_url, product["id"])
    return {**copy.deepcopy(product), "links": [link(url, "self"), link(url, "edit", "PATCH")]}


def retrieve_product(store: Store, call: Call) -> Reply:
    pid = call.path("id")
    product: JSON = found(store.state.products.get(pid), "id", pid)
    return Reply(200, render_product(product, call.base_url))


def list_products(store: Store, call: Call) -> Reply:
    def brief(product: JSON) -> JSON:
        keys = ("id", "name", "description", "create_time")
        shown = {k: product[k] for k in keys if k in product}
        return {**shown, "links": [link(product_url(call.base_url, product["id"]), "self")]}

    items = list(store.state.products.values())
    path = f"{call.base_url}/v1/catalogs/products"
    return Reply(200, page_of(items, brief, "products", call, path))


def page_of(items: list[JSON], brief: Any, key: str, call: Call, path: str) -> JSON:
    """One page of `items` as PayPal's v1 collections show them, with self/next/prev links."""
    size = _query_int(call, "page_size", 10, 1, 20)
    page = _query_int(call, "page", 1, 1, 100000)
    pages = max(1, -(-len(items) // size))
    shown = items[(page - 1) * size : page * size]
    out: JSON = {key: [brief(item) for item in shown]}
    if call.query.get("total_required", "false").lower() == "true":
        out.update(total_items=len(items), total_pages=pages)
    links = [link(f"{path}?page_size={size}&page={page}", "self")]
    if page < pages:
        links.append(link(f"{path}?page_size={size}&page={page + 1}", "next"))
    if page > 1:
        links.append(link(f"{path}?page_size={size}&page={page - 1}", "prev"))
    out["links"] = links
    return out


def _query_int(call: Call, name: str, default: int, low: int, high: int) -> int:
    raw = call.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        field = name
        raise InvalidRequest(billing_issue("INVALID_PARAMETER_SYNTAX", field, raw)) from exc
    if value < low:
        raise InvalidRequest(billing_issue("INVALID_INTEGER_MIN_VALUE", name, raw))
    if value > high:
        raise InvalidRequest(billing_issue("INVALID_INTEGER_MAX_VALUE", name, raw))
    return value


def _money(raw: Any, at: str) -> tuple[int, str]:
    if not isinstance(raw, dict):
        raise missing_field(at)
    currency = raw.get("currency_code")
    try:
        minor = money.parse(raw.get("value"), currency)
    except money.MoneyProblem as exc:
        raise invalid_field(f"{at}/value", raw.get("value")) from exc
    if minor < 0:
        raise invalid_field(f"{at}/value", raw.get("value"))
    return minor, str(currency)


def _cycles(raw: Any) -> tuple[list[JSON], str]:
    if not isinstance(raw, list) or not raw:
        raise missing_field("/billing_cycles")
    if len(raw) > 12:
        raise invalid_field("/billing_cycles", len(raw))
    cycles: list[JSON] = []
    currencies: set[str] = set()
    now = identifiers.timestamp()
    for index, entry in enumerate(raw):
        at = f"/billing_cycles/{index}"
        if not isinstance(entry, dict):
            raise invalid_field(at, None, "INVALID_PARAMETER_SYNTAX")
        frequency = entry.get("frequency")
        if not isinstance(frequency, dict) or "interval_unit" not in frequency:
            raise missing_field(f"{at}/frequency/interval_unit")
        unit = frequency["interval_unit"]
        if unit not in UNITS:
            raise invalid_field(f"{at}/frequency/interval_unit", unit)
        count = frequency.get("interval_count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= UNITS[unit]:
            raise invalid_field(f"{at}/frequency/interval_count", count)
        tenure = entry.get("tenure_type")
        if tenure not in ("REGULAR", "TRIAL"):
            raise (missing_field if tenure is None else invalid_field)(f"{at}/tenure_type")
        sequence = entry.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or not 1 <= sequence <= 99:
            raise (missing_field if sequence is None else invalid_field)(f"{at}/sequence")
        total = entry.get("total_cycles", 1)
        if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= 999:
            raise invalid_field(f"{at}/total_cycles", total)
        scheme = entry.get("pricing_scheme") or {}
        if not isinstance(scheme, dict) or "tiers" in scheme or "pricing_model" in scheme:
            raise invalid_field(f"{at}/pricing_scheme", None)
        cycle: JSON = {
            "frequency": {"interval_unit": unit, "interval_count": count},
            "tenure_type": tenure,
            "sequence": sequence,
            "total_cycles": total,
        }
        if "fixed_price" in scheme:
            minor, currency = _money(scheme["fixed_price"], f"{at}/pricing_scheme/fixed_price")
            currencies.add(currency)
            cycle["pricing_scheme"] = {
                "version": 1,
                "fixed_price": money.amount(minor, currency),
                "create_time": now,
                "update_time": now,
            }
        elif tenure == "REGULAR":
            raise missing_field(f"{at}/pricing_scheme/fixed_price")
        cycles.append(cycle)
    cycles.sort(key=lambda c: int(c["sequence"]))
    sequences = [c["sequence"] for c in cycles]
    if len(set(sequences)) != len(sequences):
        raise invalid_field("/billing_cycles/sequence", None)
    tenures = [c["tenure_type"] for c in cycles]
    trial_after_regular = any(
        a == "REGULAR" and b == "TRIAL" for a, b in itertools.pairwise(tenures)
    )
    if "REGULAR" not in tenures or trial_after_regular:
        raise invalid_field("/billing_cycles/tenure_type", None)
    if any(c["total_cycles"] == 0 for c in cycles[:-1]):
        raise invalid_field("/billing_cycles/total_cycles", 0)
    if len(currencies) != 1:
        raise invalid_field("/billing_cycles/pricing_scheme/fixed_price/currency_code", None)
    return cycles, currencies.pop()


def _preferences(raw: Any, currency: str) -> JSON:
    if not isinstance(raw, dict):
        raise missing_field("/payment_preferences")
    prefs: JSON = {
        "auto_bill_outstanding": raw.get("auto_bill_outstanding", True) is not False,
        "setup_fee_failure_action": raw.get("setup_fee_failure_action", "CANCEL"),
        "payment_failure_threshold": raw.get("payment_failure_threshold", 0),
    }
    if prefs["setup_fee_failure_action"] not in ("CONTINUE", "CANCEL"):
        raise invalid_field("/payment_preferences/setup_fee_failure_action")
    threshold = prefs["payment_failure_threshold"]
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= 999:
        raise invalid_field("/payment_preferences/payment_failure_threshold", threshold)
    if "setup_fee" in raw:
        minor, fee_currency = _money(raw["setup_fee"], "/payment_preferences/setup_fee")
        if fee_currency != currency:
            raise invalid_field("/payment_preferences/setup_fee/currency_code", fee_currency)
        prefs["setup_fee"] = money.amount(minor, currency)
    return prefs


def create_plan(store: Store, call: Call) -> Reply:
    body = call.body
    product = _string(body, "product_id", required=True, low=6, high=50)
    if product not in store.state.products:
        raise invalid_field("/product_id", product)
    name = _string(body, "name", required=True)
    status = body.get("status", "ACTIVE")
    if status not in ("CREATED", "INACTIVE", "ACTIVE"):
        raise invalid_field("/status", status)
    cycles, currency = _cycles(body.get("billing_cycles"))
    now = identifiers.timestamp()
    new: JSON = {
        "id": plan_id(),
        "product_id": product,
        "name": name,
        "status": status,
        "billing_cycles": cycles,
        "payment_preferences": _preferences(body.get("payment_preferences"), currency),
        "quantity_supported": body.get("quantity_supported") is True,
        "create_time": now,
        "update_time": now,
    }
    if isinstance(body.get("taxes"), dict):
        new["taxes"] = copy.deepcopy(body["taxes"])
    store.state.plans[new["id"]] = new
    rendered = render_plan(new, call.base_url)
    store.emit(
        "BILLING.PLAN.CREATED",
        rendered,
        summary="A billing plan was created",
        base_url=call.base_url,
    )
    return Reply(201, rendered if call.representation else brief_plan(new, call.base_url))


def plan_currency(found_plan: JSON) -> str:
    for cycle in found_plan["billing_cycles"]:
        if "pricing_scheme" in cycle:
            return str(cycle["pricing_scheme"]["fixed_price"]["currency_code"])
    raise AssertionError("a plan always has a priced REGULAR cycle")


def render_plan(found_plan: JSON, base_url: str) -> JSON:
    url = plan_url(base_url, found_plan["id"])
    links = [link(url, "self"), link(url, "edit", "PATCH")]
    if found_plan["status"] == "ACTIVE":
        links.append(link(f"{url}/deactivate", "self", "POST"))
    else:
        links.append(link(f"{url}/activate", "self", "POST"))
    return {**copy.deepcopy(found_plan), "links": links}


def brief_plan(found_plan: JSON, base_url: str) -> JSON:
    keys = ("id", "product_id", "name", "status", "create_time")
    url = plan_url(base_url, found_plan["id"])
    return {**{k: found_plan[k] for k in keys}, "links": [link(url, "self")]}


def retrieve_plan(store: Store, call: Call) -> Reply:
    return Reply(200, render_plan(plan(store, call.path("id")), call.base_url))


def list_plans(store: Store, call: Call) -> Reply:
    items = list(store.state.plans.values())
    wanted_product = call.query.get("product_id")
    if wanted_product:
        items = [p for p in items if p["product_id"] == wanted_product]
    wanted_ids = call.query.get("plan_ids")
    if wanted_ids:
        ids = {i.strip() for i in wanted_ids.split(",")}
        items = [p for p in items if p["id"] in ids]
    path = f"{call.base_url}/v1/billing/plans"
    return Reply(200, page_of(items, lambda p: brief_plan(p, call.base_url), "plans", call, path))


def deactivate_plan(store: Store, call: Call) -> Reply:
    return _set_plan_status(store, call, "INACTIVE")


def activate_plan(store: Store, call: Call) -> Reply:
    return _set_plan_status(store, call, "ACTIVE")


def _set_plan_status(store: Store, call: Call, status: str) -> Reply:
    found_plan = plan(store, call.path("id"))
    if (found_plan["status"] == "ACTIVE") == (status == "ACTIVE"):
        raise status_invalid("plan-deactivate" if status == "INACTIVE" else "plan-activate")
    found_plan["status"] = status
    found_plan["update_time"] = identifiers.timestamp()
    event = "BILLING.PLAN.DEACTIVATED" if status == "INACTIVE" else "BILLING.PLAN.ACTIVATED"
    store.emit(
        event,
        render_plan(found_plan, call.base_url),
        summary=f"A billing plan was {'deactivated' if status == 'INACTIVE' else 'activated'}",
        base_url=call.base_url,
    )
    return Reply(204)
