"""Reading Stripe's balance report CSV (`stripe_balance.rows_of_report`, `report_rows`).

The CSV arrives in chunks that cut lines anywhere; amounts are decimal major units and must be
read exactly, per currency; only charges and refunds are movements; the report covers up to the
report type's `data_available_end`, and the pages cover the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.domain.reconciliation import Movement
from eventpay.ports import ProviderError
from eventpay.providers.stripe_balance import report_rows, rows_of_report

CSV = (
    b"balance_transaction_id,reporting_category,source_id,currency,gross,fee,net\n"
    b"txn_1,charge,ch_1,usd,45.00,1.61,43.39\n"
    b"txn_2,refund,re_1,usd,-12.50,0.00,-12.50\n"
    b"txn_3,charge,ch_2,jpy,5000,175,4825\n"
    b"txn_4,charge,ch_3,isk,1000.00,59.00,941.00\n"
    b"txn_5,payout,po_1,usd,-100.00,0.00,-100.00\n"
    b"txn_6,transfer,tr_1,usd,-5.00,0.00,-5.00\n"
    b"txn_7,charge,ch_4,kwd,1234.500,0.330,1234.170\n"
)


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_rows_are_read_exactly_whatever_the_chunks(size: int) -> None:
    rows = list(rows_of_report(_chunks(CSV, size)))

    assert rows == [
        ("ch_1", "payment", "usd", 4500, 161),
        ("re_1", "refund", "usd", -1250, None),
        ("ch_2", "payment", "jpy", 5000, 175),
        ("ch_3", "payment", "isk", 1000, 59),
        ("ch_4", "payment", "kwd", 1234500, 330),
    ]


@pytest.mark.parametrize(
    "line",
    [
        b"txn,charge,ch_x,usd,12.505,0,0\n",  # not a whole number of cents
        b"txn,charge,ch_x,zzz,1.00,0,0\n",  # a currency we do not take
        b"txn,charge,ch_x,usd,twelve,0,0\n",
    ],
)
def test_an_amount_that_is_not_exact_is_refused(line: bytes) -> None:
    header = CSV.split(b"\n", 1)[0] + b"\n"
    with pytest.raises(ProviderError):
        list(rows_of_report([header + line]))


def test_a_report_without_the_columns_is_refused() -> None:
    with pytest.raises(ProviderError):
        list(rows_of_report([b"id,amount\ntxn_1,100\n"]))


def test_the_report_covers_what_stripe_has_ready_and_the_pages_the_rest() -> None:
    asked: list[dict[str, Any]] = []
    paged: list[tuple[datetime, datetime]] = []

    def create(params: dict[str, Any], key: str) -> Mapping[str, Any]:
        asked.append({**params, "key": key})
        return {"id": "frr_1", "status": "pending"}

    def retrieve(run_id: str) -> Mapping[str, Any]:
        return {"id": run_id, "status": "succeeded", "result": {"id": "file_1"}}

    def pages(start: datetime, end: datetime) -> Iterator[Movement]:
        paged.append((start, end))
        yield Movement(ref="ch_9", kind="payment", amount=Money(100, "usd"), fee=Money(33, "usd"))

    rows = list(
        report_rows(
            available_until=lambda: 1_700_000_100,
            create=create,
            retrieve=retrieve,
            download=lambda file_id: [CSV.split(b"\n", 2)[0] + b"\n" + CSV.split(b"\n", 2)[1]],
            paged=pages,
            since=datetime.fromtimestamp(1_700_000_000, UTC),
            until=datetime.fromtimestamp(1_700_000_200, UTC),
            sleep=lambda _: None,
        )
    )

    assert rows == [("ch_1", "payment", "usd", 4500, 161), ("ch_9", "payment", "usd", 100, 33)]
    assert asked[0]["parameters"]["interval_start"] == 1_700_000_000
    assert asked[0]["parameters"]["interval_end"] == 1_700_000_100
    assert asked[0]["key"].endswith("-1700000000-1700000100")
    assert paged == [
        (datetime.fromtimestamp(1_700_000_100, UTC), datetime.fromtimestamp(1_700_000_200, UTC))
    ]
