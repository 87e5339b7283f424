"""Stripe's own record of money movements: balance transactions, as reconciliation reads them.

A charge (`charge` / `payment`) is money in, its `source` the charge id (our payment's
`capture_id`) and its `fee` what Stripe kept; a refund (`refund` / `payment_refund`) is money
out, its `source` the refund id (our refund's provider id). Everything else on the balance
(payouts, transfers, Stripe's own fees, adjustments) is not matched against orders and is
skipped here. Pages are followed to the end: a reconciliation must see every movement.

Transfers to connected accounts (type `transfer`, reporting category `transfer`) and their
reversals (type `transfer_refund`, category `transfer_reversal`) are read apart
(`organizer_movements`), by type and with their `source` expanded, because matching a
destination charge's transfer needs the transfer's `source_transaction`, which neither the
balance transaction nor the report's CSV carries. They are few next to charges. With a
transfer made from a charge comes, as its fee, the application fee the platform took back from
that charge (balance transactions of type `application_fee`, read the same way).

A million balance transactions are 10,000 pages, so for bulk reading `report_rows` asks Stripe's
Reports API instead: a report run of `balance_change_from_activity.itemized.3` over the period
(`POST /v1/reporting/report_runs`, idempotent by its type and interval), polled until it has
succeeded, then its CSV file read from Stripe's files host as a stream
(`GET /v1/files/{id}/contents`), never whole in memory. A row's `reporting_category` is
`charge` for a charge and `refund` for a refund (the categories the API's `type` charge/payment
and refund/payment_refund fall in); its `gross` and `fee` are decimal major units, read exactly.
Rows come out as plain tuples (`MovementRow`), not `Movement`s: at a million rows the objects
cost seconds, and the comparison happens in the database (`services.reconciliation`).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from eventpay.domain import CURRENCY_EXPONENTS, Money, MoneyError
from eventpay.domain.reconciliation import Movement, MovementRow, row_of
from eventpay.providers.stripe_currency import StripeUnitsError, from_stripe
from eventpay.providers.stripe_errors import malformed

_PAYMENTS = frozenset({"charge", "payment"})
_REFUNDS = frozenset({"refund", "payment_refund"})


def _source(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def to_movement(transaction: Mapping[str, Any]) -> Movement | None:
    """One balance transaction as a movement; None for kinds reconciliation does not match."""
    kind = transaction.get("type")
    ref = _source(transaction.get("source"))
    if ref is None or kind not in _PAYMENTS | _REFUNDS:
        return None
    try:
        amount = from_stripe(transaction.get("amount"), transaction.get("currency"))
        fee = from_stripe(transaction.get("fee", 0), transaction.get("currency"))
    except StripeUnitsError as exc:
        raise malformed(f"balance transaction {transaction.get('id')}: {exc}") from None
    if kind in _PAYMENTS:
        return Movement(ref=ref, kind="payment", amount=amount, fee=fee)
    return Movement(ref=ref, kind="refund", amount=amount)


_TRANSFER_TYPES = {"transfer": "transfer", "transfer_refund": "transfer_reversal"}
_RELATED = {"transfer": "source_transaction", "transfer_reversal": "source_refund"}


def to_organizer_movement(transaction: Mapping[str, Any]) -> Movement | None:
    """A transfer to a connected account or a reversal of one, read with its `source`
    expanded: `related` is the transfer's source charge or the reversal's source refund (what
    names a destination charge's transfer, which we do not store); None for other kinds."""
    kind = _TRANSFER_TYPES.get(str(transaction.get("type")))
    source = transaction.get("source")
    ref = _source(source)
    if kind is None or ref is None:
        return None
    try:
        amount = from_stripe(transaction.get("amount"), transaction.get("currency"))
    except StripeUnitsError as exc:
        raise malformed(f"balance transaction {transaction.get('id')}: {exc}") from None
    related = _source(source.get(_RELATED[kind])) if isinstance(source, Mapping) else None
    return Movement(ref=ref, kind=kind, amount=amount, related=related)


def to_application_fee(transaction: Mapping[str, Any]) -> Movement | None:
    """An application fee the platform took back from a destination charge's transfer, with
    the platform's charge it came from as `related`: Stripe's `originating_transaction` (on
    a destination charge, `charge` names the connected account's payment), else `charge` (the
    sandbox gives the platform's charge there and no originating transaction)."""
    source = transaction.get("source")
    if transaction.get("type") != "application_fee" or not isinstance(source, Mapping):
        return None
    ref = _source(source)
    related = _source(source.get("originating_transaction")) or _source(source.get("charge"))
    if ref is None or related is None:
        return None
    try:
        amount = from_stripe(transaction.get("amount"), transaction.get("currency"))
    except StripeUnitsError as exc:
        raise malformed(f"balance transaction {transaction.get('id')}: {exc}") from None
    return Movement(ref=ref, kind="application_fee", amount=amount, related=related)


def organizer_movements(
    fetch: Callable[[dict[str, Any]], Mapping[str, Any]],
    *,
    since: datetime,
    until: datetime,
    page_size: int,
) -> Iterator[Movement]:
    """Every transfer and transfer reversal created in [since, until), by balance transaction
    type (`transfer`, `transfer_refund`), each with its source object expanded. A transfer
    made from a charge (`related`) carries as its `fee` the application fees the platform
    took back from that charge (`application_fee`, zero when none): what the platform kept of
    the money it moved."""

    def listed(
        txn_type: str, convert: Callable[[Mapping[str, Any]], Movement | None]
    ) -> Iterator[Movement]:
        return movements(
            fetch,
            since=since,
            until=until,
            page_size=page_size,
            extra={"type": txn_type, "expand": ["data.source"]},
            convert=convert,
        )

    transfers = list(listed("transfer", to_organizer_movement))
    reversals = list(listed("transfer_refund", to_organizer_movement))
    kept: dict[str, Money] = {}
    for fee in listed("application_fee", to_application_fee):
        assert fee.related is not None  # to_application_fee keeps only those
        before = kept.get(fee.related, Money(0, fee.amount.currency))
        kept[fee.related] = before + fee.amount
    for transfer in transfers:
        if transfer.related is None:
            yield transfer
        else:
            zero = Money(0, transfer.amount.currency)
            yield replace(transfer, fee=kept.get(transfer.related, zero))
    yield from reversals


def movements(
    fetch: Callable[[dict[str, Any]], Mapping[str, Any]],
    *,
    since: datetime,
    until: datetime,
    page_size: int,
    extra: Mapping[str, Any] | None = None,
    convert: Callable[[Mapping[str, Any]], Movement | None] = to_movement,
) -> Iterator[Movement]:
    """Every matched movement created in [since, until); `fetch` reads one page."""
    params: dict[str, Any] = {
        "created": {"gte": int(since.timestamp()), "lt": int(until.timestamp())},
        "limit": page_size,
        **(extra or {}),
    }
    while True:
        page = fetch(dict(params))
        data = page.get("data")
        if not isinstance(data, list):
            raise malformed("a list of balance transactions without its data")
        for item in data:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                raise malformed("a balance transaction without an id")
            movement = convert(item)
            if movement is not None:
                yield movement
        if not page.get("has_more"):
            return
        if not data:
            raise malformed("an empty page of balance transactions that has more")
        params["starting_after"] = data[-1]["id"]


REPORT_TYPE = "balance_change_from_activity.itemized.3"
REPORT_COLUMNS = ("reporting_category", "source_id", "currency", "gross", "fee")
_REPORT_KINDS = {"charge": "payment", "refund": "refund"}


_PLACES = dict(CURRENCY_EXPONENTS)  # a plain dict: read twice per row of a million


def _minor(value: str, currency: str) -> int:
    """A report's decimal major-unit amount in minor units, exactly (`12.50` usd: 1250)."""
    places = _PLACES.get(currency)
    if places is None:
        raise malformed(f"a report row in a currency we do not take: {currency!r}")
    dot = value.find(".")
    if places and dot > 0 and len(value) - dot - 1 == places:
        digits = value[:dot] + value[dot + 1 :]
    elif not places and dot < 0:
        digits = value
    else:
        digits = ""
    if digits.isascii() and (digits.isdigit() or (digits[:1] == "-" and digits[1:].isdigit())):
        return int(digits)
    try:
        return int(Money.from_decimal(Decimal(value), currency).amount)
    except (InvalidOperation, MoneyError):
        raise malformed(f"a report amount that is not one of {currency}: {value!r}") from None


def _batches(chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """The complete lines of each chunk, whatever the chunks cut."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        cut = rest.rfind(b"\n")
        if cut >= 0:
            yield rest[:cut].decode().split("\n")
            rest = rest[cut + 1 :]
    if rest:
        yield [rest.decode()]


def rows_of_report(chunks: Iterable[bytes]) -> Iterator[MovementRow]:
    """The charges and refunds of a report's CSV, read as it arrives."""
    batches = _batches(chunks)
    header: list[str] | None = None
    for batch in batches:
        reader = csv.reader(batch)
        if header is None:
            header = next(reader, None)
            if header is None:
                continue
            if any(c not in header for c in REPORT_COLUMNS):
                raise malformed(f"a balance report without the columns {', '.join(REPORT_COLUMNS)}")
            pick = itemgetter(*(header.index(c) for c in REPORT_COLUMNS))
        for row in reader:
            if not row:
                continue
            category, source, currency, gross, fee = pick(row)
            kind = _REPORT_KINDS.get(category)
            if kind is None or not source:
                continue
            currency = currency.lower()
            amount = _minor(gross, currency)
            yield (
                source,
                kind,
                currency,
                amount,
                _minor(fee, currency) if kind == "payment" else None,
            )
    if header is None:
        raise malformed(f"a balance report without the columns {', '.join(REPORT_COLUMNS)}")


def report_rows(
    *,
    available_until: Callable[[], int],
    create: Callable[[dict[str, Any], str], Mapping[str, Any]],
    retrieve: Callable[[str], Mapping[str, Any]],
    download: Callable[[str], Iterable[bytes]],
    paged: Callable[[datetime, datetime], Iterator[Movement]],
    since: datetime,
    until: datetime,
    poll_s: float = 0.05,
    timeout_s: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[MovementRow]:
    """Every charge and refund Stripe lists in [since, until): from a balance report up to the
    report type's `data_available_end` (`available_until()`; Stripe's reports lag by hours),
    and page by page (`paged`) after it.

    The report run is started here, at once (`create(params, idempotency_key)`), so that Stripe
    writes it while the caller does other work; the rows are read when iterated: `retrieve(id)`
    polls the run until it has succeeded, `download(file_id)` streams its file.
    """
    start, end = int(since.timestamp()), min(int(until.timestamp()), available_until())
    run = None
    if start < end:
        run = create(
            {
                "report_type": REPORT_TYPE,
                "parameters": {
                    "interval_start": start,
                    "interval_end": end,
                    "columns": list(REPORT_COLUMNS),
                },
            },
            f"eventpay-report-{REPORT_TYPE}-{start}-{end}",
        )
    return _rows(run, retrieve, download, paged, max(start, end), until, poll_s, timeout_s, sleep)


def _rows(
    run: Mapping[str, Any] | None,
    retrieve: Callable[[str], Mapping[str, Any]],
    download: Callable[[str], Iterable[bytes]],
    paged: Callable[[datetime, datetime], Iterator[Movement]],
    gap: int,
    until: datetime,
    poll_s: float,
    timeout_s: float,
    sleep: Callable[[float], None],
) -> Iterator[MovementRow]:
    if run is not None:
        waited, pause = 0.0, poll_s
        while run.get("status") == "pending":
            if waited >= timeout_s:
                raise malformed(f"report run {run.get('id')} still pending after {waited:.0f} s")
            sleep(pause)
            waited, pause = waited + pause, min(pause * 1.5, 2.0)
            run = retrieve(str(run.get("id")))
        result = run.get("result")
        if run.get("status") != "succeeded" or not isinstance(result, Mapping):
            status, error = run.get("status"), run.get("error")
            raise malformed(f"report run {run.get('id')} ended {status}: {error}")
        yield from rows_of_report(download(str(result.get("id"))))
    # Both read whole seconds: [start, int(until)), as `movements` does.
    if gap < int(until.timestamp()):
        yield from map(row_of, paged(datetime.fromtimestamp(gap, UTC), until))
