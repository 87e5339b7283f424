"""Transaction search: pages and 31-day windows followed, rows read as signed Money."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventpay.domain import Money
from eventpay.domain.reconciliation import Movement
from eventpay.ports import ProviderOutcomeUnknown
from eventpay.providers.paypal import PayPalProvider
from eventpay.providers.paypal_reporting import (
    PayPalReporting,
    ReportedTransaction,
    TransactionKind,
    kind_of,
    to_movement,
    windows,
)

from .fake_paypal import FakePayPal

PATH = "/v1/reporting/transactions"
START = datetime(2026, 5, 1, tzinfo=UTC)


def info(transaction_id: str, code: str, value: str, fee: str | None, **extra: str) -> Any:
    row: dict[str, Any] = {
        "transaction_id": transaction_id,
        "transaction_event_code": code,
        "transaction_initiation_date": "2026-05-02T10:00:00+0000",
        "transaction_updated_date": "2026-05-02T10:00:05+0000",
        "transaction_amount": {"currency_code": "USD", "value": value},
        "transaction_status": "S",
        **extra,
    }
    if fee is not None:
        row["fee_amount"] = {"currency_code": "USD", "value": fee}
    return {"transaction_info": row}


def page(details: list[Any], number: int, total_pages: int) -> dict[str, Any]:
    return {
        "transaction_details": details,
        "account_number": "SBXMERCHANT2Z",
        "page": number,
        "total_items": 3,
        "total_pages": total_pages,
        "links": [{"href": "https://example/self", "rel": "self", "method": "GET"}],
    }


def test_pages_are_read_until_the_last(fake: FakePayPal, provider: PayPalProvider) -> None:
    sale = info("5O190127TN364715T", "T0006", "12.50", "-0.93", custom_field="pay-1")
    refund = info("1JU08902781691411", "T1107", "-5.00", "0.17", paypal_reference_id="5O1")
    payout = info("0C413693MN970190K", "T0001", "-40.00", "-0.80", custom_field="item-7")
    fake.fail_next("GET", PATH, 200, page([sale, refund], 1, 2))
    fake.fail_next("GET", PATH, 200, page([payout], 2, 2))

    found = list(
        PayPalReporting(provider.api, page_size=2).transactions(
            start=START, end=START + timedelta(days=2)
        )
    )

    requests = fake.api_requests("GET", PATH)
    assert [r.url.params["page"] for r in requests] == ["1", "2"]
    params = requests[0].url.params
    assert (params["start_date"], params["end_date"]) == (
        "2026-05-01T00:00:00Z",
        "2026-05-03T00:00:00Z",
    )
    assert (params["fields"], params["page_size"]) == ("all", "2")
    assert found[0] == ReportedTransaction(
        transaction_id="5O190127TN364715T",
        kind=TransactionKind.PAYMENT,
        event_code="T0006",
        amount=Money(1250, "usd"),
        fee=Money(-93, "usd"),
        status="S",
        time=datetime(2026, 5, 2, 10, tzinfo=UTC),
        custom_field="pay-1",
    )
    assert [(t.kind, t.amount, t.fee) for t in found[1:]] == [
        (TransactionKind.REFUND, Money(-500, "usd"), Money(17, "usd")),
        (TransactionKind.PAYOUT, Money(-4000, "usd"), Money(-80, "usd")),
    ]
    assert found[1].reference_id == "5O1"


def test_a_row_without_a_fee_has_a_zero_fee(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next("GET", PATH, 200, page([info("7X", "T1114", "40.00", None)], 1, 1))

    (row,) = PayPalReporting(provider.api).transactions(start=START, end=START)

    assert (row.kind, row.fee) == (TransactionKind.PAYOUT_RETURN, Money(0, "usd"))


def test_long_periods_are_asked_in_31_day_windows(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    for _ in range(3):
        fake.fail_next("GET", PATH, 200, page([], 1, 0))
    end = START + timedelta(days=70)

    assert list(PayPalReporting(provider.api).transactions(start=START, end=end)) == []

    asked = [(r.url.params["start_date"], r.url.params["end_date"]) for r in fake.api_requests()]
    assert asked == [
        ("2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        ("2026-06-01T00:00:01Z", "2026-07-02T00:00:01Z"),
        ("2026-07-02T00:00:02Z", "2026-07-10T00:00:00Z"),
    ]


def test_windows_meet_without_overlap_and_need_aware_dates() -> None:
    cut = list(windows(START, START + timedelta(days=62, seconds=1)))
    assert all(b[0] - a[1] == timedelta(seconds=1) for a, b in itertools.pairwise(cut))
    assert all(until - since <= timedelta(days=31) for since, until in cut)
    with pytest.raises(ValueError):  # noqa: PT011
        list(windows(datetime(2026, 5, 1), START))  # naive on purpose


def test_a_transaction_id_is_passed_on(fake: FakePayPal, provider: PayPalProvider) -> None:
    fake.fail_next("GET", PATH, 200, page([], 1, 0))
    list(PayPalReporting(provider.api).transactions(start=START, end=START, transaction_id="5O1"))
    assert fake.api_requests()[0].url.params["transaction_id"] == "5O1"


def test_an_unreadable_row_is_an_unknown_answer(fake: FakePayPal, provider: PayPalProvider) -> None:
    broken = {"transaction_info": {"transaction_id": "5O1", "transaction_event_code": "T0006"}}
    fake.fail_next("GET", PATH, 200, page([broken], 1, 1))
    with pytest.raises(ProviderOutcomeUnknown):
        list(PayPalReporting(provider.api).transactions(start=START, end=START))


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("T0006", TransactionKind.PAYMENT),
        ("T0000", TransactionKind.PAYMENT),
        ("T0001", TransactionKind.PAYOUT),
        ("T1107", TransactionKind.REFUND),
        ("T1114", TransactionKind.PAYOUT_RETURN),
        ("T1115", TransactionKind.PAYOUT_RETURN),
        ("T0104", TransactionKind.OTHER),
        ("T1201", TransactionKind.OTHER),
    ],
)
def test_event_codes_name_the_kind(code: str, kind: TransactionKind) -> None:
    assert kind_of(code) is kind


def test_an_invoice_paid_with_paypal_is_a_payment_received(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    paid = info("3CK61587EH1457014", "T0000", "150.00", "-5.73", invoice_id="sp_01J2")
    fake.fail_next("GET", PATH, 200, page([paid], 1, 1))

    (row,) = PayPalReporting(provider.api).transactions(start=START, end=START)

    assert (row.kind, row.invoice_id) == (TransactionKind.PAYMENT, "sp_01J2")
    assert to_movement(row) == Movement(
        ref="3CK61587EH1457014", kind="payment", amount=Money(15000, "usd"), fee=Money(573, "usd")
    )
