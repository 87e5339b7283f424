"""The money that left for organizers as each provider lists it: Stripe's transfers and their
reversals (with the charge or refund they came from), PayPal's payout items and returns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.domain.reconciliation import Movement
from eventpay.ports import ProviderError
from eventpay.providers.paypal_reporting import (
    ReportedTransaction,
    TransactionKind,
    to_organizer_movement,
)
from eventpay.providers.stripe_balance import organizer_movements, to_application_fee
from eventpay.providers.stripe_balance import to_organizer_movement as stripe_one

WHEN = datetime(2026, 5, 2, 10, tzinfo=UTC)


def usd(amount: int) -> Money:
    return Money(amount, "usd")


def txn(txn_id: str, kind: str, amount: int, source: Any) -> dict[str, Any]:
    return {
        "id": txn_id,
        "type": kind,
        "amount": amount,
        "currency": "usd",
        "fee": 0,
        "source": source,
    }


def test_a_transfer_and_a_reversal_name_the_charge_and_the_refund_they_came_from() -> None:
    sent = txn("txn_1", "transfer", -3800, {"id": "tr_1", "source_transaction": "ch_1"})
    back = txn("txn_2", "transfer_refund", 500, {"id": "trr_1", "source_refund": "re_1"})
    plain = txn("txn_3", "transfer", -100, "tr_2")  # source not expanded: no link known
    assert stripe_one(sent) == Movement("tr_1", "transfer", usd(-3800), related="ch_1")
    assert stripe_one(back) == Movement("trr_1", "transfer_reversal", usd(500), related="re_1")
    assert stripe_one(plain) == Movement("tr_2", "transfer", usd(-100))
    assert stripe_one(txn("txn_4", "charge", 4000, "ch_1")) is None
    assert stripe_one(txn("txn_5", "payout", -900, "po_1")) is None
    with pytest.raises(ProviderError):
        stripe_one({**sent, "currency": "xxx"})


def test_transfers_and_reversals_are_read_by_type_with_their_source_page_by_page() -> None:
    pages = {
        ("transfer", None): {
            "data": [txn("txn_1", "transfer", -10, {"id": "tr_1", "source_transaction": None})],
            "has_more": True,
        },
        ("transfer", "txn_1"): {
            "data": [txn("txn_2", "transfer", -20, {"id": "tr_2", "source_transaction": "ch_2"})],
            "has_more": False,
        },
        ("transfer_refund", None): {
            "data": [txn("txn_3", "transfer_refund", 5, {"id": "trr_1", "source_refund": None})],
            "has_more": False,
        },
        ("application_fee", None): {
            "data": [
                txn("txn_4", "application_fee", 3, {"id": "fee_1", "charge": "ch_2"}),
                txn(
                    "txn_5",
                    "application_fee",
                    2,
                    {"id": "fee_2", "charge": "py_9", "originating_transaction": "ch_2"},
                ),
                txn("txn_6", "application_fee", 7, {"id": "fee_3", "charge": "ch_8"}),
            ],
            "has_more": False,
        },
    }
    asked: list[dict[str, Any]] = []

    def fetch(params: dict[str, Any]) -> Mapping[str, Any]:
        asked.append(params)
        return pages[(params["type"], params.get("starting_after"))]

    found = list(
        organizer_movements(fetch, since=datetime(2026, 5, 1, tzinfo=UTC), until=WHEN, page_size=1)
    )
    # A transfer made from a charge carries what the platform took back from that charge.
    assert [(m.ref, m.kind, m.amount.amount, m.related, m.fee) for m in found] == [
        ("tr_1", "transfer", -10, None, None),
        ("tr_2", "transfer", -20, "ch_2", usd(5)),
        ("trr_1", "transfer_reversal", 5, None, None),
    ]
    assert all(p["expand"] == ["data.source"] and p["limit"] == 1 for p in asked)
    assert asked[0]["created"] == {
        "gte": int(datetime(2026, 5, 1, tzinfo=UTC).timestamp()),
        "lt": int(WHEN.timestamp()),
    }


def test_an_application_fee_names_the_platforms_charge_it_came_from() -> None:
    fee = txn("t", "application_fee", 275, {"id": "fee_1", "charge": "py_1"})
    assert to_application_fee(fee) == Movement(
        "fee_1", "application_fee", usd(275), None, None, "py_1"
    )
    fee["source"]["originating_transaction"] = "ch_1"
    assert to_application_fee(fee) == Movement(
        "fee_1", "application_fee", usd(275), None, None, "ch_1"
    )
    assert to_application_fee({**fee, "source": "fee_1"}) is None  # not expanded
    assert to_application_fee({**fee, "source": {"id": "fee_1"}}) is None  # names no charge
    assert to_application_fee({**fee, "type": "transfer"}) is None
    with pytest.raises(ProviderError):
        to_application_fee({**fee, "currency": "xxx"})


def reported(kind: TransactionKind, status: str, amount: int, fee: int, **extra: Any) -> Any:
    return ReportedTransaction(
        transaction_id=extra.pop("transaction_id", "TXN-1"),
        kind=kind,
        event_code={TransactionKind.PAYOUT: "T0001"}.get(kind, "T1114"),
        amount=usd(amount),
        fee=usd(fee),
        status=status,
        time=WHEN,
        **extra,
    )


@pytest.mark.parametrize("status", ["S", "P", "V"])
def test_a_payout_item_whose_money_left_is_a_payout_with_the_fee_paypal_charged(
    status: str,
) -> None:
    item = reported(TransactionKind.PAYOUT, status, -2000, -25)
    assert to_organizer_movement(item) == Movement("TXN-1", "payout", usd(-2000), usd(25))


def test_a_return_is_keyed_by_its_payout_and_other_rows_are_not_paid_out() -> None:
    back = reported(
        TransactionKind.PAYOUT_RETURN, "S", 2000, 25, transaction_id="RET-1", reference_id="TXN-1"
    )
    assert to_organizer_movement(back) == Movement(
        "TXN-1:return", "payout_return", usd(2000), related="RET-1"
    )
    unlinked = reported(TransactionKind.PAYOUT_RETURN, "S", 2000, 25, transaction_id="RET-2")
    assert to_organizer_movement(unlinked) is None
    assert to_organizer_movement(reported(TransactionKind.PAYOUT, "D", -2000, 0)) is None
    assert to_organizer_movement(reported(TransactionKind.PAYMENT, "S", 4000, -150)) is None
