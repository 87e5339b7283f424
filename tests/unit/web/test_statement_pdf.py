"""The statement PDF: figures in major units per currency, generic kinds, pages, same bytes twice.

Read back with pypdf's text extraction, so each assertion is about what a reader of the document
sees, not about how fpdf2 was called.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from eventpay.domain import Money
from eventpay.domain.ledger import StatementEntry
from eventpay.services.organizer_money import CurrencyStatement
from eventpay.web.statement_pdf import format_amount, statement_pdf

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
GENERATED = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


def _entry(
    hour: int, currency: str, kind: str, payable: int, fee: int, order: str | None = "ord-1"
) -> StatementEntry:
    return StatementEntry(
        at=SINCE + timedelta(hours=hour),
        cause=f"{kind}:{currency}:{hour}",
        kind=kind,
        order_id=order,
        currency=currency,
        payable=payable,
        platform_fee=fee,
    )


def _section(currency: str, opening: int, entries: list[StatementEntry]) -> CurrencyStatement:
    return CurrencyStatement(
        currency=currency,
        opening=Money(opening, currency),
        entries=tuple(entries),
        closing=Money(opening + sum(e.payable for e in entries), currency),
    )


USD = _section(
    "usd",
    123456,
    [
        _entry(1, "usd", "payment_succeeded", 9450, 600, "ord-usd-a"),
        _entry(2, "usd", "refund_succeeded", -2500, -150, "ord-usd-a"),
        _entry(3, "usd", "payout_sent", -100000, 0, None),
    ],
)
JPY = _section(
    "jpy",
    5000,
    [
        _entry(4, "jpy", "payment_succeeded", 1234567, 61800, "ord-jpy-b"),
        _entry(5, "jpy", "payout_returned", 7000, 0, None),
    ],
)


def _render(
    sections: list[CurrencyStatement], *, generated_at: datetime = GENERATED, name: str = "Club"
) -> bytes:
    return statement_pdf(
        organizer_id="org-1",
        organizer_name=name,
        since=SINCE,
        until=UNTIL,
        sections=sections,
        generated_at=generated_at,
    )


def _text(document: bytes) -> str:
    reader = PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    ("amount", "currency", "printed"),
    [
        (123456, "usd", "1,234.56"),
        (-5, "usd", "-0.05"),
        (0, "usd", "0.00"),
        (123456, "jpy", "123,456"),
        (-7, "jpy", "-7"),
        (1005, "kwd", "1.005"),
    ],
)
def test_amounts_print_in_major_units_with_the_currencys_exponent(
    amount: int, currency: str, printed: str
) -> None:
    assert format_amount(amount, currency) == printed


def test_each_currency_shows_its_balances_and_every_entry_in_its_own_units() -> None:
    text = _text(_render([JPY, USD], name="Bass Club"))

    assert "Organizer: Bass Club (org-1)" in text
    assert "Period: 2026-11-01 00:00 to 2026-12-01 00:00 UTC" in text
    assert "Generated: 2026-12-02 08:30 UTC" in text
    assert "Opening balance: 1,234.56 USD" in text
    assert "Closing balance: 304.06 USD" in text  # 1234.56 + 94.50 - 25.00 - 1000.00
    assert "Opening balance: 5,000 JPY" in text
    assert "Closing balance: 1,246,567 JPY" in text
    # gross is the payable change plus the fee it moved; jpy has no decimals anywhere
    assert re.search(r"2026-11-01 01:00 payment_succeeded ord-usd-a .*100\.50 6\.00 94\.50", text)
    assert re.search(r"refund_succeeded .*-26\.50 -1\.50 -25\.00", text)
    assert re.search(
        r"2026-11-01 04:00 payment_succeeded ord-jpy-b .*1,296,367 61,800 1,234,567", text
    )
    assert "1,234,567.00" not in text
    assert text.index("JPY") < text.index("USD")


def test_kinds_the_ledger_adds_later_render_by_their_name() -> None:
    text = _text(_render([JPY, USD]))

    assert re.search(r"payout_sent .*-1,000\.00 0\.00 -1,000\.00", text)
    assert re.search(r"payout_returned .*7,000 0 7,000", text)
    assert "payout_sent:usd:3" in text  # the reference is the ledger cause


def test_section_totals_sum_the_entries() -> None:
    text = _text(_render([USD]))

    assert re.search(r"3 entries -926\.00 4\.50 -930\.50", text)


def test_a_long_statement_numbers_its_pages() -> None:
    many = _section(
        "usd", 0, [_entry(h, "usd", "payment_succeeded", 100 + h, 10, f"o{h}") for h in range(120)]
    )
    reader = PdfReader(io.BytesIO(_render([many])))
    pages = len(reader.pages)

    assert pages > 1
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {pages}" in page.extract_text()
    assert "120 entries" in _text(_render([many]))


def test_a_period_without_money_says_so() -> None:
    assert "No movements and no balance in this period." in _text(_render([]))


def test_the_same_statement_renders_to_the_same_bytes_dated_when_generated() -> None:
    first = _render([JPY, USD])
    later = GENERATED + timedelta(hours=1)

    assert _render([JPY, USD]) == first
    assert _render([JPY, USD], generated_at=later) != first
    metadata = PdfReader(io.BytesIO(first)).metadata
    assert metadata is not None
    assert metadata.creation_date == GENERATED


def test_a_name_outside_latin_1_still_renders() -> None:
    text = _text(_render([USD], name="Müller 東京"))

    assert "Organizer: Müller ?? (org-1)" in text


def test_an_order_id_stays_on_one_line() -> None:
    widest = "00000000-0000-0000-0000-000000000000"  # Helvetica's hex glyphs are no wider than 0
    section = _section("usd", 0, [_entry(1, "usd", "payment_succeeded", 100, 10, widest)])

    assert f"payment_succeeded {widest} " in _text(_render([section]))
