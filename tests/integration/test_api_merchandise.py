"""Merchandise over HTTP on SQLite and PostgreSQL, against the Stripe sandbox: an organizer sets
products up, buyers see them with their stock, order them next to an entry (priced by the
server, shipping once per address), pay once, and the organizer's fulfilment list, the ledger and
an admin's refund all agree."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_ids import OPEN_EVENT, ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from eventpay.services import books
from support.api import bearer
from support.checkout import pay_by_card

OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = bearer("o-2", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
ADMIN = bearer("ops", Role.ADMIN)
PRODUCTS = f"/v1/events/{OPEN_EVENT}/products"
HOME = {
    "name": "Dana Bass",
    "line1": "12 Subwoofer Lane",
    "city": "Austin",
    "region": "TX",
    "postal_code": "78701-1234",
    "country": "us",
}
HOODIE = {
    "name": "Hoodie",
    "description": "Heavy, warm, loud.",
    "variants": [
        {"sku": "HOOD-M", "size": "M", "colour": "black", "price": 4500, "stock": 2},
        {"sku": "HOOD-L", "size": "L", "price": {"amount": 4700, "currency": "USD"}},
    ],
    "shipping": {"flat_rate": 1200},
    "pickup": True,
}


def _hoodie(client: TestClient) -> dict[str, Any]:
    created = client.post(PRODUCTS, json=HOODIE, headers=OWNER)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def _listed(client: TestClient, name: str = "Hoodie") -> dict[str, Any] | None:
    listing = client.get(PRODUCTS)
    assert listing.status_code == 200, listing.text
    found = [p for p in listing.json()["products"] if p["name"] == name]
    return found[0] if found else None


def _merch(product: dict[str, Any], n: int = 0, *, quantity: int = 1, to: Any = HOME) -> Any:
    delivery = {"method": "pickup"} if to is None else {"method": "ship", "address": to}
    return {
        "kind": "merchandise",
        "product_id": product["id"],
        "variant_id": product["variants"][n]["id"],
        "quantity": quantity,
        "delivery": delivery,
    }


def _order(client: TestClient, buyer: str, *items: Any) -> httpx.Response:
    return client.post("/v1/orders", json={"items": list(items)}, headers=bearer(buyer))


def _pay(client: TestClient, container: Container, sandbox: str, buyer: str, order_id: str) -> None:
    pay_by_card(client, container, sandbox, buyer, order_id)


def _audit(container: Container) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action FROM payment_audit_log WHERE entity_type = 'merch_product'"
                " AND actor_id <> 'sample-data' ORDER BY id"
            )
        ).all()
    return [action for (action,) in rows]


def test_the_organizer_sets_up_products_that_buyers_see_with_their_stock(
    client: TestClient, container: Container
) -> None:
    created = _hoodie(client)
    assert created["event_id"] == OPEN_EVENT
    assert created["shipping"] == {"flat_rate": {"amount": 1200, "currency": "usd"}}
    medium, large = created["variants"]
    assert (medium["price"], medium["stock"], medium["stock_left"]) == (
        {"amount": 4500, "currency": "usd"},
        2,
        2,
    )
    assert (large["stock"], large["stock_left"]) == (None, None)
    listed = _listed(client)
    assert listed == created
    assert _listed(client, "Spring Sound-Off T-shirt") is not None  # the demo's own

    patched = client.patch(
        f"{PRODUCTS}/{created['id']}",
        json={
            "variants": [{"id": large["id"], "price": 4900, "stock": 10}],
            "add_variants": [{"sku": "HOOD-XL", "size": "XL", "price": 5100}],
            "shipping": None,
        },
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["shipping"] is None
    assert [(v["sku"], v["price"]["amount"], v["stock"]) for v in body["variants"]] == [
        ("HOOD-M", 4500, 2),
        ("HOOD-L", 4900, 10),
        ("HOOD-XL", 5100, None),
    ]
    off = client.patch(f"{PRODUCTS}/{created['id']}", json={"active": False}, headers=OWNER)
    assert (off.status_code, off.json()["active"]) == (200, False)
    assert _listed(client) is None
    assert _audit(container) == [
        "merch_product.created",
        "merch_product.updated",
        "merch_product.updated",
    ]


def test_another_organizer_or_a_competitor_gets_404(
    client: TestClient, container: Container
) -> None:
    created = _hoodie(client)
    for headers in (RIVAL, bearer("competitor-1")):
        answers = [
            client.post(PRODUCTS, json=HOODIE, headers=headers),
            client.patch(f"{PRODUCTS}/{created['id']}", json={"active": False}, headers=headers),
            client.get(f"/v1/events/{OPEN_EVENT}/fulfilment", headers=headers),
        ]
        for answer in answers:
            assert (answer.status_code, answer.json()["error"]["code"]) == (404, "event_not_found")
    other = client.patch(
        f"/v1/events/winter-warm-up/products/{created['id']}", json={"name": "X"}, headers=ADMIN
    )
    assert (other.status_code, other.json()["error"]["code"]) == (404, "product_not_found")
    assert client.get("/v1/events/nope/products").status_code == 404
    assert client.post(PRODUCTS, json=HOODIE).status_code == 401
    assert _audit(container) == ["merch_product.created"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"variants": [{"sku": "A", "price": -1}]}, "variants[0].price"),
        ({"variants": [{"sku": "A", "price": {"amount": 100, "currency": "eur"}}]},
         "variants[0].price"),
        ({"variants": [{"sku": "A", "price": 1}, {"sku": "a", "price": 1}]}, "variants[1].sku"),
        ({"variants": [{"sku": "A", "price": 1, "stock": -2}]}, "variants[0].stock"),
        ({"shipping": None, "pickup": False}, "shipping"),
        ({"shipping": {"flat_rate": 99_999_999}}, "shipping.flat_rate"),
    ],
)  # fmt: skip
def test_bad_products_are_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    answer = client.post(PRODUCTS, json={**HOODIE, **change}, headers=OWNER)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("invalid_product", field)
    assert _listed(client) is None


def test_the_server_prices_merchandise_and_charges_shipping_once(
    client: TestClient, container: Container
) -> None:
    hoodie = _hoodie(client)
    priced = _merch(hoodie, 0)
    cheated = client.post(
        "/v1/orders", json={"items": [{**priced, "price": 1}]}, headers=bearer("c-cheat")
    )
    assert (cheated.status_code, cheated.json()["error"]["code"]) == (422, "validation_error")

    answer = _order(
        client,
        "c-merch-1",
        {"kind": "registration", "event_id": OPEN_EVENT, "class_ids": ["spring-spl"]},
        _merch(hoodie, 0, quantity=2),
        _merch(hoodie, 1, to={**HOME, "name": "DANA BASS"}),
    )
    assert answer.status_code == 201, answer.text
    order = answer.json()
    lines = [(line["kind"], line["amount"]["amount"]) for line in order["lines"]]
    assert ("merchandise", 9000) in lines
    assert ("merchandise", 4700) in lines
    assert [amount for kind, amount in lines if kind == "shipping"] == [1200]
    total, subtotal = order["total"]["amount"], order["subtotal"]["amount"]
    assert subtotal == sum(amount for kind, amount in lines if kind != "fee")
    assert total == subtotal - order["discount"]["amount"] + order["fees"]["amount"]
    assert order["tax"]["amount"] == 0
    assert order["expires_at"] is not None

    two = _order(
        client, "c-merch-2", _merch(hoodie, 1), _merch(hoodie, 1, to={**HOME, "line1": "1 Elm"})
    )
    assert (two.status_code, two.json()["error"]["code"]) == (422, "one_shipping_address")
    assert two.json()["error"]["details"]["item"] == 1
    bad = _order(client, "c-merch-3", _merch(hoodie, 1, to={**HOME, "postal_code": "7870"}))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_address")
    assert bad.json()["error"]["details"]["field"] == "delivery.address.postal_code"
    too_many = _order(client, "c-merch-4", _merch(hoodie, 1, quantity=51))
    assert too_many.status_code == 422


def test_stock_is_never_oversold_and_cannot_be_set_below_what_is_taken(
    client: TestClient,
) -> None:
    hoodie = _hoodie(client)
    first = _order(client, "c-stock-1", _merch(hoodie, 0, quantity=2, to=None))
    assert first.status_code == 201, first.text
    late = _order(client, "c-stock-2", _merch(hoodie, 0, to=None))
    assert (late.status_code, late.json()["error"]["code"]) == (409, "sold_out")
    listed = _listed(client)
    assert listed is not None
    assert listed["variants"][0]["stock_left"] == 0
    lower = client.patch(
        f"{PRODUCTS}/{hoodie['id']}",
        json={"variants": [{"id": hoodie["variants"][0]["id"], "stock": 1, "price": 1}]},
        headers=OWNER,
    )
    assert (lower.status_code, lower.json()["error"]["code"]) == (409, "stock_below_taken")
    after = _listed(client)
    assert after is not None
    assert (after["variants"][0]["stock"], after["variants"][0]["price"]["amount"]) == (2, 4500)


def test_paid_merchandise_is_fulfilled_balanced_in_the_ledger_and_refunded_by_an_admin(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    hoodie = _hoodie(client)
    buyer = "c-paid-merch"
    placed = _order(
        client,
        buyer,
        {"kind": "registration", "event_id": OPEN_EVENT, "class_ids": ["spring-sq"]},
        _merch(hoodie, 0, quantity=2),
    ).json()
    unpaid = _order(client, "c-unpaid-merch", _merch(hoodie, 1, to=None))
    assert unpaid.status_code == 201, unpaid.text
    _pay(client, container, stripe_sandbox, buyer, placed["id"])
    paid = client.get(f"/v1/orders/{placed['id']}", headers=bearer(buyer)).json()
    assert paid["status"] == "paid"
    assert [r["status"] for r in paid["registrations"]] == ["confirmed"]

    fulfilment = client.get(f"/v1/events/{OPEN_EVENT}/fulfilment", headers=OWNER)
    assert fulfilment.status_code == 200, fulfilment.text
    (shipment,) = fulfilment.json()["items"]
    assert (shipment["order_id"], shipment["sku"], shipment["quantity"]) == (
        placed["id"],
        "HOOD-M",
        2,
    )
    assert shipment["delivery"]["method"] == "ship"
    assert shipment["delivery"]["address"]["postal_code"] == "78701-1234"
    assert shipment["delivery"]["address"]["country"] == "US"
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems

    refund = client.post(
        f"/v1/orders/{placed['id']}/refunds", json={"reason": "out of hoodies"}, headers=ADMIN
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["amount"] == paid["total"]
    after = client.get(f"/v1/orders/{placed['id']}", headers=bearer(buyer)).json()
    assert after["status"] == "refunded"
    assert client.get(f"/v1/events/{OPEN_EVENT}/fulfilment", headers=ADMIN).json()["items"] == []
    listed = _listed(client)
    assert listed is not None
    assert listed["variants"][0]["stock_left"] == 2  # the refunded units are for sale again
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems


def test_an_event_without_orders_is_deleted_with_its_products(
    client: TestClient, container: Container
) -> None:
    hoodie = _hoodie(client)
    deleted = client.delete(f"/v1/events/{OPEN_EVENT}", headers=OWNER)
    assert deleted.status_code == 204, deleted.text
    with container.engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM merch_variants WHERE product_id = :id"), {"id": hoodie["id"]}
        ).scalar_one()
        stock = conn.execute(
            text("SELECT count(*) FROM stock_items WHERE kind = 'variant'")
        ).scalar_one()
    assert (left, stock) == (0, 0)
    assert client.get(PRODUCTS).status_code == 404
