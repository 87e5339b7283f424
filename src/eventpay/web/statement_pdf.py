"""An organizer's statement as a PDF document: presentation only, drawn with fpdf2.

What lives here: the layout (heading, one section per currency with its opening balance, a table
of entries and the closing balance, page numbers) and how figures are printed: major units with
the currency's ISO 4217 exponent from `domain.money` (no decimals for jpy), thousands grouped.

What must not: any figure that `services.organizer_money.statement` did not produce, except the
`gross` column, which is the entry's payable change plus the platform fee it moved (what the
movement was worth to the organizer before the platform's share), and the per-section sums.
Entry kinds are printed as the ledger names them (as in the CSV and JSON), so a new kind
(payouts, holds) needs no change here. The output depends only on the arguments: the
generation time is passed in and is also the document's creation date, so two renders of the
same statement are the same bytes.

fpdf2's built-in Helvetica covers Latin-1 only; other characters in an organizer's name print as
"?" rather than failing the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from fpdf import FPDF, FontFace

from eventpay.domain import Money
from eventpay.domain.ledger import StatementEntry
from eventpay.services.organizer_money import CurrencyStatement
from eventpay.services.payable import HeldNow

__all__ = ["format_amount", "statement_pdf"]

_FONT = "Helvetica"
_COLUMNS = ("Date (UTC)", "Kind", "Order", "Reference", "Gross", "Platform fee", "Payable change")
_WIDTHS = (27, 32, 60, 86, 24, 24, 24)  # mm; A4 landscape less 10 mm margins is 277 mm
_ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")


def format_amount(amount: int, currency: str) -> str:
    """Minor units as major units with the currency's exponent: 123456 usd is "1,234.56",
    123456 jpy is "123,456"."""
    return format(Money(amount, currency).to_decimal(), ",f")


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _when(at: datetime) -> str:
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


class _Document(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, size=7)
        self.cell(0, 5, self._footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def statement_pdf(
    *,
    organizer_id: str,
    organizer_name: str,
    since: datetime,
    until: datetime,
    sections: Sequence[CurrencyStatement],
    generated_at: datetime,
    held: HeldNow | None = None,
) -> bytes:
    """The statement for [since, until) as PDF bytes, one section per currency."""
    generated = _when(generated_at)
    pdf = _Document(_latin1(f"{organizer_name} ({organizer_id}) - generated {generated} UTC"))
    pdf.set_creation_date(generated_at.astimezone(UTC))
    pdf.set_title(_latin1(f"Statement {organizer_id} {_when(since)} to {_when(until)}"))
    pdf.set_author("eventpay")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()

    pdf.set_font(_FONT, style="B", size=15)
    pdf.cell(0, 8, "Organizer statement", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    for line in (
        f"Organizer: {organizer_name} ({organizer_id})",
        f"Period: {_when(since)} to {_when(until)} UTC (end excluded)",
        f"Generated: {generated} UTC",
    ):
        pdf.cell(0, 5.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    if not sections:
        pdf.ln(4)
        pdf.cell(0, 6, "No movements and no balance in this period.", new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        _section(pdf, section)
    if held is not None:
        _held(pdf, held, generated)
    return bytes(pdf.output())


def _held(pdf: FPDF, held: HeldNow, generated: str) -> None:
    """What holds the organizer's money back at the time the statement was made."""
    pdf.ln(5)
    pdf.set_font(_FONT, style="B", size=12)
    pdf.cell(0, 7, f"Held at {generated} UTC", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    lines = []
    if held.admin_hold_reason is not None:
        lines.append(f"All payouts held by an admin: {held.admin_hold_reason}")
    for r in held.reserves:
        amount = format_amount(r.amount.amount, r.amount.currency)
        lines.append(
            f"{amount} {r.amount.currency.upper()} of {r.event_name} ({r.event_id}) "
            f"held until {_when(r.until)} UTC"
        )
    for p in held.positions:
        code = p.currency.upper()
        lines.append(
            f"{code}: available {format_amount(p.available.amount, p.currency)}, "
            f"held {format_amount(p.held.amount, p.currency)}, "
            f"on its way {format_amount(p.pending.amount, p.currency)}"
        )
    for line in lines or ["Nothing is held."]:
        pdf.cell(0, 5.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")


def _section(pdf: FPDF, section: CurrencyStatement) -> None:
    code = section.currency.upper()
    pdf.ln(5)
    pdf.set_font(_FONT, style="B", size=12)
    pdf.cell(0, 7, code, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    opening = format_amount(section.opening.amount, section.currency)
    pdf.cell(0, 6, f"Opening balance: {opening} {code}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=8)
    with pdf.table(
        col_widths=_WIDTHS,
        text_align=_ALIGN,
        width=sum(_WIDTHS),
        align="LEFT",
        line_height=4.5,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
    ) as table:
        table.row(_COLUMNS)
        for entry in section.entries:
            table.row(_entry_cells(entry))
        totals = table.row()
        count = len(section.entries)
        totals.cell(f"{count} entry" if count == 1 else f"{count} entries", colspan=4)
        for total in _totals(section.entries):
            totals.cell(format_amount(total, section.currency))
    pdf.set_font(_FONT, style="B", size=10)
    closing = format_amount(section.closing.amount, section.currency)
    pdf.ln(2)
    pdf.cell(0, 6, f"Closing balance: {closing} {code}", new_x="LMARGIN", new_y="NEXT")


def _entry_cells(entry: StatementEntry) -> tuple[str, ...]:
    return (
        _when(entry.at),
        entry.kind,
        entry.order_id or "",
        _latin1(entry.cause),
        format_amount(entry.payable + entry.platform_fee, entry.currency),
        format_amount(entry.platform_fee, entry.currency),
        format_amount(entry.payable, entry.currency),
    )


def _totals(entries: Sequence[StatementEntry]) -> tuple[int, int, int]:
    fees = sum(e.platform_fee for e in entries)
    payable = sum(e.payable for e in entries)
    return payable + fees, fees, payable
