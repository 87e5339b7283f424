"""Transaction search: captures, refunds, payouts, subscription payments and invoices paid with
PayPal listed with PayPal's transaction_info shapes; payments the merchant records on an invoice
are not listed.

PayPal's Reporting API is not among the OpenAPI files in tests/fixtures, so the schema below is
written here from PayPal's documentation of GET /v1/reporting/transactions (the `search_response`,
`transaction_detail`, `transaction_info` and `money` definitions, patterns included), closed to
keys the documentation does not name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from billing_steps import active_subscription, sales
from jsonschema import Draft4Validator

PATH = "/v1/reporting/transactions"
_ID = {"type": "string", "minLength": 1, "maxLength": 24, "pattern": "^[a-zA-Z0-9]*$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 127}
_DATE = {
    "type": "string",
    "minLength": 20,
    "maxLength": 64,
    "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])[T,t]([0-1][0-9]|2[0-3]):"
    r"[0-5][0-9]:([0-5][0-9]|60)([.][0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$",
}
_MONEY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["currency_code", "value"],
    "properties": {
        "currency_code": {"type": "string", "minLength": 3, "maxLength": 3},
        "value": {
            "type": "string",
            "maxLength": 32,
            "pattern": r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$",
        },
    },
}
TRANSACTION_INFO = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "paypal_account_id": _ID,
        "transaction_id": _ID,
        "paypal_reference_id": _ID,
        "paypal_reference_id_type": {"enum": ["ODR", "TXN", "SUB", "PAP"]},
        "transaction_event_code": {"type": "string", "pattern": "^[a-zA-Z0-9]{1,5}$"},
        "transaction_initiation_date": _DATE,
        "transaction_updated_date": _DATE,
        "transaction_amount": _MONEY,
        "fee_amount": _MONEY,
        "transaction_status": {"type": "string", "pattern": "^[a-zA-Z0-9]$"},
        "invoice_id": _TEXT,
        "custom_field": _TEXT,
        "protection_eligibility": {"type": "string", "pattern": "^[a-zA-Z0-9]{1,2}$"},
    },
}
PAYER_INFO = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "account_id": {"type": "string", "pattern": "^[a-zA-Z0-9]{1,13}$"},
        "email_address": {"type": "string", "pattern": '^.+@[^"\\-].+$'},
        "payer_name": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"given_name": {"type": "string"}, "surname": {"type": "string"}},
        },
        "country_code": {"type": "string", "pattern": "^([A-Z]{2}|C2)$"},
    },
}
SEARCH_RESPONSE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "transaction_details": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"transaction_info": TRANSACTION_INFO, "payer_info": PAYER_INFO},
            },
        },
        "account_number": {"type": "string", "pattern": "^[a-zA-Z0-9]{1,255}$"},
        "start_date": _DATE,
        "end_date": _DATE,
        "last_refreshed_datetime": _DATE,
        "page": {"type": "integer", "minimum": 0},
        "total_items": {"type": "integer", "minimum": 0},
        "total_pages": {"type": "integer", "minimum": 0},
        "links": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["href", "rel"],
                "properties": {"href": {}, "rel": {}, "method": {"enum": ["GET"]}},
                "additionalProperties": False,
            },
        },
    },
}


def _day(offset_days: int) -> str:
    moment = datetime.now(UTC) + timedelta(days=offset_days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def search(paypal, **params: str) -> dict[str, Any]:
    query = {"start_date": _day(-1), "end_date": _day(1), **params}
    response = paypal.get(PATH, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    errors = [e.message for e in Draft4Validator(SEARCH_RESPONSE).iter_errors(body)]
    assert not errors, errors
    return body


def _payout(paypal, sender_batch_id: str, *receivers: str) -> dict[str, Any]:
    body = {
        "sender_batch_header": {"sender_batch_id": sender_batch_id},
        "items": [
            {
                "recipient_type": "EMAIL",
                "receiver": receiver,
                "amount": {"value": "40.00", "currency": "USD"},
                "sender_item_id": f"org-{index}",
            }
            for index, receiver in enumerate(receivers)
        ],
    }
    created = paypal.post("/v1/payments/payouts", json=body)
    assert created.status_code == 201, created.text
    batch_id = created.json()["batch_header"]["payout_batch_id"]
    processed: dict[str, Any] = paypal.http.post(f"/_sandbox/payouts/{batch_id}/process").json()
    return processed


def _by_code(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for detail in body["transaction_details"]:
        info = detail["transaction_info"]
        found.setdefault(info["transaction_event_code"], []).append(info)
    return found


def test_captures_refunds_and_payouts_are_listed_with_fees(paypal) -> None:
    capture = paypal.paid_capture("12.50")
    refund = paypal.post(
        f"/v2/payments/captures/{capture['id']}/refund",
        json={"amount": {"currency_code": "USD", "value": "5.00"}},
        headers={"Prefer": "return=representation"},
    ).json()
    batch = _payout(paypal, "report-1", "paid@example.com", "returned@example.com", "failed@x.org")

    body = search(paypal, fields="all")

    rows = _by_code(body)
    (sale,) = rows["T0006"]
    # 3.49 % of 12.50 (0.44, half up) plus the fixed 0.49, as the capture itself says.
    assert capture["seller_receivable_breakdown"]["paypal_fee"]["value"] == "0.93"
    assert sale["transaction_id"] == capture["id"]
    assert sale["transaction_amount"] == {"currency_code": "USD", "value": "12.50"}
    assert sale["fee_amount"] == {"currency_code": "USD", "value": "-0.93"}
    assert (sale["transaction_status"], sale["custom_field"]) == ("S", "order-42")
    (back,) = rows["T1107"]
    assert back["transaction_id"] == refund["id"]
    assert back["paypal_reference_id"] == capture["id"]
    assert back["transaction_amount"] == {"currency_code": "USD", "value": "-5.00"}
    fee_back = refund["seller_payable_breakdown"]["paypal_fee"]["value"]
    assert back["fee_amount"] == {"currency_code": "USD", "value": fee_back}
    items = {i["payout_item"]["receiver"]: i for i in batch["items"]}
    paid = {i["transaction_id"]: i for i in rows["T0001"]}
    assert set(paid) == {
        items[r]["transaction_id"] for r in ("paid@example.com", "returned@example.com")
    }
    success = paid[items["paid@example.com"]["transaction_id"]]
    assert success["transaction_amount"] == {"currency_code": "USD", "value": "-40.00"}
    assert success["fee_amount"] == {"currency_code": "USD", "value": "-0.80"}
    assert (success["transaction_status"], success["custom_field"]) == ("S", "org-0")
    assert paid[items["returned@example.com"]["transaction_id"]]["transaction_status"] == "V"
    (returned,) = rows["T1114"]
    assert returned["paypal_reference_id"] == items["returned@example.com"]["transaction_id"]
    assert returned["transaction_amount"] == {"currency_code": "USD", "value": "40.00"}
    assert returned["fee_amount"] == {"currency_code": "USD", "value": "0.80"}
    assert set(rows) == {"T0006", "T1107", "T0001", "T1114"}  # the FAILED item moved nothing
    assert body["total_items"] == 5
    assert all("payer_info" in d for d in body["transaction_details"])


def test_an_unclaimed_payout_is_pending_until_returned(paypal) -> None:
    batch = _payout(paypal, "report-2", "unclaimed@example.com")
    item = batch["items"][0]

    before = _by_code(search(paypal))
    paypal.http.post(f"/_sandbox/payouts-item/{item['payout_item_id']}/return").raise_for_status()
    after = _by_code(search(paypal))

    assert [r["transaction_status"] for r in before["T0001"]] == ["P"]
    assert "T1114" not in before
    assert [r["transaction_status"] for r in after["T0001"]] == ["V"]
    assert [r["paypal_reference_id"] for r in after["T1114"]] == [item["transaction_id"]]


def test_results_come_in_pages_with_next_links(paypal) -> None:
    for value in ("10.00", "11.00", "12.00"):
        paypal.paid_capture(value)

    first = search(paypal, page_size="2")
    second = search(paypal, page_size="2", page="2")

    assert (first["total_items"], first["total_pages"], first["page"]) == (3, 2, 1)
    assert len(first["transaction_details"]) == 2
    assert len(second["transaction_details"]) == 1
    next_link = next(link for link in first["links"] if link["rel"] == "next")
    assert "page=2" in next_link["href"]
    assert not any(link["rel"] == "next" for link in second["links"])
    assert (
        "payer_info" not in first["transaction_details"][0]
    )  # fields defaults to transaction_info


def test_filters_by_transaction_id_and_date(paypal) -> None:
    wanted = paypal.paid_capture("10.00")
    paypal.paid_capture("20.00")

    one = search(paypal, transaction_id=wanted["id"])
    old = search(paypal, start_date="2020-01-01T00:00:00Z", end_date="2020-01-31T00:00:00Z")

    assert [d["transaction_info"]["transaction_id"] for d in one["transaction_details"]] == [
        wanted["id"]
    ]
    assert (old["transaction_details"], old["total_items"], old["total_pages"]) == ([], 0, 0)


def test_bad_searches_are_invalid_requests(paypal) -> None:
    missing = paypal.get(PATH, params={"end_date": _day(0)})
    too_long = paypal.get(PATH, params={"start_date": _day(-40), "end_date": _day(0)})
    backwards = paypal.get(PATH, params={"start_date": _day(0), "end_date": _day(-1)})
    big_page = paypal.get(
        PATH, params={"start_date": _day(-1), "end_date": _day(0), "page_size": "501"}
    )
    no_seconds = paypal.get(PATH, params={"start_date": "2024-01-01T00:00Z", "end_date": _day(0)})

    for response in (missing, too_long, backwards, big_page, no_seconds):
        assert response.status_code == 400, response.text
        assert response.json()["name"] == "INVALID_REQUEST"
        assert response.json()["details"][0]["location"] == "query"
    assert missing.json()["details"][0]["issue"] == "MISSING_REQUIRED_PARAMETER"
    assert too_long.json()["details"][0]["field"] == "start_date"
    assert big_page.json()["details"][0]["field"] == "page_size"
    assert no_seconds.json()["details"][0]["issue"] == "INVALID_PARAMETER_SYNTAX"


def _sent_invoice(paypal, number: str, value: str) -> dict[str, Any]:
    body = {
        "detail": {"invoice_number": number, "currency_code": "USD"},
        "primary_recipients": [{"billing_info": {"email_address": "sponsor@example.com"}}],
        "items": [
            {
                "name": "Booth",
                "quantity": "1",
                "unit_amount": {"currency_code": "USD", "value": value},
            }
        ],
        "configuration": {"partial_payment": {"allow_partial_payment": True}},
    }
    created = paypal.post("/v2/invoicing/invoices", json=body)
    assert created.status_code == 201, created.text
    invoice: dict[str, Any] = created.json()
    sent = paypal.post(f"/v2/invoicing/invoices/{invoice['id']}/send", json={})
    assert sent.status_code == 200, sent.text
    return invoice


def test_invoice_payments_with_paypal_are_listed_and_recorded_ones_are_not(paypal) -> None:
    invoice = _sent_invoice(paypal, "SPONSOR-R1", "200.00")
    url = f"/v2/invoicing/invoices/{invoice['id']}"
    part = {"amount": {"currency_code": "USD", "value": "150.00"}}
    paid = paypal.http.post(f"/_sandbox/invoices/{invoice['id']}/recipient-payments", json=part)
    assert paid.status_code == 200, paid.text
    cash = paypal.post(
        f"{url}/payments",
        json={"method": "CASH", "amount": {"currency_code": "USD", "value": "50.00"}},
    )
    assert cash.status_code == 200, cash.text
    shown = paypal.get(url).json()

    body = search(paypal, fields="all")

    by_type = {t["type"]: t for t in shown["payments"]["transactions"]}
    assert shown["status"] == "MARKED_AS_PAID"
    assert cash.json()["payment_id"] == by_type["EXTERNAL"]["payment_id"]
    (row,) = [d["transaction_info"] for d in body["transaction_details"]]
    assert row["transaction_id"] == by_type["PAYPAL"]["payment_id"]
    assert row["transaction_event_code"] == "T0000"
    assert row["transaction_amount"] == {"currency_code": "USD", "value": "150.00"}
    # 3.49 % of 150.00 (5.235, half up: 5.24) plus the fixed 0.49, as a capture's.
    assert row["fee_amount"] == {"currency_code": "USD", "value": "-5.73"}
    assert (row["transaction_status"], row["invoice_id"]) == ("S", "SPONSOR-R1")
    by_id = search(paypal, transaction_id=by_type["PAYPAL"]["payment_id"])
    assert by_id["total_items"] == 1
    assert search(paypal, transaction_id=cash.json()["payment_id"])["total_items"] == 0
    assert search(paypal, transaction_type="T0000")["total_items"] == 1


def test_subscription_payments_are_listed_under_their_sale(paypal) -> None:
    _, sid = active_subscription(paypal)
    (sale,) = sales(paypal, sid)

    (row,) = [d["transaction_info"] for d in search(paypal)["transaction_details"]]

    assert row["transaction_id"] == sale["id"]
    assert (row["transaction_event_code"], row["transaction_status"]) == ("T0002", "S")
    gross, fee = sale["amount"], sale["transaction_fee"]
    assert row["transaction_amount"] == {
        "currency_code": gross["currency"],
        "value": gross["total"],
    }
    assert row["fee_amount"] == {"currency_code": fee["currency"], "value": f"-{fee['value']}"}
