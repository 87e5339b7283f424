"""The buyer approval page: its content, the Approve and Cancel forms, and the JSON shortcuts."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from support.paypal_openapi import validate_response


def _shop_order(paypal, order_body, receiver, **kwargs) -> dict:
    body = order_body(**kwargs)
    urls = {
        "return_url": f"{receiver.base_url}/shop/return",
        "cancel_url": f"{receiver.base_url}/shop/cancel?step=pay",
    }
    body["payment_source"]["paypal"]["experience_context"] = urls
    return paypal.create_order(body)


def _approve_link(order: dict) -> str:
    return next(
        link["href"] for link in order["links"] if link["rel"] in ("approve", "payer-action")
    )


def test_page_shows_amount_items_login_and_both_buttons(paypal, order_body) -> None:
    items = [
        {
            "name": "Stage pass",
            "quantity": "2",
            "unit_amount": {"currency_code": "EUR", "value": "6.25"},
        }
    ]
    order = paypal.create_order(
        order_body(value="12.50", currency="EUR", item_total="12.50", items=items)
    )

    page = paypal.http.get(_approve_link(order))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "12.50 EUR" in page.text
    assert "Stage pass" in page.text
    assert "Log in as test buyer" in page.text
    assert "sb-buyer@personal.example.com" in page.text
    assert re.search(r'<button[^>]*id="approve"[^>]*>Approve</button>', page.text)
    assert re.search(r'<button[^>]*id="cancel"[^>]*>Cancel</button>', page.text)


def test_approve_button_redirects_to_the_return_url(paypal, order_body, receiver) -> None:
    order = _shop_order(paypal, order_body, receiver)
    form_action = re.search(
        r'<form method="post" action="([^"]+)"[^>]*><button[^>]*id="approve"',
        paypal.http.get(_approve_link(order)).text,
    ).group(1)

    redirect = paypal.http.post(form_action)
    landed = paypal.http.post(form_action, follow_redirects=True)

    target = urlsplit(redirect.headers["location"])
    assert redirect.status_code == 303
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{receiver.base_url}/shop/return"
    assert parse_qs(target.query) == {"token": [order["id"]], "PayerID": ["QYR5Z8XDVJNXQ"]}
    assert landed.status_code == 200
    assert landed.text == "back at the shop"
    assert receiver.visits[-1] == f"/shop/return?token={order['id']}&PayerID=QYR5Z8XDVJNXQ"
    shown = paypal.get(f"/v2/checkout/orders/{order['id']}").json()
    validate_response("checkout_orders_v2", "/v2/checkout/orders/{id}", "GET", 200, shown)
    assert shown["status"] == "APPROVED"
    assert shown["payer"]["email_address"] == "sb-buyer@personal.example.com"
    assert shown["payer"]["payer_id"] == "QYR5Z8XDVJNXQ"
    assert shown["payment_source"]["paypal"]["account_id"] == "QYR5Z8XDVJNXQ"
    assert len(paypal.events("CHECKOUT.ORDER.APPROVED")) == 1  # approving twice emits once


def test_cancel_button_goes_to_the_cancel_url_and_leaves_the_order(
    paypal, order_body, receiver
) -> None:
    order = _shop_order(paypal, order_body, receiver)

    landed = paypal.http.post(f"/checkoutnow/{order['id']}/cancel", follow_redirects=True)

    assert landed.history[0].status_code == 303
    assert str(landed.url) == f"{receiver.base_url}/shop/cancel?step=pay&token={order['id']}"
    assert (
        paypal.get(f"/v2/checkout/orders/{order['id']}").json()["status"] == "PAYER_ACTION_REQUIRED"
    )
    assert paypal.events("CHECKOUT.ORDER.APPROVED") == []


def test_json_routes_approve_and_cancel_like_the_buttons(paypal, order_body) -> None:
    order = paypal.create_order(order_body(modern=False))

    cancelled = paypal.http.post(f"/_sandbox/orders/{order['id']}/cancel").json()
    approved = paypal.approve(order["id"])

    assert cancelled["order"]["status"] == "CREATED"
    assert cancelled["redirect_url"] == f"https://shop.example/paypal/cancel?token={order['id']}"
    assert approved["order"]["status"] == "APPROVED"
    assert approved["redirect_url"] == (
        f"https://shop.example/paypal/return?token={order['id']}&PayerID=QYR5Z8XDVJNXQ"
    )
    event = paypal.events("CHECKOUT.ORDER.APPROVED")[0]
    assert event["resource"]["id"] == order["id"]
    assert event["resource"]["status"] == "APPROVED"


def test_without_return_urls_the_page_says_what_happened(paypal) -> None:
    body = {
        "intent": "CAPTURE",
        "purchase_units": [{"amount": {"currency_code": "USD", "value": "3.00"}}],
    }
    order = paypal.create_order(body)

    page = paypal.http.post(f"/checkoutnow/{order['id']}/approve")

    assert page.status_code == 200
    assert 'id="outcome"' in page.text
    assert "approved" in page.text


def test_page_for_unknown_missing_or_paid_orders(paypal, order_body, http: httpx.Client) -> None:
    order = paypal.create_order(order_body())
    paypal.approve(order["id"])
    paypal.capture(order["id"])

    assert http.get("/checkoutnow?token=NOSUCHORDER").status_code == 404
    assert http.get("/checkoutnow").status_code == 400
    assert http.get(f"/checkoutnow?token={order['id']}").status_code == 422
    assert http.post(f"/checkoutnow/{order['id']}/approve").status_code == 422
