"""PaymentIntent operations: create, retrieve, list, update, confirm, cancel.

Parameter rules and "which status allows what" are here, with Stripe's messages; what charging
does (charges, declines, 3-D Secure) is in processing.py. Operations run with the store's lock
held by the gateway and return `(status, JSON)` or raise a StripeError.
"""

from __future__ import annotations

import time
from typing import Any

from . import currencies, destinations, objects, processing
from .cards import TEST_CARDS
from .errors import InvalidRequestError, ParameterError, ResourceMissing, unexpected_state
from .forms import Params
from .gateway import Call
from .objects import JSON
from .resources import expand, paginate
from .store import Store

Result = tuple[int, JSON]

CONFIRMABLE = ("requires_confirmation", "requires_payment_method", "requires_action")
UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
# Fields that change what is charged; Stripe freezes them once the intent is final.
_MONEY_FIELDS = (
    "amount",
    "currency",
    "payment_method",
    "payment_method_types",
    "setup_future_usage",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "transfer_group",
)
_SHARED = (*_MONEY_FIELDS, "description", "metadata", "receipt_email", "expand")
_CREATE = (
    *_SHARED,
    "automatic_payment_methods",
    "capture_method",
    "confirm",
    "customer",
    "error_on_requires_action",
    "off_session",
    "payment_method_options",
    "return_url",
    "use_stripe_sdk",
    *destinations.PARAMETERS,
)
_CONFIRM = (
    "client_secret",
    "error_on_requires_action",
    "expand",
    "off_session",
    "payment_method",
    "payment_method_options",
    "receipt_email",
    "return_url",
    "setup_future_usage",
    "use_stripe_sdk",
)


def _payment_method(store: Store, params: Params) -> str | None:
    """A PaymentMethod id: a test token mints a fresh `pm_...` as in Stripe test mode."""
    name = params.string("payment_method")
    if not name:
        return None
    if name in TEST_CARDS:
        return store.mint_payment_method(TEST_CARDS[name])
    if name not in store.state.payment_methods:
        raise ResourceMissing("PaymentMethod", name, param="payment_method")
    return name


def _currency(params: Params, *, required: bool) -> str | None:
    value = params.string("currency", required=required)
    return None if value is None else currencies.check_currency(value)


def _check_client_secret(call: Call, intent: JSON) -> None:
    given = call.params.string("client_secret", required=call.key.publishable)
    if given is not None and given != intent["client_secret"]:
        raise ParameterError(
            "The client_secret provided does not match the client_secret associated with the "
            "PaymentIntent.",
            code="payment_intent_invalid_parameter",
            param="client_secret",
        )


def _descriptor(params: Params, name: str) -> str | None:
    value = params.string(name)
    if value is not None and len(value) > 22:
        raise ParameterError(f"{name} must be at most 22 characters.", param=name)
    return value or None


def _confirm(store: Store, call: Call, intent: JSON, pm_id: str | None) -> None:
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state("confirm", "confirmed", intent["status"], CONFIRMABLE)
    chosen = pm_id or intent["payment_method"]
    if chosen is None:
        raise InvalidRequestError(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "Update the PaymentIntent with a payment method and then confirm it again.",
            code="payment_intent_unexpected_state",
        )
    off_session = bool(call.params.boolean("off_session"))
    strict = bool(call.params.boolean("error_on_requires_action"))
    processing.charge(
        store,
        intent,
        chosen,
        call.origin,
        base_url=call.base_url,
        return_url=call.params.string("return_url") or None,
        off_session=off_session or strict,
    )


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_CREATE)
    amount = params.integer("amount", required=True, minimum=1)
    currency = _currency(params, required=True)
    currencies.check_amount(int(amount or 0), str(currency))
    automatic = params.mapping("automatic_payment_methods", allowed=("enabled", "allow_redirects"))
    apm: dict[str, Any] | None = None
    if automatic:
        enabled = Params(automatic).boolean("enabled")
        redirects = Params(automatic).string("allow_redirects", choices=("always", "never"))
        apm = {"allow_redirects": redirects or "always", "enabled": bool(enabled)}
    types = params.strings("payment_method_types")
    if types is not None and apm is not None:
        raise ParameterError(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types.",
            code="parameters_exclusive",
        )
    if types is not None and types != ["card"]:
        raise ParameterError(
            "The Stripe sandbox only offers the payment method type 'card'.",
            param="payment_method_types",
        )
    capture = params.string("capture_method", choices=("automatic", "automatic_async", "manual"))
    if capture == "manual":
        raise ParameterError(
            "The Stripe sandbox supports only automatic capture.", param="capture_method"
        )
    customer = params.string("customer")
    if customer:
        raise ResourceMissing("customer", customer, param="customer")
    confirm = bool(params.boolean("confirm"))
    if params.string("return_url") and not confirm:
        raise ParameterError(
            "You can only pass return_url if confirm is set to true.", param="return_url"
        )
    connect = destinations.intent_fields(store, params, int(amount or 0))
    pm_id = _payment_method(store, params)
    if confirm and pm_id is None:
        raise InvalidRequestError(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
        )
    intent = objects.payment_intent(
        pi_id=objects.new_id("pi_"),
        created=int(time.time()),
        amount=int(amount or 0),
        currency=str(currency),
        automatic_payment_methods=apm,
        description=params.string("description") or None,
        metadata=params.metadata() or {},
        receipt_email=params.string("receipt_email") or None,
        transfer_group=params.string("transfer_group") or None,
        statement_descriptor=_descriptor(params, "statement_descriptor"),
        statement_descriptor_suffix=_descriptor(params, "statement_descriptor_suffix"),
        setup_future_usage=params.string(
            "setup_future_usage", choices=("on_session", "off_session")
        ),
        payment_method_types=types or ["card"],
        capture_method=capture or "automatic_async",
    )
    intent.update(connect)
    if pm_id is not None:
        intent.update(payment_method=pm_id, status="requires_confirmation")
    store.state.payment_intents[intent["id"]] = intent
    store.emit("payment_intent.created", intent, call.origin)
    if confirm:
        _confirm(store, call, intent, pm_id)
    return 200, expand(store, intent, params.strings("expand"))


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["client_secret", "expand"])
    intent = store.intent(call.path("id"))
    _check_client_secret(call, intent)
    return 200, expand(store, intent, call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["limit", "starting_after", "ending_before", "expand"])
    intents = list(store.state.payment_intents.values())[::-1]
    page = paginate(intents, params, url="/v1/payment_intents", kind="payment_intent")
    return 200, expand(store, page, params.strings("expand"))


