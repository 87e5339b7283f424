"""PayPal Transaction Search: what PayPal says moved through our account, for reconciliation.

The Reporting API is not among PayPal's OpenAPI specifications kept in tests/fixtures; this
module follows PayPal's documentation of `GET /v1/reporting/transactions`
(developer.paypal.com/docs/api/transaction-search/v1/) and its transaction event code table
(developer.paypal.com/docs/transaction-search/transaction-event-codes/). Rules used:

- `start_date` and `end_date` are RFC 3339 with seconds and at most 31 days apart, so a longer
  period is asked for in consecutive windows of 31 days that meet without overlapping (PayPal's
  dates are whole seconds: window n ends one second before window n+1 starts).
- `page` counts from 1, `page_size` is at most 500; pages are read until `total_pages`.
- `fields=all` asks for every section; only `transaction_info` is read here.
- Amounts are signed from our side: a capture is `+gross` with `fee -x`, a refund `-amount` with
  the fee PayPal gives back `+y`, a payout `-amount` with `-fee`. They are kept signed.
- `transaction_status`: S success, P pending, D denied, V reversed (fully refunded or returned).

    T-code               kind
    T0001                PAYOUT (Payouts are PayPal's "Mass Payments")
    T0000, T0002-T0099   PAYMENT (T0006: PayPal Checkout; T0000, a payment of no other
                         T00nn category: an invoice paid with PayPal, listed under the
                         invoice's `payments.transactions[].payment_id`, `invoice_id` its number)
    T1107                REFUND ("payment refund, initiated by merchant")
    T1114, T1115         PAYOUT_RETURN (Mass Payment reversal / refund: money coming back)
    anything else        OTHER (fees, holds, chargebacks: `event_code` says which)

PayPal notes that a transaction may take up to three hours to be listed, and that one id may
be listed twice (balance affecting and not). A payment the merchant records on an invoice
(cash, cheque: `EXTR-...`) never went through PayPal and is not listed. The rows are returned
as PayPal gives them; the reconciliation decides what they mean. Read-only: nothing here
changes anything at PayPal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from eventpay.domain import Money
from eventpay.domain.reconciliation import Movement, return_ref
from eventpay.providers.paypal_http import PayPalApi, reading
from eventpay.providers.paypal_money import from_paypal

__all__ = [
    "MAX_WINDOW",
    "REPORTING_PATH",
    "PayPalReporting",
    "ReportedTransaction",
    "TransactionKind",
    "kind_of",
    "transaction_from",
    "windows",
]

REPORTING_PATH = "/v1/reporting/transactions"
MAX_WINDOW = timedelta(days=31)
MAX_PAGE_SIZE = 500
_MAX_PAGES = 100_000  # a guard against an answer whose page count never ends


class TransactionKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    PAYOUT = "payout"
    PAYOUT_RETURN = "payout_return"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ReportedTransaction:
    transaction_id: str
    kind: TransactionKind
    event_code: str  # PayPal's T-code
    amount: Money  # signed: + into our balance, - out of it
    fee: Money  # signed likewise; zero when PayPal lists no fee
    status: str  # S, P, D or V
    time: datetime  # when the transaction began (aware)
    reference_id: str | None = None  # the related transaction or order
    custom_field: str | None = None  # our id: custom_id of a capture, sender_item_id of a payout
    invoice_id: str | None = None


def kind_of(event_code: str) -> TransactionKind:
    code = event_code.upper()
    if code == "T0001":
        return TransactionKind.PAYOUT
    if code.startswith("T00"):
        return TransactionKind.PAYMENT
    if code == "T1107":
        return TransactionKind.REFUND
    if code in ("T1114", "T1115"):
        return TransactionKind.PAYOUT_RETURN
    return TransactionKind.OTHER


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def transaction_from(info: Mapping[str, Any]) -> ReportedTransaction:
    """One `transaction_info`; ValueError (or KeyError) when it lacks what reconciliation needs."""
    amount = from_paypal(info["transaction_amount"])
    fee_amount = info.get("fee_amount")
    fee = from_paypal(fee_amount) if isinstance(fee_amount, Mapping) else Money(0, amount.currency)
    when = datetime.fromisoformat(str(info["transaction_initiation_date"]))
    if when.tzinfo is None:
        raise ValueError("a transaction date without its offset")
    code = str(info["transaction_event_code"])
    return ReportedTransaction(
        transaction_id=str(info["transaction_id"]),
        kind=kind_of(code),
        event_code=code,
        amount=amount,
        fee=fee,
        status=str(info.get("transaction_status") or "P"),
        time=when,
        reference_id=_text(info.get("paypal_reference_id")),
        custom_field=_text(info.get("custom_field")),
        invoice_id=_text(info.get("invoice_id")),
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] cut into windows PayPal accepts, meeting without overlap (whole seconds)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("transaction search needs aware datetimes")
    begin = start.astimezone(UTC).replace(microsecond=0)
    end = end.astimezone(UTC).replace(microsecond=0)
    while begin <= end:
        until = min(begin + MAX_WINDOW, end)
        yield begin, until
        begin = until + timedelta(seconds=1)


class PayPalReporting:
    """Transaction search, page by page and window by window."""

    def __init__(self, api: PayPalApi, *, page_size: int = MAX_PAGE_SIZE) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"PayPal's page size is 1 to {MAX_PAGE_SIZE}")
        self._api = api
        self._page_size = page_size

    def transactions(
        self, *, start: datetime, end: datetime, transaction_id: str | None = None
    ) -> Iterator[ReportedTransaction]:
        """Every transaction PayPal lists that began in [start, end], oldest window first."""
        for since, until in windows(start, end):
            yield from self._window(since, until, transaction_id)

    def _window(
        self, since: datetime, until: datetime, transaction_id: str | None
    ) -> Iterator[ReportedTransaction]:
        params = {
            "start_date": _rfc3339(since),
            "end_date": _rfc3339(until),
            "fields": "all",
            "page_size": str(self._page_size),
        }
        if transaction_id is not None:
            params["transaction_id"] = transaction_id
        for page in range(1, _MAX_PAGES + 1):
            answer = self._api.call("GET", REPORTING_PATH, params={**params, "page": str(page)})
            with reading("transaction search"):
                details = answer.get("transaction_details") or []
                found = [transaction_from(d["transaction_info"]) for d in details]
                total_pages = int(answer.get("total_pages") or 0)
            yield from found
            if page >= total_pages or not found:
                return


def to_movement(transaction: ReportedTransaction) -> Movement | None:
    """A listed payment received (a capture, an invoice paid with PayPal) or refund as
    reconciliation matches it; None for anything else.

    Payments count once they moved money (S, or V: reversed later by refunds, which are
    listed on their own); the fee PayPal lists is negative from our side, so it is turned
    into what PayPal kept. A pending, denied or other transaction moved no money of ours.
    """
    if transaction.kind is TransactionKind.PAYMENT and transaction.status in ("S", "V"):
        return Movement(
            ref=transaction.transaction_id,
            kind="payment",
            amount=transaction.amount,
            fee=-transaction.fee,
        )
    if transaction.kind is TransactionKind.REFUND and transaction.status == "S":
        return Movement(ref=transaction.transaction_id, kind="refund", amount=transaction.amount)
    return None


def to_organizer_movement(transaction: ReportedTransaction) -> Movement | None:
    """A listed payout item or payout return as reconciliation matches it; None otherwise.

    A payout item counts once its money left (S: paid, P: unclaimed, V: returned later, the
    return being listed on its own); its fee is negative from our side, turned into what
    PayPal charged. A return (S) is keyed by the payout it returns (`return_ref` of its
    `paypal_reference_id`): that is all we know of it. Its fee (given back) is not compared.
    """
    if transaction.kind is TransactionKind.PAYOUT and transaction.status in ("S", "P", "V"):
        return Movement(
            ref=transaction.transaction_id,
            kind="payout",
            amount=transaction.amount,
            fee=-transaction.fee,
        )
    if (
        transaction.kind is TransactionKind.PAYOUT_RETURN
        and transaction.status == "S"
        and transaction.reference_id is not None
    ):
        return Movement(
            ref=return_ref(transaction.reference_id),
            kind="payout_return",
            amount=transaction.amount,
            related=transaction.transaction_id,
        )
    return None
