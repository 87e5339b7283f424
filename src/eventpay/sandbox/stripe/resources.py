"""Operations on Charges, Events and WebhookEndpoints, plus list paging and `expand`.

Each operation takes the store and a gateway `Call` and returns `(status, JSON)`; they run with
the store's lock held by the gateway. PaymentIntents and Refunds, the resources with a real state
machine, are in payment_intents.py and refunds.py.
"""

from __future__ import annotations

import copy
import fnmatch
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from . import objects
from .cards import payment_method_object
from .errors import ParameterError, ResourceMissing
from .forms import Params
from .gateway import Call
from .objects import JSON
from .store import Store

_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
Result = tuple[int, JSON]


def paginate(items: list[JSON], params: Params, *, url: str, kind: str) -> JSON:
    """A page of `items` (newest first) honouring limit, starting_after and ending_before."""
    limit = params.integer("limit", minimum=1) or 10
    if limit > 100:
        raise ParameterError(
            "This value must be less than or equal to 100.",
            code="parameter_invalid_integer",
            param="limit",
        )
    ids = [item["id"] for item in items]
    for cursor in ("starting_after", "ending_before"):
        value = params.string(cursor)
        if value is None:
            continue
        if value not in ids:
            raise ResourceMissing(kind, value, param=cursor)
        index = ids.index(value)
        if cursor == "starting_after":
            rest = items[index + 1 :]
            return objects.list_object(rest[:limit], has_more=len(rest) > limit, url=url)
        before = items[:index]
        return objects.list_object(before[-limit:], has_more=len(before) > limit, url=url)
    return objects.list_object(items[:limit], has_more=len(items) > limit, url=url)


def expand(store: Store, obj: JSON, paths: list[str] | None) -> JSON:
    """A copy of `obj` with the requested id fields replaced by their objects."""
    result = copy.deepcopy(obj)
    for path in paths or []:
        _expand(store, result, path.split("."), path)
    return result


def _expand(store: Store, node: Any, parts: list[str], whole: str) -> None:
    head, rest = parts[0], parts[1:]
    listing = isinstance(node, dict) and node.get("object") in ("list", "search_result")
    if listing and head == "data" and rest:
        for item in node["data"]:
            _expand(store, item, rest, whole)
        return
    if not isinstance(node, dict) or head not in node:
        raise ParameterError(f"This property cannot be expanded ({whole}).", param="expand")
    value = node[head]
    if rest:
        if isinstance(value, str):
            # `a.b` expands `a` first, as Stripe does (`latest_charge.balance_transaction`).
            _replace(store, node, head, whole)
            value = node[head]
        if value is not None:
            _expand(store, value, rest, whole)
        return
    _replace(store, node, head, whole)


def _replace(store: Store, node: JSON, head: str, whole: str) -> None:
    """Put the object in place of the id in `node[head]` (nothing to do if already there)."""
    value = node[head]
    kind = node.get("object")
    if isinstance(value, dict) or value is None:
        return
    if (kind, head) == ("payment_intent", "latest_charge"):
        node[head] = copy.deepcopy(store.charge(value))
    elif (kind, head) == ("payment_intent", "payment_method"):
        card = store.state.payment_methods[value]
        node[head] = payment_method_object(value, card, int(time.time()))
    elif (kind, head) in (("charge", "payment_intent"), ("refund", "payment_intent")):
        node[head] = copy.deepcopy(store.intent(value))
    elif (kind, head) == ("refund", "charge"):
        node[head] = copy.deepcopy(store.charge(value))
    elif (kind, head) in _CONNECT_EXPANSIONS:
        node[head] = copy.deepcopy(_CONNECT_EXPANSIONS[(str(kind), head)](store, value))
    else:
        raise ParameterError(f"This property cannot be expanded ({whole}).", param="expand")


def _by_id(store: Store, object_id: str) -> JSON:
    """The object a balance transaction's `source` names, found by its id's prefix."""
    state = store.state
    tables: list[dict[str, JSON]] = [
        state.charges,
        state.refunds,
        state.transfers,
        state.transfer_reversals,
        state.application_fees,
        state.fee_refunds,
        state.payouts,
    ]
    for table in tables:
        if object_id in table:
            return table[object_id]
    raise ParameterError("This property cannot be expanded (source).", param="expand")


def _reversal(store: Store, trr_id: str) -> JSON:
    return store.state.transfer_reversals[trr_id]


