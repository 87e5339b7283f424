"""Moving money between the platform and connected accounts: transfers, fees and their undoing.

Each function changes the objects involved, records the balance transactions on both sides
(balance.py) and returns the events to emit, `(type, object)`, so the caller chooses when they
go out. Stripe's Connect model, for a destination charge of A with application fee F:

    platform    +A charge (less Stripe's fee)   -A transfer   +F application_fee
    connected   +A payment (less F, shown as an application_fee fee)

and undoing it: a transfer reversal gives the platform `transfer_refund` +R and takes
`payment_refund` -R from the connected account; an application fee refund takes
`application_fee_refund` -X from the platform and gives it back to the connected account.
Callers hold `store.lock` and have checked amounts and capabilities.
"""

from __future__ import annotations

import time

from . import balance, connect_objects, objects
from .objects import JSON
from .store import Store

Events = list[tuple[str, JSON]]


def make_transfer(
    store: Store,
    *,
    amount: int,
    currency: str,
    destination: str,
    source_transaction: str | None,
    transfer_group: str | None,
    description: str | None,
    metadata: dict[str, str],
    application_fee: int = 0,
) -> tuple[JSON, Events]:
    """Send `amount` to `destination`; `application_fee` is what the platform takes back."""
    tr_id = objects.new_id("tr_")
    payment_id = objects.new_id("py_")
    sent = balance.record(
        store,
        owner=None,
        amount=-amount,
        currency=currency,
        txn_type="transfer",
        reporting_category="transfer",
        source=tr_id,
        description=description,
    )
    fee_lines = []
    if application_fee:
        fee_lines.append(
            {
                "amount": application_fee,
                "application": connect_objects.APPLICATION,
                "currency": currency,
                "description": "Application fee",
                "type": "application_fee",
            }
        )
    balance.record(
        store,
        owner=destination,
        amount=amount,
        currency=currency,
        txn_type="payment",
        reporting_category="charge",
        source=payment_id,
        fee=application_fee,
        fee_details=fee_lines,
    )
    created = connect_objects.transfer(
        tr_id=tr_id,
        created=int(time.time()),
        amount=amount,
        currency=currency,
        destination=destination,
        destination_payment=payment_id,
        balance_transaction=sent["id"],
        description=description,
        metadata=metadata,
        source_transaction=source_transaction,
        transfer_group=transfer_group,
    )
    store.state.transfers[tr_id] = created
    return created, [("transfer.created", created)]


def reverse_transfer(
    store: Store,
    transfer: JSON,
    *,
    amount: int,
    source_refund: str | None,
    metadata: dict[str, str],
) -> tuple[JSON, Events]:
    """Take `amount` of a transfer back from its destination (caller checked what is left)."""
    trr_id = objects.new_id("trr_")
    refund_id = objects.new_id("pyr_")
    currency = str(transfer["currency"])
    back = balance.record(
        store,
        owner=None,
        amount=amount,
        currency=currency,
        txn_type="transfer_refund",
        reporting_category="transfer_reversal",
        source=trr_id,
    )
    balance.record(
        store,
        owner=str(transfer["destination"]),
        amount=-amount,
        currency=currency,
        txn_type="payment_refund",
        reporting_category="refund",
        source=refund_id,
    )
    reversal = connect_objects.transfer_reversal(
        trr_id=trr_id,
        created=int(time.time()),
        amount=amount,
        currency=currency,
        transfer_id=str(transfer["id"]),
        balance_transaction=back["id"],
        destination_payment_refund=refund_id,
        source_refund=source_refund,
        metadata=metadata,
    )
    store.state.transfer_reversals[trr_id] = reversal
    mine = [r for r in store.state.transfer_reversals.values() if r["transfer"] == transfer["id"]]
    reversed_total = sum(int(r["amount"]) for r in mine)
    transfer.update(
        amount_reversed=reversed_total,
        reversed=reversed_total == int(transfer["amount"]),
        reversals=objects.list_object(
            mine[::-1][:10], has_more=len(mine) > 10, url=str(transfer["reversals"]["url"])
        ),
    )
    return reversal, [("transfer.reversed", transfer)]


def collect_application_fee(
    store: Store, *, charge: JSON, amount: int, account: str
) -> tuple[JSON, Events]:
    """The platform's application fee on a destination charge."""
    fee_id = objects.new_id("fee_")
    currency = str(charge["currency"])
    earned = balance.record(
        store,
        owner=None,
        amount=amount,
        currency=currency,
        txn_type="application_fee",
        reporting_category="platform_earning",
        source=fee_id,
    )
    fee = connect_objects.application_fee(
        fee_id=fee_id,
        created=int(time.time()),
        amount=amount,
        currency=currency,
        account=account,
        charge=str(charge["id"]),
        balance_transaction=earned["id"],
    )
    store.state.application_fees[fee_id] = fee
    return fee, [("application_fee.created", fee)]


def refund_application_fee(
    store: Store, fee: JSON, *, amount: int, metadata: dict[str, str]
) -> tuple[JSON, Events]:
    """Give `amount` of an application fee back to the connected account."""
    fr_id = objects.new_id("fr_")
    currency = str(fee["currency"])
    given = balance.record(
        store,
        owner=None,
        amount=-amount,
        currency=currency,
        txn_type="application_fee_refund",
        reporting_category="platform_earning_refund",
        source=fr_id,
    )
    balance.record(
        store,
        owner=str(fee["account"]),
        amount=amount,
        currency=currency,
        txn_type="application_fee_refund",
        reporting_category="fee",
        source=fr_id,
    )
    refund = connect_objects.fee_refund(
        fr_id=fr_id,
        created=int(time.time()),
        amount=amount,
        currency=currency,
        fee_id=str(fee["id"]),
        balance_transaction=given["id"],
        metadata=metadata,
    )
    store.state.fee_refunds[fr_id] = refund
    mine = [r for r in store.state.fee_refunds.values() if r["fee"] == fee["id"]]
    refunded = sum(int(r["amount"]) for r in mine)
    fee.update(
        amount_refunded=refunded,
        refunded=refunded == int(fee["amount"]),
        refunds=objects.list_object(
            mine[::-1][:10], has_more=len(mine) > 10, url=str(fee["refunds"]["url"])
        ),
    )
    return refund, [("application_fee.refunded", fee)]
