"""One item's failure to read or book its fee never stops the items after it."""

from __future__ import annotations

from structlog.testing import capture_logs

from eventpay.domain import Money
from eventpay.ports import ProviderOutcomeUnknown
from eventpay.services import fee_reads


def test_each_item_is_read_and_booked_whatever_the_others_do() -> None:
    booked: list[tuple[str, int | None]] = []
    fees = {
        "a": ValueError("sdk said card 4242..."),
        "b": ProviderOutcomeUnknown("timeout", "no answer"),
        "c": 30,
    }

    def read(item: str) -> Money | None:
        fee = fees[item]
        if isinstance(fee, Exception):
            raise fee
        return Money(fee, "usd")

    def book(item: str, fee: Money | None) -> bool:
        if item == "c" and fee is not None:
            booked.append(("boom", fee.amount))
            raise RuntimeError("database went away")
        booked.append((item, None if fee is None else fee.amount))
        return fee is not None

    with capture_logs() as logs:
        count = fee_reads.read_each(
            ["a", "b", "c"], read=read, book=book, names=lambda i: {"item": i}, event="x.fee"
        )
    assert count == 0
    assert booked == [("a", None), ("b", None), ("boom", 30), ("c", None)]  # c rescheduled
    assert [(e["event"], e["item"]) for e in logs] == [
        ("x.fee_read_error", "a"),
        ("x.fee_read_failed", "b"),
        ("x.fee_book_error", "c"),
    ]
    assert logs[0]["error"] == "ValueError"
    assert "4242" not in str(logs)


def test_booked_fees_are_counted() -> None:
    count = fee_reads.read_each(
        ["a", "b"],
        read=lambda item: Money(10, "usd"),
        book=lambda item, fee: fee is not None,
        names=lambda item: {"item": item},
        event="x.fee",
    )
    assert count == 2
