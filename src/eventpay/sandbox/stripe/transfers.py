"""Separate charges and transfers, reversals, and application fees: the API operations.

`POST /v1/transfers` sends platform money to a connected account: from the platform's available
balance, or tied to a charge with `source_transaction` (then at most what is left of that
charge, in its currency). `GET /v1/transfers[/{id}]` (filters `destination`, `transfer_group`),
`POST|GET /v1/transfers/{id}/reversals`. `GET /v1/application_fees[/{id}]` (filter `charge`),
`POST|GET /v1/application_fees/{id}/refunds`. Rules and Stripe's messages are here; the books
are movements.py's. Operations run with the store's lock held by the gateway.
"""

from __future__ import annotations

from . import balance, currencies, destinations, movements
from .currencies import shown
from .errors import InvalidRequestError
from .gateway import Call
from .objects import JSON
from .resources import expand, paginate
from .store import Origin, Store

Result = tuple[int, JSON]

_CREATE = (
    "amount",
    "currency",
    "destination",
    "description",
    "metadata",
    "source_transaction",
    "transfer_group",
    "expand",
)
_PAGING = ("limit", "starting_after", "ending_before", "expand")


def _emit(store: Store, events: movements.Events, origin: Origin) -> None:
    for event_type, obj in events:
        store.emit(event_type, obj, origin)


def _check_source(store: Store, ch_id: str, amount: int, currency: str) -> None:
    charge = store.charge(ch_id, param="source_transaction")
    if charge["status"] != "succeeded":
        raise InvalidRequestError(
            f"The source_transaction {ch_id} has not succeeded.", param="source_transaction"
        )
    if charge["currency"] != currency:
        raise InvalidRequestError(
            f"The currency of source_transaction's balance transaction ({charge['currency']}) "
            f"must be the same as the transfer currency ({currency}).",
            param="currency",
        )
    sent = sum(
        int(t["amount"]) - int(t["amount_reversed"])
        for t in store.state.transfers.values()
        if t["source_transaction"] == ch_id
    )
    left = int(charge["amount"]) - int(charge["amount_refunded"]) - sent
    if amount > left:
        raise InvalidRequestError(
            f"Transfer amount ({shown(amount, currency)}) is greater than what is left to "
            f"transfer from source_transaction {ch_id} ({shown(left, currency)}).",
            code="amount_too_large",
            param="amount",
        )


def create(store: Store, call: Call) -> Result:
    params = call.params
    params.only(_CREATE)
    amount = int(params.integer("amount", required=True, minimum=1) or 0)
    currency = currencies.check_currency(str(params.string("currency", required=True)))
    currencies.check_amount(amount, currency)
    destination = str(params.string("destination", required=True))
    destinations.check_can_receive(store, destination, "destination")
    source = params.string("source_transaction") or None
    if source is not None:
        _check_source(store, source, amount, currency)
    elif balance.available(store, None).get(currency, 0) < amount:
        raise InvalidRequestError(
            "You have insufficient available funds in your Stripe account. Try adding funds "
            "directly to your available balance by creating Charges using the "
            "4000000000000077 test card.",
            code="balance_insufficient",
        )
    transfer, events = movements.make_transfer(
        store,
        amount=amount,
        currency=currency,
        destination=destination,
        source_transaction=source,
        transfer_group=params.string("transfer_group") or None,
        description=params.string("description") or None,
        metadata=params.metadata() or {},
    )
    _emit(store, events, call.origin)
    return 200, expand(store, transfer, params.strings("expand"))


def retrieve(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    return 200, expand(store, store.transfer(call.path("id")), call.params.strings("expand"))


def list_all(store: Store, call: Call) -> Result:
    params = call.params
    params.only([*_PAGING, "destination", "transfer_group"])
    destination = params.string("destination")
    group = params.string("transfer_group")
    found = [
        t
        for t in store.state.transfers.values()
        if destination in (None, t["destination"]) and group in (None, t["transfer_group"])
    ]
    page = paginate(found[::-1], params, url="/v1/transfers", kind="transfer")
    return 200, expand(store, page, params.strings("expand"))


def create_reversal(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["amount", "metadata", "expand"])
    transfer = store.transfer(call.path("id"))
    currency = str(transfer["currency"])
    left = int(transfer["amount"]) - int(transfer["amount_reversed"])
    amount = params.integer("amount", minimum=1)
    if left <= 0:
        raise InvalidRequestError(f"Transfer {transfer['id']} has already been fully reversed.")
    if amount is not None and amount > left:
        raise InvalidRequestError(
            f"Reversal amount ({shown(amount, currency)}) is greater than the transfer's "
            f"unreversed amount ({shown(left, currency)}).",
            code="amount_too_large",
            param="amount",
        )
    reversal, events = movements.reverse_transfer(
        store,
        transfer,
        amount=left if amount is None else amount,
        source_refund=None,
        metadata=params.metadata() or {},
    )
    _emit(store, events, call.origin)
    return 200, expand(store, reversal, params.strings("expand"))


def list_reversals(store: Store, call: Call) -> Result:
    call.params.only(_PAGING)
    tr_id = store.transfer(call.path("id"))["id"]
    found = [r for r in store.state.transfer_reversals.values() if r["transfer"] == tr_id]
    url = f"/v1/transfers/{tr_id}/reversals"
    page = paginate(found[::-1], call.params, url=url, kind="transfer_reversal")
    return 200, expand(store, page, call.params.strings("expand"))


# Application fees


def retrieve_fee(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    fee = store.application_fee(call.path("id"))
    return 200, expand(store, fee, call.params.strings("expand"))


def list_fees(store: Store, call: Call) -> Result:
    params = call.params
    params.only([*_PAGING, "charge"])
    charge = params.string("charge")
    found = [f for f in store.state.application_fees.values() if charge in (None, f["charge"])]
    page = paginate(found[::-1], params, url="/v1/application_fees", kind="application_fee")
    return 200, expand(store, page, params.strings("expand"))


def create_fee_refund(store: Store, call: Call) -> Result:
    params = call.params
    params.only(["amount", "metadata", "expand"])
    fee = store.application_fee(call.path("id"))
    currency = str(fee["currency"])
    left = int(fee["amount"]) - int(fee["amount_refunded"])
    amount = params.integer("amount", minimum=1)
    if left <= 0:
        raise InvalidRequestError(
            f"Application fee {fee['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    if amount is not None and amount > left:
        raise InvalidRequestError(
            f"Refund amount ({shown(amount, currency)}) is greater than the unrefunded amount "
            f"of the application fee ({shown(left, currency)}).",
            code="amount_too_large",
            param="amount",
        )
    refund, events = movements.refund_application_fee(
        store, fee, amount=left if amount is None else amount, metadata=params.metadata() or {}
    )
    _emit(store, events, call.origin)
    return 200, expand(store, refund, params.strings("expand"))


def list_fee_refunds(store: Store, call: Call) -> Result:
    call.params.only(_PAGING)
    fee_id = store.application_fee(call.path("id"))["id"]
    found = [r for r in store.state.fee_refunds.values() if r["fee"] == fee_id]
    url = f"/v1/application_fees/{fee_id}/refunds"
    page = paginate(found[::-1], call.params, url=url, kind="fee_refund")
    return 200, expand(store, page, call.params.strings("expand"))
