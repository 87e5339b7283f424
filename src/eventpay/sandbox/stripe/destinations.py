"""Destination charges: the Connect parameters of a PaymentIntent and what paying and refunding do.

A PaymentIntent may name `transfer_data[destination]` (a connected account whose `transfers`
capability is active), `application_fee_amount` (only with a destination: the sandbox has no
direct charges) and `on_behalf_of` (the settlement merchant; with a destination it must be the
same account). When its charge succeeds, the full amount is transferred to the destination and
the application fee is taken back by the platform, as Stripe does (movements.py has the books);
the charge gets `transfer`, `application_fee` and `transfer_group` (`group_<pi id>` unless the
intent has one). A refund may `reverse_transfer` (the refunded amount is taken back from the
destination) and `refund_application_fee` (the fee, in proportion to the refunded amount, rounded
half up; the refund that completes a full refund returns exactly what is left of it).

Intents and charges without these parameters are untouched. Callers hold `store.lock`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import movements
from .errors import InvalidRequestError, ParameterError
from .forms import Params
from .objects import JSON
from .store import Store

PARAMETERS = ("application_fee_amount", "on_behalf_of", "transfer_data")
_NO_TRANSFERS = (
    "Your destination account needs to have at least one of the following capabilities "
    "enabled: transfers, crypto_transfers, legacy_payments"
)


def check_can_receive(store: Store, acct_id: str, param: str) -> None:
    """Refuse a destination that does not exist or cannot receive transfers yet."""
    account = store.account(acct_id, param=param)
    if account["capabilities"].get("transfers") != "active":
        raise InvalidRequestError(
            _NO_TRANSFERS, code="insufficient_capabilities_for_transfer", param=param
        )


def intent_fields(store: Store, params: Params, amount: int) -> dict[str, Any]:
    """The Connect fields of a new PaymentIntent; empty when none of them is given."""
    if not any(name in params for name in PARAMETERS):
        return {}
    data = params.mapping("transfer_data", allowed=("destination",))
    destination = None
    if data is not None:
        destination = data.get("destination")
        if not isinstance(destination, str) or not destination:
            raise ParameterError(
                "Missing required param: transfer_data[destination].",
                code="parameter_missing",
                param="transfer_data[destination]",
            )
        check_can_receive(store, destination, "transfer_data[destination]")
    on_behalf_of = params.string("on_behalf_of") or None
    if on_behalf_of is not None:
        store.account(on_behalf_of, param="on_behalf_of")
        if destination is not None and on_behalf_of != destination:
            raise InvalidRequestError(
                "The `on_behalf_of` parameter must be the same account as "
                "`transfer_data[destination]`.",
                param="on_behalf_of",
            )
    fee = params.integer("application_fee_amount", minimum=0)
    if fee is not None and destination is None:
        raise InvalidRequestError(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination payment "
            "(using `transfer_data[destination]`).",
            param="application_fee_amount",
        )
    if fee is not None and fee > amount:
        raise InvalidRequestError(
            "The application_fee_amount must be less than or equal to the amount.",
            param="application_fee_amount",
        )
    return {
        "application_fee_amount": fee,
        "on_behalf_of": on_behalf_of,
        "transfer_data": {"destination": destination} if destination else None,
    }


def tag_charge(intent: JSON, charge: JSON) -> None:
    """Copy the intent's Connect fields onto its new charge (succeeded or failed)."""
    if intent["transfer_data"] is not None:
        charge["transfer_data"] = {
            "amount": None,
            "destination": intent["transfer_data"]["destination"],
        }
        charge["application_fee_amount"] = intent["application_fee_amount"]
        charge["transfer_group"] = intent["transfer_group"] or f"group_{intent['id']}"
    if intent["on_behalf_of"] is not None:
        charge["on_behalf_of"] = intent["on_behalf_of"]


def settle(store: Store, charge: JSON) -> movements.Events:
    """Transfer a succeeded destination charge and collect its fee; nothing for other charges."""
    if charge["transfer_data"] is None:
        return []
    amount = int(charge["amount"])
    destination = str(charge["transfer_data"]["destination"])
    fee_amount = min(amount, int(charge["application_fee_amount"] or 0))
    transfer, events = movements.make_transfer(
        store,
        amount=amount,
        currency=str(charge["currency"]),
        destination=destination,
        source_transaction=str(charge["id"]),
        transfer_group=charge["transfer_group"],
        description=None,
        metadata={},
        application_fee=fee_amount,
    )
    # Stripe adds `transfer` to destination charges only; other charges have no such key.
    charge["transfer"] = transfer["id"]
    if fee_amount:
        fee, fee_events = movements.collect_application_fee(
            store, charge=charge, amount=fee_amount, account=destination
        )
        charge["application_fee"] = fee["id"]
        events += fee_events
    return events


def check_refund(charge: JSON, *, reverse_transfer: bool) -> None:
    """Refuse `reverse_transfer` on a charge that transferred nothing."""
    if reverse_transfer and not charge.get("transfer"):
        raise InvalidRequestError(
            f"Charge {charge['id']} was not created with transfer_data[destination], so there is "
            "no transfer to reverse.",
            param="reverse_transfer",
        )


def _share(total: int, part: int, whole: int) -> int:
    return int((Decimal(total) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def on_refund(
    store: Store,
    charge: JSON,
    refund: JSON,
    *,
    reverse_transfer: bool,
    refund_application_fee: bool,
) -> movements.Events:
    """Undo the Connect side of a refund as asked; the refund is already counted on the charge."""
    events: movements.Events = []
    amount, whole = int(refund["amount"]), int(charge["amount"])
    if reverse_transfer and charge.get("transfer"):
        transfer = store.transfer(str(charge["transfer"]))
        left = int(transfer["amount"]) - int(transfer["amount_reversed"])
        back = min(left, _share(int(transfer["amount"]), amount, whole))
        if back > 0:
            reversal, reversed_events = movements.reverse_transfer(
                store, transfer, amount=back, source_refund=str(refund["id"]), metadata={}
            )
            refund["transfer_reversal"] = reversal["id"]
            events += reversed_events
    fee_id = charge.get("application_fee")
    if refund_application_fee and fee_id:
        fee = store.application_fee(str(fee_id))
        left = int(fee["amount"]) - int(fee["amount_refunded"])
        completes = int(charge["amount_refunded"]) >= int(charge["amount_captured"])
        share = left if completes else min(left, _share(int(fee["amount"]), amount, whole))
        if share > 0:
            _, fee_events = movements.refund_application_fee(store, fee, amount=share, metadata={})
            events += fee_events
    return events
