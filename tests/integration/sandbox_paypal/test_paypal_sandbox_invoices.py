"""Invoicing: draft, send, cancel, pay, totals, and duplicate invoice numbers."""

from __future__ import annotations

from typing import Any

from support.paypal_openapi import validate_request, validate_response, validate_schema

INVOICING = "invoicing_v2"
CREATE = "/v2/invoicing/invoices"
ONE = "/v2/invoicing/invoices/{invoice_id}"


def _invoice_body(number: str | None = "EVT-INV-0001") -> dict[str, Any]:
    detail: dict[str, Any] = {"currency_code": "USD", "note": "Booth rental, spring event"}
    if number is not None:
        detail["invoice_number"] = number
    return {
        "detail": detail,
        "invoicer": {"name": {"given_name": "Event", "surname": "Organiser"}},
        "primary_recipients": [{"billing_info": {"email_address": "vendor@example.com"}}],
        "items": [
            {
                "name": "Booth",
                "quantity": "2",
                "unit_amount": {"currency_code": "USD", "value": "100.00"},
                "tax": {"name": "Sales tax", "percent": "7.25"},
            },
            {
                "name": "Power",
                "quantity": "1",
                "unit_amount": {"currency_code": "USD", "value": "15.50"},
            },
        ],
    }


def _create(paypal, body: dict[str, Any]) -> dict[str, Any]:
    validate_request(INVOICING, CREATE, "POST", body)
    response = paypal.post(CREATE, json=body)
    assert response.status_code == 201, response.text
    validate_response(INVOICING, CREATE, "POST", 201, response.json())
    created: dict[str, Any] = response.json()
    return created


def test_draft_has_computed_totals(paypal) -> None:
    invoice = _create(paypal, _invoice_body())

    shown = paypal.get(f"{CREATE}/{invoice['id']}")

    assert invoice["status"] == "DRAFT"
    assert invoice["id"].startswith("INV2-")
    assert invoice["detail"]["invoice_number"] == "EVT-INV-0001"
    assert invoice["amount"]["value"] == "230.00"  # 200.00 + 14.50 tax + 15.50
    assert invoice["amount"]["breakdown"]["tax_total"]["value"] == "14.50"
    assert invoice["due_amount"]["value"] == "230.00"
    validate_response(INVOICING, ONE, "GET", 200, shown.json())
    assert {link["rel"] for link in shown.json()["links"]} >= {"self", "send"}


def test_send_then_cancel(paypal) -> None:
    invoice = _create(paypal, _invoice_body())
    url = f"{CREATE}/{invoice['id']}"

    sent = paypal.post(f"{url}/send", json={"send_to_invoicer": True})
    status_after_send = paypal.get(url).json()["status"]
    resent = paypal.post(f"{url}/send", json={})
    cancelled = paypal.post(f"{url}/cancel", json={"send_to_recipient": False})
    cancelled_again = paypal.post(f"{url}/cancel", json={})

    assert sent.status_code == 200
    validate_response(INVOICING, f"{ONE}/send", "POST", 200, sent.json())
    assert sent.json()["href"].endswith(url)
    assert status_after_send == "SENT"
    assert resent.status_code == 422
    assert cancelled.status_code == 204
    validate_response(INVOICING, f"{ONE}/cancel", "POST", 204, cancelled.content)
    assert paypal.get(url).json()["status"] == "CANCELLED"
    assert cancelled_again.json()["details"][0]["issue"] == "INVOICE_CANCELED_ALREADY"
    validate_response(INVOICING, f"{ONE}/cancel", "POST", 422, cancelled_again.json())
    event = paypal.events("INVOICING.INVOICE.CANCELLED")[0]
    assert event["resource"]["id"] == invoice["id"]


def test_buyer_pays_a_sent_invoice(paypal) -> None:
    invoice = _create(paypal, _invoice_body())
    url = f"{CREATE}/{invoice['id']}"
    paypal.post(f"{url}/send", json={"send_to_recipient": False})
    unpaid = paypal.get(url).json()["status"]

    paid = paypal.http.post(f"/_sandbox/invoices/{invoice['id']}/pay")
    cancel_paid = paypal.post(f"{url}/cancel", json={})

    assert unpaid == "UNPAID"
    assert paid.status_code == 200
    shown = paypal.get(url).json()
    validate_response(INVOICING, ONE, "GET", 200, shown)
    assert shown["status"] == "PAID"
    assert shown["payments"]["paid_amount"]["value"] == "230.00"
    assert shown["due_amount"]["value"] == "0.00"
    assert cancel_paid.json()["details"][0]["issue"] == "CANNOT_CANCEL_PAID_INVOICE"
    assert paypal.events("INVOICING.INVOICE.PAID")[0]["resource"]["status"] == "PAID"


def test_drafts_cannot_be_cancelled_or_paid(paypal) -> None:
    invoice = _create(paypal, _invoice_body())

    cancel = paypal.post(f"{CREATE}/{invoice['id']}/cancel", json={})
    pay = paypal.http.post(f"/_sandbox/invoices/{invoice['id']}/pay")

    assert cancel.status_code == 422
    validate_response(INVOICING, f"{ONE}/cancel", "POST", 422, cancel.json())
    assert cancel.json()["details"][0]["issue"] == "CANNOT_CANCEL_DRAFT_INVOICE"
    assert pay.status_code == 422


def test_duplicate_invoice_number_is_refused_and_numbers_are_generated(paypal) -> None:
    _create(paypal, _invoice_body("EVT-INV-0007"))

    duplicate = paypal.post(CREATE, json=_invoice_body("EVT-INV-0007"))
    generated = [_create(paypal, _invoice_body(None)) for _ in range(2)]

    assert duplicate.status_code == 422
    # The specification's 422 for this operation enumerates only USER_NOT_FOUND, so the body is
    # checked against the generic UNPROCESSABLE_ENTITY envelope instead.
    validate_schema(INVOICING, "error_422", duplicate.json())
    assert duplicate.json()["details"][0]["issue"] == "DUPLICATE_INVOICE_NUMBER"
    assert [i["detail"]["invoice_number"] for i in generated] == ["0001", "0002"]


def test_invoice_needs_a_currency_and_a_short_number(paypal) -> None:
    missing = paypal.post(CREATE, json={"detail": {"invoice_number": "X"}})
    too_long = paypal.post(CREATE, json=_invoice_body("EVT-" + "9" * 22))
    unknown = paypal.get(f"{CREATE}/INV2-NOPE-NOPE-NOPE-NOPE")

    for response in (missing, too_long):
        assert response.status_code == 400
        validate_response(INVOICING, CREATE, "POST", 400, response.json())
    assert too_long.json()["details"][0]["issue"] == "INVALID_STRING_MAX_LENGTH"
    assert unknown.status_code == 404
    validate_response(INVOICING, ONE, "GET", 404, unknown.json())
