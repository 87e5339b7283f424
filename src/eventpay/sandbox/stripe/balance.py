"""Balance transactions and the balance: every movement of money, per account, and its sum.

Each charge, refund, transfer, reversal, application fee (and its refunds) and payout records a
balance transaction here, on the platform's books (`owner` None) or a connected account's.
Amounts are signed integer minor units (negative leaves the balance), `net = amount - fee`, and
the balance is the sum of nets per currency, never counted up by hand. The fee on a charge is
fees.py's rule. Funds are available at once in the sandbox (Stripe test mode holds them for a
couple of days), so payouts can run right after a payment.

Operations: `GET /v1/balance`, `GET /v1/balance_transactions` (filters `created`, `type`,
`source`, `currency`; paging) and `GET /v1/balance_transactions/{id}`, each for the platform or,
with a `Stripe-Account` header, for that connected account. Callers hold `store.lock`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

from . import connect_objects, fees, objects
from .errors import ParameterError, PermissionError_, ResourceMissing
from .forms import Params
from .gateway import Call
from .objects import JSON
from .resources import expand, paginate
from .store import Store

Result = tuple[int, JSON]

_RANGE = ("gt", "gte", "lt", "lte")


def record(
    store: Store,
    *,
    owner: str | None,
    amount: int,
    currency: str,
    txn_type: str,
    reporting_category: str,
    source: str | None,
    description: str | None = None,
    fee: int = 0,
    fee_details: Sequence[dict[str, Any]] = (),
    txn_id: str | None = None,
) -> JSON:
    """Add a balance transaction to `owner`'s books (None: the platform) and return it."""
    txn = connect_objects.balance_transaction(
        txn_id=txn_id or objects.new_id("txn_"),
        created=int(time.time()),
        amount=amount,
        currency=currency,
        fee=fee,
        fee_details=[dict(line) for line in fee_details],
        txn_type=txn_type,
        reporting_category=reporting_category,
        source=source,
        description=description,
    )
    store.state.balance_transactions[txn["id"]] = txn
    store.state.owners[txn["id"]] = owner
    return txn


def record_charge(store: Store, charge: JSON) -> JSON:
    """The platform's balance transaction of a succeeded charge, with Stripe's fee."""
    amount, currency = int(charge["amount"]), str(charge["currency"])
    fee = fees.stripe_fee(amount, currency)
    return record(
        store,
        owner=None,
        amount=amount,
        currency=currency,
        txn_type="charge",
        reporting_category="charge",
        source=charge["id"],
        description=charge["description"],
        fee=fee,
        fee_details=fees.fee_details(fee, currency),
        txn_id=charge["balance_transaction"],
    )


def available(store: Store, owner: str | None) -> dict[str, int]:
    """`owner`'s available balance per currency: the sum of its balance transactions' nets."""
    totals: dict[str, int] = {}
    for txn_id, txn in store.state.balance_transactions.items():
        if store.state.owners.get(txn_id) == owner:
            currency = str(txn["currency"])
            totals[currency] = totals.get(currency, 0) + int(txn["net"])
    return totals


def acting_for(store: Store, call: Call) -> str | None:
    """The connected account named by the `Stripe-Account` header, checked; None: the platform."""
    if call.account is None:
        return None
    if call.account not in store.state.accounts:
        raise PermissionError_(
            f"The provided key does not have access to account '{call.account}' (or that "
            "account does not exist). Application access may have been revoked.",
            code="account_invalid",
        )
    return call.account


def retrieve_balance(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    owner = acting_for(store, call)
    amounts = available(store, owner)
    return 200, connect_objects.balance(amounts, dict.fromkeys(amounts, 0))


def retrieve_balance_transaction(store: Store, call: Call) -> Result:
    call.params.only(["expand"])
    owner = acting_for(store, call)
    txn_id = call.path("id")
    txn = store.balance_transaction(txn_id)
    if store.state.owners.get(txn_id) != owner:
        # Another account's books: Stripe answers as if it did not exist.
        raise ResourceMissing("balance_transaction", txn_id)
    return 200, expand(store, txn, call.params.strings("expand"))


def _created_filter(params: Params) -> dict[str, int]:
    """`created` as Stripe takes it: an exact timestamp or a `gt/gte/lt/lte` range."""
    if "created" not in params:
        return {}
    if isinstance(params.data["created"], str):
        return {"eq": int(params.integer("created") or 0)}
    bounds = params.mapping("created", allowed=_RANGE) or {}
    return {op: int(Params(bounds).integer(op) or 0) for op in bounds}


def _in_range(created: int, bounds: dict[str, int]) -> bool:
    checks = {
        "eq": lambda b: created == b,
        "gt": lambda b: created > b,
        "gte": lambda b: created >= b,
        "lt": lambda b: created < b,
        "lte": lambda b: created <= b,
    }
    return all(checks[op](bound) for op, bound in bounds.items())


def list_balance_transactions(store: Store, call: Call) -> Result:
    params = call.params
    params.only(
        [
            "limit",
            "starting_after",
            "ending_before",
            "created",
            "currency",
            "payout",
            "source",
            "type",
            "expand",
        ]
    )
    owner = acting_for(store, call)
    bounds = _created_filter(params)
    wanted_type = params.string("type")
    source = params.string("source")
    currency = params.string("currency")
    payout = params.string("payout")
    if payout is not None:
        raise ParameterError(
            "The Stripe sandbox pays out manually only; `payout` filters automatic payouts.",
            param="payout",
        )
    # The cheap tests first: a listing of one type among a million records stays quick.
    found = [
        txn
        for txn_id, txn in store.state.balance_transactions.items()
        if wanted_type in (None, txn["type"])
        and source in (None, txn["source"])
        and currency in (None, txn["currency"])
        and store.state.owners.get(txn_id) == owner
        and _in_range(int(txn["created"]), bounds)
    ]
    page = paginate(found[::-1], params, url="/v1/balance_transactions", kind="balance_transaction")
    return 200, expand(store, copy.deepcopy(page), params.strings("expand"))
