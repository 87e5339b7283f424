"""Invoices paid by their recipient (in part, then in full), payments the merchant records,
due dates from payment terms, and the search that lists overdue invoices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from support.paypal_openapi import validate_request, validate_response, validate_schema

INVOICING = "invoicing_v2"
CREATE = "/v2/invoicing/invoices"
ONE = "/v2/invoicing/invoices/{invoice_id}"
PAYMENTS = "/v2/invoicing/invoices/{invoice_id}/payments"
SEARCH = "/v2/invoicing/search-invoices"


def _today() -> datetime:
    return datetime.now(UTC)


def _body(
    number: str, *, partial: bool = False, invoice_date: str | None = None, term: str = "NET_30"
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "invoice_number": number,
        "currency_code": "USD",
        "payment_term": {"term_type": term},
    }
    if invoice_date is not None:
        detail["invoice_date"] = invoice_date
    body: dict[str, Any] = {
        "detail": detail,
        "primary_recipients": [{"billing_info": {"email_address": "sponsor@example.com"}}],
        "items": [
            {
                "name": "Title sponsorship",
                "quantity": "1",
                "unit_amount": {"currency_code": "USD", "value": "230.00"},
            }
        ],
    }
    if partial:
        body["configuration"] = {
            "partial_payment": {
                "allow_partial_payment": True,
                "minimum_amount_due": {"currency_code": "USD", "value": "50.00"},
            }
        }
    return body


def _sent(paypal, body: dict[str, Any]) -> dict[str, Any]:
    validate_request(INVOICING, CREATE, "POST", body)
    created = paypal.post(CREATE, json=body)
    assert created.status_code == 201, created.text
    invoice_id = created.json()["id"]
    sent = paypal.post(f"{CREATE}/{invoice_id}/send", json={"send_to_recipient": True})
    assert sent.status_code == 200, sent.text
    return _show(paypal, invoice_id)


def _show(paypal, invoice_id: str) -> dict[str, Any]:
    response = paypal.get(f"{CREATE}/{invoice_id}")
    assert response.status_code == 200, response.text
    validate_response(INVOICING, ONE, "GET", 200, response.json())
    shown: dict[str, Any] = response.json()
    return shown


def _paid_events(paypal, invoice_id: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in reversed(paypal.events("INVOICING.INVOICE.PAID"))
        if e["resource"]["id"] == invoice_id
    ]


def test_recipient_pays_part_on_the_payer_page_then_the_rest(paypal) -> None:
    invoice = _sent(paypal, _body("SPONSOR-1", partial=True))
    page_path = urlsplit(invoice["detail"]["metadata"]["recipient_view_url"]).path

    page = paypal.http.get(page_path)
    paid_part = paypal.http.post(
        f"{page_path}/pay", data={"amount": "100.00"}, follow_redirects=False
    )
    partly = _show(paypal, invoice["id"])
    cancel = paypal.post(f"{CREATE}/{invoice['id']}/cancel", json={})
    rest = paypal.http.post(f"/_sandbox/invoices/{invoice['id']}/recipient-payments")
    paid = _show(paypal, invoice["id"])

    assert invoice["status"] == "SENT"
    assert page.status_code == 200
    assert "230.00" in page.text
    assert paid_part.status_code == 303
    assert partly["status"] == "PARTIALLY_PAID"
    assert partly["payments"]["paid_amount"]["value"] == "100.00"
    assert partly["due_amount"]["value"] == "130.00"
    [first] = partly["payments"]["transactions"]
    assert first["type"] == "PAYPAL"
    assert first["amount"]["value"] == "100.00"
    assert cancel.json()["details"][0]["issue"] == "CANNOT_CANCEL_PAID_INVOICE"
    assert rest.status_code == 200, rest.text
    assert paid["status"] == "PAID"
    assert paid["due_amount"]["value"] == "0.00"
    assert [t["amount"]["value"] for t in paid["payments"]["transactions"]] == ["100.00", "130.00"]
    events = _paid_events(paypal, invoice["id"])
    assert [e["status"] for e in events] == ["PARTIALLY_PAID", "PAID"]
    validate_schema(INVOICING, "invoice", events[0])


def test_part_payments_need_the_invoice_to_allow_them(paypal) -> None:
    invoice = _sent(paypal, _body("SPONSOR-2"))
    allowed = _sent(paypal, _body("SPONSOR-3", partial=True))
    control = "/_sandbox/invoices/{}/recipient-payments"

    part = paypal.http.post(
        control.format(invoice["id"]), json={"amount": {"currency_code": "USD", "value": "10.00"}}
    )
    below_minimum = paypal.http.post(
        control.format(allowed["id"]), json={"amount": {"currency_code": "USD", "value": "49.99"}}
    )
    whole = paypal.http.post(control.format(invoice["id"]))

    assert part.status_code == 422
    assert below_minimum.status_code == 422
    assert _show(paypal, allowed["id"])["status"] == "SENT"
    assert whole.status_code == 200
    assert _show(paypal, invoice["id"])["status"] == "PAID"


def test_merchant_records_external_payments(paypal) -> None:
    invoice = _sent(paypal, _body("SPONSOR-4"))
    url = f"{CREATE}/{invoice['id']}/payments"
    cheque = {
        "method": "CHECK",
        "payment_date": _today().date().isoformat(),
        "amount": {"currency_code": "USD", "value": "30.00"},
        "note": "Cheque 1042",
    }
    validate_request(INVOICING, PAYMENTS, "POST", cheque)

    recorded = paypal.post(url, json=cheque, headers={"PayPal-Request-Id": "record-1"})
    replayed = paypal.post(url, json=cheque, headers={"PayPal-Request-Id": "record-1"})
    too_much = paypal.post(url, json={**cheque, "amount": {"currency_code": "USD", "value": "201"}})
    bad_method = paypal.post(url, json={**cheque, "method": "BARTER"})
    zero = paypal.post(url, json={**cheque, "amount": {"currency_code": "USD", "value": "0"}})
    partly = _show(paypal, invoice["id"])
    rest = paypal.post(url, json={"method": "BANK_TRANSFER"})
    after_paid = paypal.post(url, json={"method": "CASH"})

    assert recorded.status_code == 200, recorded.text
    validate_response(INVOICING, PAYMENTS, "POST", 200, recorded.json())
    assert replayed.json()["payment_id"] == recorded.json()["payment_id"]
    assert too_much.status_code == 422
    validate_response(INVOICING, PAYMENTS, "POST", 422, too_much.json())
    assert too_much.json()["details"][0]["issue"] == "PAYMENT_AMOUNT_GREATER_THAN_AMOUNT_DUE"
    for refused, issue in ((bad_method, "INVALID_PAYMENT_METHOD"), (zero, "VALUE_CANNOT_BE_ZERO")):
        assert refused.status_code == 400
        validate_response(INVOICING, PAYMENTS, "POST", 400, refused.json())
        assert refused.json()["details"][0]["issue"] == issue
    assert partly["status"] == "PARTIALLY_PAID"
    assert len(partly["payments"]["transactions"]) == 1
    assert partly["payments"]["transactions"][0]["type"] == "EXTERNAL"
    assert rest.status_code == 200
    final = _show(paypal, invoice["id"])
    assert final["status"] == "MARKED_AS_PAID"
    assert final["payments"]["paid_amount"]["value"] == "230.00"
    assert after_paid.status_code == 422
    assert after_paid.json()["details"][0]["issue"] == "CANNOT_PROCESS_PAYMENTS"
    assert [e["status"] for e in _paid_events(paypal, invoice["id"])] == [
        "PARTIALLY_PAID",
        "MARKED_AS_PAID",
    ]


def test_due_dates_follow_the_terms_and_overdue_invoices_can_be_found(paypal) -> None:
    today = _today().date()
    long_ago = (today - timedelta(days=40)).isoformat()
    overdue = _sent(paypal, _body("SPONSOR-5", invoice_date=long_ago))
    current = _sent(paypal, _body("SPONSOR-6"))
    settled = _sent(paypal, _body("SPONSOR-7", invoice_date=long_ago))
    paypal.http.post(f"/_sandbox/invoices/{settled['id']}/recipient-payments").raise_for_status()
    search = {
        "status": ["SENT", "UNPAID", "PARTIALLY_PAID"],
        "due_date_range": {"start": "2000-01-01", "end": (today - timedelta(days=1)).isoformat()},
    }
    validate_request(INVOICING, SEARCH, "POST", search)

    found = paypal.post(SEARCH, json=search)
    listed = paypal.get(CREATE, params={"total_required": "true", "page_size": "2"})

    assert overdue["detail"]["payment_term"] == {
        "term_type": "NET_30",
        "due_date": (today - timedelta(days=10)).isoformat(),
    }
    assert current["detail"]["payment_term"]["due_date"] == (today + timedelta(days=30)).isoformat()
    assert found.status_code == 200
    validate_response(INVOICING, SEARCH, "POST", 200, found.json())
    assert [i["id"] for i in found.json()["items"]] == [overdue["id"]]
    validate_response(INVOICING, CREATE, "GET", 200, listed.json())
    assert listed.json()["total_items"] == 3
    assert listed.json()["total_pages"] == 2
    assert len(listed.json()["items"]) == 2
