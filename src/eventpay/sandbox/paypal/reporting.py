"""Transaction Search v1: `GET /v1/reporting/transactions`, the money this sandbox moved.

PayPal's Reporting API is not among the OpenAPI specifications in tests/fixtures; this follows
PayPal's documentation of the operation (developer.paypal.com/docs/api/transaction-search/v1/
and the transaction event code table). Query: `start_date` and `end_date` (required, RFC 3339
with seconds, at most 31 days apart), `transaction_id`, `transaction_type` (a T-code),
`transaction_status` (S, P, D, V), `fields` (`transaction_info` by default; `all` adds
`payer_info`), `page_size` (1-500, default 100) and `page` (from 1). Answer: `{transaction_details:
[{transaction_info, payer_info?}], account_number, start_date, end_date, last_refreshed_datetime,
page, total_items, total_pages, links}`. Amounts are signed from the merchant's side:

    what                         T-code  transaction_amount  fee_amount   status
    capture (COMPLETED/PENDING)  T0006   + gross             - PayPal fee S, P; V once fully
                                                                          refunded
    refund                       T1107   - refund            + fee back   S
    invoice paid with PayPal     T0000   + payment           - PayPal fee S
      by its recipient
    subscription payment (sale)  T0002   + sale amount       - PayPal fee S
    payout item with money       T0001   - item amount       - item fee   S (SUCCESS),
      (SUCCESS, UNCLAIMED,                                                P (UNCLAIMED),
      RETURNED)                                                           V (RETURNED)
    returned payout item         T1114   + item amount       + item fee   S

An invoice payment is listed under the PayPal transaction id the invoice names
(`payments.transactions[].payment_id`), with the invoice's number as `invoice_id`; its fee is
a capture's (money.checkout_fee), as PayPal charges invoices at its checkout rate. A payment the
merchant records (cash, cheque: type EXTERNAL) never went through PayPal and is not listed.
Declined captures and FAILED or BLOCKED payout items moved no money and are not listed. Unlike
PayPal (up to three hours), transactions are listed as soon as they happen. A date is the
transaction's initiation date. Rows are built from the store on each request; no state here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlencode

from . import accounts, identifiers, money
from .errors import InvalidRequest, Issue, link
from .gateway import Call, Reply
from .records import JSON
from .store import Store

PATH = "/v1/reporting/transactions"
MAX_RANGE = timedelta(days=31)
MAX_PAGE_SIZE = 500
_DATE = re.compile(
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])[T,t]([0-1][0-9]|2[0-3]):[0-5][0-9]:"
    r"([0-5][0-9]|60)([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_CAPTURE_STATUS = {"COMPLETED": "S", "PARTIALLY_REFUNDED": "S", "REFUNDED": "V", "PENDING": "P"}
_PAYOUT_STATUS = {"SUCCESS": "S", "UNCLAIMED": "P", "RETURNED": "V"}
# The event code table has no code of its own for Invoicing: "T0000 General: received payment
# of a type not belonging to the other T00nn categories".
INVOICE_PAYMENT = "T0000"


def _query_error(issue: str, field: str, value: str | None, description: str) -> InvalidRequest:
    return InvalidRequest(
        Issue(issue, field=field, value=value, location="query", description=description)
    )


def _date(call: Call, name: str) -> datetime:
    raw = call.query.get(name)
    if raw is None:
        raise _query_error("MISSING_REQUIRED_PARAMETER", name, None, f"{name} is required.")
    if not _DATE.match(raw):
        raise _query_error(
            "INVALID_PARAMETER_SYNTAX", name, raw, "Use RFC 3339 date and time with seconds."
        )
    return datetime.fromisoformat(raw.upper().replace(",", "T"))


def _number(call: Call, name: str, default: int, high: int) -> int:
    raw = call.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise _query_error(
            "INVALID_PARAMETER_VALUE", name, raw, f"{name} must be between 1 and {high}."
        )
    return int(raw)


def _signed(minor: int, currency: str, sign: int) -> JSON:
    return money.amount(sign * minor, currency)


def _payer() -> JSON:
    return {
        "account_id": accounts.BUYER_PAYER_ID,
        "email_address": accounts.BUYER_EMAIL,
        "payer_name": {"given_name": accounts.BUYER_GIVEN_NAME, "surname": accounts.BUYER_SURNAME},
        "country_code": accounts.BUYER_COUNTRY,
    }


def _rows(store: Store) -> Iterator[tuple[JSON, JSON]]:
    """(transaction_info, payer_info) for every transaction that moved money, oldest first."""
    for record in store.state.captures.values():
        capture = record.capture
        status = _CAPTURE_STATUS.get(capture["status"])
        if status is None:
            continue
        info: JSON = {
            "paypal_account_id": accounts.BUYER_PAYER_ID,
            "transaction_id": capture["id"],
            "paypal_reference_id": record.order_id,
            "paypal_reference_id_type": "ODR",
            "transaction_event_code": "T0006",
            "transaction_initiation_date": capture["create_time"],
            "transaction_updated_date": capture["update_time"],
            "transaction_amount": _signed(record.amount_minor, record.currency, 1),
        }
        breakdown = capture.get("seller_receivable_breakdown")
        if breakdown is not None:
            fee = money.parse(breakdown["paypal_fee"]["value"], record.currency)
            info["fee_amount"] = _signed(fee, record.currency, -1)
        info["transaction_status"] = status
        _copy_texts(capture, info)
        info["protection_eligibility"] = "01"
        yield info, _payer()
        for refund_id in record.refund_ids:
            yield _refund_row(store, refund_id, record.currency), _payer()
    for payment_id, paid in store.state.invoice_payments.items():
        yield _invoice_payment_row(store, payment_id, paid), _payer()
    for sale in store.state.sales.values():
        yield _sale_row(sale), _payer()
    for item_id, item in store.state.payout_items.items():
        yield from _payout_rows(store, item_id, item)


def _invoice_payment_row(store: Store, payment_id: str, paid: JSON) -> JSON:
    """An invoice's recipient paid with PayPal: the payment is listed under its `payment_id`
    (the invoice's `payments.transactions[].payment_id`), with the invoice's number."""
    invoice = store.invoice(paid["invoice_id"])
    (entry,) = [t for t in invoice["payments"]["transactions"] if t["payment_id"] == payment_id]
    currency = entry["amount"]["currency_code"]
    return {
        "paypal_account_id": accounts.BUYER_PAYER_ID,
        "transaction_id": payment_id,
        "transaction_event_code": INVOICE_PAYMENT,
        "transaction_initiation_date": paid["time"],
        "transaction_updated_date": paid["time"],
        "transaction_amount": _signed(money.parse(entry["amount"]["value"], currency), currency, 1),
        "fee_amount": _signed(paid["fee"], currency, -1),
        "transaction_status": "S",
        "invoice_id": invoice["detail"]["invoice_number"],
    }


def _sale_row(sale: JSON) -> JSON:
    """A subscription's payment (a completed v1 sale), under its sale id; its subscription's
    `I-...` id does not fit the documented `paypal_reference_id` pattern, so it is not given."""
    currency = sale["amount"]["currency"]
    gross = money.parse(sale["amount"]["total"], currency)
    fee = money.parse(sale["transaction_fee"]["value"], currency)
    info: JSON = {
        "paypal_account_id": accounts.BUYER_PAYER_ID,
        "transaction_id": sale["id"],
        "transaction_event_code": "T0002",
        "transaction_initiation_date": sale["create_time"],
        "transaction_updated_date": sale["update_time"],
        "transaction_amount": _signed(gross, currency, 1),
        "fee_amount": _signed(fee, currency, -1),
        "transaction_status": "S",
    }
    if "custom" in sale:
        info["custom_field"] = sale["custom"]
    return info


def _refund_row(store: Store, refund_id: str, currency: str) -> JSON:
    refund_record = store.state.refunds[refund_id]
    refund = refund_record.refund
    gross = money.parse(refund["amount"]["value"], currency)
    fee_back = money.parse(refund["seller_payable_breakdown"]["paypal_fee"]["value"], currency)
    info: JSON = {
        "paypal_account_id": accounts.BUYER_PAYER_ID,
        "transaction_id": refund["id"],
        "paypal_reference_id": refund_record.capture_id,
        "paypal_reference_id_type": "TXN",
        "transaction_event_code": "T1107",
        "transaction_initiation_date": refund["create_time"],
        "transaction_updated_date": refund["update_time"],
        "transaction_amount": _signed(gross, currency, -1),
        "fee_amount": _signed(fee_back, currency, 1),
        "transaction_status": "S",
    }
    _copy_texts(refund, info)
    return info


def _copy_texts(source: JSON, info: JSON) -> None:
    if "invoice_id" in source:
        info["invoice_id"] = source["invoice_id"]
    if "custom_id" in source:
        info["custom_field"] = source["custom_id"]


def _payout_rows(store: Store, item_id: str, item: JSON) -> Iterator[tuple[JSON, JSON]]:
    status = _PAYOUT_STATUS.get(item["transaction_status"])
    if status is None or "transaction_id" not in item:
        return
    detail = item["payout_item"]
    currency = detail["amount"]["currency"]
    gross = money.parse(detail["amount"]["value"], currency)
    fee = money.parse(item["payout_item_fee"]["value"], currency)
    started = store.batch(item["payout_batch_id"]).header["time_created"]
    payer: JSON = {"email_address": detail["receiver"]} if "@" in detail["receiver"] else {}
    info: JSON = {
        "transaction_id": item["transaction_id"],
        "transaction_event_code": "T0001",
        "transaction_initiation_date": started,
        "transaction_updated_date": item.get("time_processed", started),
        "transaction_amount": _signed(gross, currency, -1),
        "fee_amount": _signed(fee, currency, -1),
        "transaction_status": status,
    }
    if "sender_item_id" in detail:
        info["custom_field"] = detail["sender_item_id"]
    yield info, payer
    returned = store.state.payout_returns.get(item_id)
    if returned is not None:
        back: JSON = {
            "transaction_id": returned["transaction_id"],
            "paypal_reference_id": item["transaction_id"],
            "paypal_reference_id_type": "TXN",
            "transaction_event_code": "T1114",
            "transaction_initiation_date": returned["time"],
            "transaction_updated_date": returned["time"],
            "transaction_amount": _signed(gross, currency, 1),
            "fee_amount": _signed(fee, currency, 1),
            "transaction_status": "S",
        }
        if "custom_field" in info:
            back["custom_field"] = info["custom_field"]
        yield back, payer


def _wanted(info: JSON, call: Call, start: datetime, end: datetime) -> bool:
    when = datetime.fromisoformat(info["transaction_initiation_date"])
    if not start <= when <= end:
        return False
    filters = {
        "transaction_id": info["transaction_id"],
        "transaction_type": info["transaction_event_code"],
        "transaction_status": info["transaction_status"],
    }
    return all(call.query.get(name) in (None, value) for name, value in filters.items())


def search(store: Store, call: Call) -> Reply:
    start, end = _date(call, "start_date"), _date(call, "end_date")
    if end < start:
        raise _query_error(
            "INVALID_PARAMETER_VALUE",
            "end_date",
            call.query["end_date"],
            "end_date is before start_date.",
        )
    if end - start > MAX_RANGE:
        raise _query_error(
            "INVALID_PARAMETER_VALUE",
            "start_date",
            call.query["start_date"],
            "The maximum supported range is 31 days.",
        )
    page_size = _number(call, "page_size", 100, MAX_PAGE_SIZE)
    page = _number(call, "page", 1, 2**31 - 1)
    fields = {f.strip() for f in call.query.get("fields", "transaction_info").split(",")}
    with_payer = "all" in fields or "payer_info" in fields
    found = [(info, payer) for info, payer in _rows(store) if _wanted(info, call, start, end)]
    found.sort(key=lambda row: datetime.fromisoformat(row[0]["transaction_initiation_date"]))
    shown = found[(page - 1) * page_size : page * page_size]
    details = [
        {"transaction_info": info, **({"payer_info": payer} if with_payer else {})}
        for info, payer in shown
    ]
    total_pages = math.ceil(len(found) / page_size)
    return Reply(
        200,
        {
            "transaction_details": details,
            "account_number": accounts.MERCHANT_ID,
            "start_date": call.query["start_date"],
            "end_date": call.query["end_date"],
            "last_refreshed_datetime": identifiers.timestamp(),
            "page": page,
            "total_items": len(found),
            "total_pages": total_pages,
            "links": _links(call, page, total_pages),
        },
    )


def _links(call: Call, page: int, total_pages: int) -> list[JSON]:
    def at(number: int) -> str:
        return f"{call.base_url}{PATH}?{urlencode({**call.query, 'page': str(number)})}"

    links = [link(at(page), "self")]
    if page < total_pages:
        links.append(link(at(page + 1), "next"))
    if total_pages:
        links.append(link(at(total_pages), "last"))
    return links
