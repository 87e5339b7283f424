"""Refund operations: create, retrieve, list, update (metadata), cancel.

Parameter rules and "may this be refunded?" are here, with Stripe's messages and codes; what
refunding does to the charge, the events and the later outcomes is in refund_processing.py.
Operations run with the store's lock held by the gateway and return `(status, JSON)` or raise a
StripeError. A PaymentIntent is never changed by a refund: only its charge is.
"""

from __future__ import annotations

from . import destinations, refund_processing
from .currencies import check_amount, shown
from .errors import InvalidRequestError, ParameterError
from .forms import Params
from .gateway import Call
from .objects import JSON
from .resources import expand, paginate
from .store import Store

Result = tuple[int, JSON]

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_CREATE = (
    "payment_intent",
    "charge",
    "amount",
    "reason",
    "metadata",
    "expand",
    "reverse_transfer",
    "refund_application_fee",
)
_LIST = ("limit", "starting_after", "ending_before", "payment_intent", "charge", "expand")


def _charge_to_refund(store: Store, params: Params) -> JSON:
    """The succeeded charge named by `charge`, or the one behind `payment_intent`."""
    pi_id = params.string("payment_intent")
    ch_id = params.string("charge")
    if pi_id and ch_id:
        raise ParameterError(
            "You may only specify one of these parameters: charge, payment_intent.",
            code="parameters_exclusive",
        )
    if ch_id:
        charge = store.charge(ch_id, param="charge")
        if charge["status"] != "succeeded":
            raise InvalidRequestError(
                f"Charge {ch_id} has a status of {charge['status']} and cannot be refunded.",
                code="charge_not_refundable",
                param="charge",
            )
        return charge
    if pi_id:
        intent = store.intent(pi_id, param="payment_intent")
        latest = intent["latest_charge"]
        paid = store.state.charges.get(latest) if latest else None
        if intent["status"] != "succeeded" or paid is None or paid["status"] != "succeeded":
            raise InvalidRequestError(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        return paid
    raise ParameterError(
        "You must provide either a charge or a payment_intent to refund.",
        code="parameter_missing",
    )


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_CREATE)
    amount = params.integer("amount", minimum=1)
    reason = params.string("reason", choices=REASONS)
    metadata = params.metadata() or {}
    reverse_transfer = bool(params.boolean("reverse_transfer"))
    refund_application_fee = bool(params.boolean("refund_application_fee"))
    charge = _charge_to_refund(store, params)
    destinations.check_refund(charge, reverse_transfer=reverse_transfer)
    left = refund_processing.refundable(charge)
    if left <= 0:
        raise InvalidRequestError(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    currency = str(charge["currency"])
    if amount is not None:
        check_amount(amount, currency)
    if amount is not None and amount > left:
        raise InvalidRequestError(
            f"Refund amount ({shown(amount, currency)}) is greater than unrefunded amount on "
            f"charge ({shown(left, currency)})",
            code="amount_too_large",
            param="amount",
        )
    created = refund_processing.refund(
        store,
        charge,
        amount=left if amount is None else amount,
        reason=reason,
        metadata=metadata,
        origin=call.origin,
        reverse_transfer=reverse_transfer,
        refund_application_fee=refund_application_fee,
    )
    return 200, expand(store, created, params.strings("expand"))


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, store.refund(call.path("id")), call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_LIST)
    pi_id = params.string("payment_intent")
    ch_id = params.string("charge")
    refunds = [
        r
        for r in store.state.refunds.values()
        if pi_id in (None, r["payment_intent"]) and ch_id in (None, r["charge"])
    ]
    page = paginate(refunds[::-1], params, url="/v1/refunds", kind="refund")
    return 200, expand(store, page, params.strings("expand"))


def update(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["metadata", "expand"])
    found = store.refund(call.path("id"))
    if "metadata" in params:
        incoming = params.metadata() or {}
        old = dict(found["metadata"])
        merged = {} if params.data["metadata"] == "" else {**old, **incoming}
        found["metadata"] = {k: v for k, v in merged.items() if v != ""}
        if found["metadata"] != old:
            store.emit("refund.updated", found, call.origin, previous={"metadata": old})
    return 200, expand(store, found, params.strings("expand"))


def cancel(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["expand"])
    found = store.refund(call.path("id"))
    # Stripe cancels only refunds in `requires_action`, which only payment methods needing the
    # customer's action reach. Card refunds never do, so, as with Stripe's cards, every sandbox
    # refund is refused. Stripe documents no error code for this, so none is invented here.
    raise InvalidRequestError(
        f"You can't cancel this refund because it has a status of {found['status']}. Only a "
        "refund with a status of requires_action can be canceled."
    )