Lookup = Callable[[Store, str], JSON]
# Id fields of the money-movement objects that `expand` replaces, and how to find their object.
_CONNECT_EXPANSIONS: dict[tuple[str, str], Lookup] = {
    **{
        (kind, "balance_transaction"): Store.balance_transaction
        for kind in (
            "charge",
            "refund",
            "transfer",
            "transfer_reversal",
            "application_fee",
            "fee_refund",
            "payout",
        )
    },
    ("charge", "failure_balance_transaction"): Store.balance_transaction,
    ("refund", "failure_balance_transaction"): Store.balance_transaction,
    ("payout", "failure_balance_transaction"): Store.balance_transaction,
    ("charge", "application_fee"): Store.application_fee,
    ("fee_refund", "fee"): Store.application_fee,
    ("charge", "transfer"): Store.transfer,
    ("transfer_reversal", "transfer"): Store.transfer,
    ("refund", "transfer_reversal"): _reversal,
    ("application_fee", "charge"): Store.charge,
    ("transfer", "source_transaction"): Store.charge,
    ("transfer", "destination"): Store.account,
    ("application_fee", "account"): Store.account,
    ("balance_transaction", "source"): _by_id,
}


# Charges


def retrieve_charge(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, store.charge(call.path("id")), call.params.strings("expand"))


def list_charges(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "payment_intent", "expand"])
    wanted = params.string("payment_intent")
    charges = [
        c for c in store.state.charges.values() if wanted is None or c["payment_intent"] == wanted
    ]
    page = paginate(charges[::-1], params, url="/v1/charges", kind="charge")
    return 200, expand(store, page, params.strings("expand"))


# Events


def retrieve_event(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, copy.deepcopy(store.event(call.path("id")))


def list_events(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "type", "types", "expand"])
    patterns = params.strings("types") or []
    single = params.string("type")
    if single:
        patterns.append(single)
    events = [
        e
        for e in store.state.events.values()
        if not patterns or any(fnmatch.fnmatchcase(e["type"], p) for p in patterns)
    ]
    return 200, copy.deepcopy(paginate(events[::-1], params, url="/v1/events", kind="event"))


# Webhook endpoints


def _endpoint_fields(params: Params, *, creating: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    url = params.string("url", required=creating)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ParameterError(f"Invalid URL: {url}", param="url", code="url_invalid")
        fields["url"] = url
    events = params.strings("enabled_events")
    if creating and not events:
        raise ParameterError(
            "Missing required param: enabled_events.",
            code="parameter_missing",
            param="enabled_events",
        )
    if events is not None:
        for index, name in enumerate(events):
            if name != "*" and not _EVENT_TYPE.match(name):
                shown = f"enabled_events[{index}]"
                raise ParameterError(f"Invalid {shown}: {name!r} is not an event type", param=shown)
        fields["enabled_events"] = events
    if "description" in params:
        fields["description"] = params.string("description") or None
    metadata = params.metadata()
    if metadata is not None:
        fields["metadata"] = metadata
    return fields


def create_webhook_endpoint(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        ["url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"]
    )
    params.boolean("connect")
    fields = _endpoint_fields(params, creating=True)
    endpoint = store.add_endpoint(
        url=fields["url"],
        secret=objects.new_id("whsec_", 32),
        enabled_events=fields["enabled_events"],
        description=fields.get("description"),
        metadata=fields.get("metadata", {}),
        api_version=params.string("api_version"),
    )
    # Stripe shows the signing secret only in the creation response.
    return 200, {**copy.deepcopy(endpoint.obj), "secret": endpoint.secret}


def update_webhook_endpoint(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["url", "enabled_events", "description", "metadata", "disabled", "expand"])
    endpoint = store.endpoint(call.path("id"))
    fields = _endpoint_fields(params, creating=False)
    metadata = fields.pop("metadata", None)
    if metadata is not None:
        merged = {**endpoint.obj["metadata"], **metadata}
        fields["metadata"] = {k: v for k, v in merged.items() if v != ""}
    disabled = params.boolean("disabled")
    if disabled is not None:
        fields["status"] = "disabled" if disabled else "enabled"
    endpoint.obj.update(fields)
    return 200, copy.deepcopy(endpoint.obj)


def retrieve_webhook_endpoint(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, copy.deepcopy(store.endpoint(call.path("id")).obj)


def list_webhook_endpoints(store: Store, call: Call) -> Result:
    call.params.only(["limit", "starting_after", "ending_before", "expand"])
    items = [ep.obj for ep in store.state.endpoints.values()][::-1]
    page = paginate(items, call.params, url="/v1/webhook_endpoints", kind="webhook_endpoint")
    return 200, copy.deepcopy(page)


def delete_webhook_endpoint(store: Store, call: Call) -> Result:
    we_id = call.path("id")
    store.delete_endpoint(we_id)
    return 200, {"id": we_id, "object": "webhook_endpoint", "deleted": True}