def update(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_SHARED)
    intent = store.intent(call.path("id"))
    changing_money = [name for name in _MONEY_FIELDS if name in params]
    if changing_money and intent["status"] not in UPDATABLE:
        raise unexpected_state("update", "updated", intent["status"], UPDATABLE)
    changes: dict[str, Any] = {}
    amount = params.integer("amount", minimum=1)
    if amount is not None:
        changes["amount"] = amount
    currency = _currency(params, required=False)
    if currency is not None:
        changes["currency"] = currency
    if changes:
        # The pair as it will be: a new currency can make the old amount unrepresentable.
        currencies.check_amount(
            int(intent["amount"]) if amount is None else amount,
            str(intent["currency"]) if currency is None else currency,
        )
    for name in ("description", "receipt_email", "transfer_group"):
        if name in params:
            changes[name] = params.string(name) or None
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        if name in params:
            changes[name] = _descriptor(params, name)
    if "setup_future_usage" in params:
        changes["setup_future_usage"] = (
            params.string("setup_future_usage", choices=("on_session", "off_session", "")) or None
        )
    if "metadata" in params:
        incoming = params.metadata() or {}
        merged = {} if params.data["metadata"] == "" else {**intent["metadata"], **incoming}
        changes["metadata"] = {k: v for k, v in merged.items() if v != ""}
    if "payment_method" in params:
        changes["payment_method"] = _payment_method(store, params)
    intent.update(changes, last_payment_error=None)
    if changing_money and intent["status"] == "requires_action":
        # What was being authenticated changed: the customer must confirm again.
        store.state.authentications.pop(intent["id"], None)
        intent["next_action"] = None
    if changing_money and intent["status"] in ("requires_action", "requires_payment_method"):
        intent["status"] = (
            "requires_confirmation" if intent["payment_method"] else "requires_payment_method"
        )
    return 200, expand(store, intent, params.strings("expand"))


def confirm(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_CONFIRM)
    intent = store.intent(call.path("id"))
    _check_client_secret(call, intent)
    pm_id = _payment_method(store, params)
    if "receipt_email" in params:
        intent["receipt_email"] = params.string("receipt_email") or None
    _confirm(store, call, intent, pm_id)
    return 200, expand(store, intent, params.strings("expand"))


def cancel(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["cancellation_reason", "expand"])
    reason = params.string("cancellation_reason", choices=CANCELLATION_REASONS)
    intent = store.intent(call.path("id"))
    if intent["status"] not in CANCELABLE:
        raise unexpected_state("cancel", "canceled", intent["status"], CANCELABLE)
    store.state.authentications.pop(intent["id"], None)
    intent.update(
        status="canceled",
        canceled_at=int(time.time()),
        cancellation_reason=reason,
        next_action=None,
    )
    store.emit("payment_intent.canceled", intent, call.origin)
    return 200, expand(store, intent, params.strings("expand"))
