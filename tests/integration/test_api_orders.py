"""Orders over HTTP on SQLite and PostgreSQL: pricing from the catalog and bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.domain import Event, FeePayer, FeePolicy, Organizer
from eventpay.ports import Role
from eventpay.sample_data import (
    MEMBER_ID,
    NON_MEMBER_ID,
    ORGANIZER,
    SUMMER_FEE_POLICY,
    sample_events,
)
from eventpay.sample_ids import LATER_EVENT, OPEN_EVENT
from eventpay.services import catalog
from support.api import bearer, create_order, registration

# Every table creating an order writes to; a refused order must leave all of them as they were.
ORDER_TABLES = ("orders", "order_lines", "registrations", "payment_audit_log")


def _row_counts(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ORDER_TABLES
        }


def test_events_are_public_and_list_classes(client: TestClient) -> None:
    response = client.get("/v1/events")
    assert response.status_code == 200
    events = {e["id"]: e for e in response.json()}
    spring = events["spring-sound-off"]
    assert spring["registration_status"] == "open"
    assert {c["code"] for c in spring["classes"]} == {"SPL", "SQ"}
    assert events["winter-warm-up"]["registration_status"] == "closed"
    assert client.get("/v1/events/spring-sound-off").json()["id"] == "spring-sound-off"
    missing = client.get("/v1/events/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "event_not_found"


def test_member_gets_early_bird_and_additional_class_price(client: TestClient) -> None:
    order = create_order(
        client, MEMBER_ID, registration("spring-sound-off", "spring-spl", "spring-sq")
    )
    assert [line["amount"]["amount"] for line in order["lines"]] == [4000, 2000]
    assert [line["price_rule"] for line in order["lines"]] == ["early_bird", "additional_class"]
    assert order["total"] == {"amount": 6000, "currency": "usd"}
    assert order["status"] == "awaiting_payment"
    assert order["registrations"][0]["status"] == "pending"


def test_non_member_pays_early_bird_when_lower(client: TestClient) -> None:
    order = create_order(client, NON_MEMBER_ID, registration("spring-sound-off", "spring-sq"))
    assert order["total"]["amount"] == 3500


def test_client_sent_price_is_rejected(client: TestClient, container: Container) -> None:
    before = _row_counts(container)
    body = registration()
    body["items"][0]["amount"] = 1
    response = client.post("/v1/orders", json=body, headers=bearer(MEMBER_ID))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    top = {**registration(), "price": 1}
    assert client.post("/v1/orders", json=top, headers=bearer(MEMBER_ID)).status_code == 422
    assert _row_counts(container) == before


def test_unknown_event_and_class_are_422(client: TestClient, container: Container) -> None:
    before = _row_counts(container)
    unknown_event = client.post("/v1/orders", json=registration("nope"), headers=bearer(MEMBER_ID))
    assert unknown_event.status_code == 422
    assert unknown_event.json()["error"]["code"] == "unknown_event"
    unknown_class = client.post(
        "/v1/orders", json=registration("spring-sound-off", "spring-xx"), headers=bearer(MEMBER_ID)
    )
    assert unknown_class.status_code == 422
    assert unknown_class.json()["error"]["code"] == "unknown_class"
    assert _row_counts(container) == before


def test_closed_and_not_yet_open_windows_are_409(client: TestClient, container: Container) -> None:
    before = _row_counts(container)
    closed = client.post(
        "/v1/orders", json=registration("winter-warm-up", "winter-spl"), headers=bearer(MEMBER_ID)
    )
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "registration_closed"
    early = client.post(
        "/v1/orders", json=registration("summer-bass-bash", "summer-spl"), headers=bearer(MEMBER_ID)
    )
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "registration_not_open"
    assert _row_counts(container) == before


def test_the_row_counts_see_a_created_order(client: TestClient, container: Container) -> None:
    """Guards the refusal tests above: an order that is written does change the counts."""
    before = _row_counts(container)
    create_order(client, MEMBER_ID, registration("spring-sound-off", "spring-spl", "spring-sq"))
    after = _row_counts(container)
    assert {table: after[table] - before[table] for table in after} == {
        "orders": 1,
        "order_lines": 2,
        "registrations": 1,
        "payment_audit_log": 2,
    }


def test_authentication_is_required_and_checked(client: TestClient) -> None:
    assert client.post("/v1/orders", json=registration()).status_code == 401
    bad = client.post("/v1/orders", json=registration(), headers={"Authorization": "Bearer x.y.z"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "invalid_token"


def test_another_buyers_order_is_404_admin_sees_it(client: TestClient) -> None:
    order = create_order(client, MEMBER_ID)
    other = client.get(f"/v1/orders/{order['id']}", headers=bearer(NON_MEMBER_ID))
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "order_not_found"
    admin = client.get(f"/v1/orders/{order['id']}", headers=bearer("ops-1", Role.ADMIN))
    assert admin.status_code == 200
    trail = client.get(f"/v1/orders/{order['id']}/audit", headers=bearer("ops-1", Role.ADMIN))
    assert [row["action"] for row in trail.json()] == ["order.created", "registration.created"]
    assert (
        client.get(f"/v1/orders/{order['id']}/audit", headers=bearer(MEMBER_ID)).status_code == 404
    )


def test_idempotency_key_replays_and_refuses_other_bodies(client: TestClient) -> None:
    headers = {**bearer(MEMBER_ID), "Idempotency-Key": "order-key-1"}
    first = client.post("/v1/orders", json=registration(), headers=headers)
    second = client.post("/v1/orders", json=registration(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers.get("idempotent-replayed") == "true"
    other = client.post(
        "/v1/orders", json=registration("spring-sound-off", "spring-sq"), headers=headers
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    # Keys are per caller: another buyer's identical key is independent.
    theirs = client.post(
        "/v1/orders",
        json=registration(),
        headers={**bearer(NON_MEMBER_ID), "Idempotency-Key": "order-key-1"},
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


def test_idempotency_key_replays_the_same_json_spelled_differently(client: TestClient) -> None:
    headers = {
        **bearer(MEMBER_ID),
        "Idempotency-Key": "order-key-respelled",
        "Content-Type": "application/json",
    }
    sent = json.dumps(registration())
    respelled = json.dumps(registration(), indent=2, sort_keys=True)  # other spaces, key order
    assert respelled != sent
    first = client.post("/v1/orders", content=sent, headers=headers)
    second = client.post("/v1/orders", content=respelled, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers.get("idempotent-replayed") == "true"


def test_payment_config_names_the_sandboxes(
    client: TestClient, stripe_sandbox: str, paypal_sandbox: str
) -> None:
    config = client.get("/v1/payment-config").json()
    assert config["stripe"]["publishable_key"].startswith("pk_test_")
    assert config["stripe"]["api_base"] == stripe_sandbox
    assert config["paypal"] == {"client_id": "eventpay-sandbox-client", "api_base": paypal_sandbox}


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "stripe": True, "paypal": True}
    assert "eventpay_webhooks_received_total" in client.get("/metrics").text


def test_openapi_documents_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/v1/events", "get"),
        ("/v1/events/{event_id}", "get"),
        ("/v1/orders", "post"),
        ("/v1/orders/{order_id}", "get"),
        ("/v1/orders/{order_id}/payments", "post"),
        ("/v1/webhooks/stripe", "post"),
        ("/v1/webhooks/paypal", "post"),
        ("/v1/payment-config", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]:
        assert method in paths[path], (path, method)
    assert client.get("/docs").status_code == 200


# ---------------------------------------------------------------------------- platform fee policies

PARTNER_RATE = FeePolicy(percent=Decimal("4"), fixed_minor=20)
EVENT_RATE = FeePolicy(percent=Decimal("10"), fixed_minor=0, payer=FeePayer.BUYER)
PARTNER = Organizer(id="org-partner", name="Partner Sound Club", fee_policy=PARTNER_RATE)


def _spring_copy(event_id: str, fee_policy: FeePolicy | None, *, now: datetime) -> Event:
    """An open event priced like spring, run by PARTNER; class ids are unique per event."""
    spring = next(e for e in sample_events(now) if e.id == OPEN_EVENT)
    classes = tuple(replace(c, id=f"{event_id}-{c.code.lower()}") for c in spring.classes)
    return replace(
        spring, id=event_id, organizer_id=PARTNER.id, classes=classes, fee_policy=fee_policy
    )


def _add_partner_events(container: Container) -> None:
    now = datetime.now(UTC)
    for event_id, policy in [("partner-plain", None), ("partner-special", EVENT_RATE)]:
        event = _spring_copy(event_id, policy, now=now)
        assert catalog.add_event(
            uow_factory=container.uow_factory, organizer=PARTNER, event=event, now=now
        )


def _stored_split(container: Container, order_id: str) -> tuple[int, int, int]:
    """(total, platform_fee, organizer_net) as stored: the buyer's view shows no platform fee."""
    with container.engine.connect() as conn:
        row = conn.execute(
            text("SELECT total, platform_fee, organizer_net FROM orders WHERE id = :id"),
            {"id": order_id},
        ).one()
    return (row.total, row.platform_fee, row.organizer_net)


def test_the_event_policy_beats_the_organizers_which_beats_the_platforms(
    client: TestClient, container: Container
) -> None:
    _add_partner_events(container)
    platform = container.fee_policy
    assert (platform.percent, platform.fixed_minor) == (Decimal("5.0"), 50)  # the settings

    spring = create_order(client, MEMBER_ID, registration("spring-sound-off", "spring-spl"))
    plain = create_order(client, MEMBER_ID, registration("partner-plain", "partner-plain-spl"))
    special = create_order(
        client, MEMBER_ID, registration("partner-special", "partner-special-spl")
    )

    # The member's early-bird SPL price is 4000 at each of the three events.
    assert _stored_split(container, spring["id"]) == (4000, 200 + 50, 3750)
    assert _stored_split(container, plain["id"]) == (4000, 160 + 20, 3820)
    assert _stored_split(container, special["id"]) == (4400, 400, 4000)
    assert [line["description"] for line in special["lines"]][-1] == "Service fee"
    for order in (spring, plain, special):
        assert "platform_fee" not in order
        assert "organizer_net" not in order


def test_a_multi_event_order_charges_each_event_its_own_fee(
    client: TestClient, container: Container
) -> None:
    _add_partner_events(container)
    body = registration("spring-sound-off", "spring-spl")
    body["items"] += [
        registration("partner-plain", "partner-plain-spl")["items"][0],
        registration("partner-special", "partner-special-spl")["items"][0],
    ]

    order = create_order(client, MEMBER_ID, body)

    assert [line["amount"]["amount"] for line in order["lines"]] == [4000, 4000, 4000, 400]
    assert order["total"]["amount"] == 12400
    assert _stored_split(container, order["id"]) == (12400, 250 + 180 + 400, 12000 - 250 - 180)
    trail = client.get(f"/v1/orders/{order['id']}/audit", headers=bearer("ops-1", Role.ADMIN))
    created = trail.json()[0]
    assert created["action"] == "order.created"
    assert [(e["event_id"], e["fee"]) for e in created["details"]["platform_fee_by_event"]] == [
        ("spring-sound-off", 250),
        ("partner-plain", 180),
        ("partner-special", 400),
    ]


def test_a_placed_order_keeps_its_fee_when_the_policy_changes_later(
    client: TestClient, container: Container
) -> None:
    _add_partner_events(container)
    body = registration("partner-plain", "partner-plain-spl")
    placed = create_order(client, MEMBER_ID, body)
    with container.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE events SET fee_percent_bps = 1000, fee_fixed_minor = 0,"
                " fee_payer = 'buyer', fee_rounding = 'half_up' WHERE id = 'partner-plain'"
            )
        )

    again = client.get(f"/v1/orders/{placed['id']}", headers=bearer(MEMBER_ID)).json()
    later = create_order(client, MEMBER_ID, body)

    assert _stored_split(container, placed["id"]) == (4000, 180, 3820)
    assert again["total"] == placed["total"] == {"amount": 4000, "currency": "usd"}
    assert again["lines"] == placed["lines"]
    assert _stored_split(container, later["id"]) == (4400, 400, 4000)


def test_the_catalog_stores_fee_policies_exactly(container: Container) -> None:
    _add_partner_events(container)
    with container.uow_factory() as uow:
        events = [
            uow.catalog.get_event(event_id)
            for event_id in ("partner-special", "partner-plain", OPEN_EVENT, LATER_EVENT)
        ]
        policies = {event.id: event.fee_policy for event in events if event is not None}
        organizer = uow.catalog.get_organizer(PARTNER.id)
        sample_organizer = uow.catalog.get_organizer(ORGANIZER.id)
    assert policies == {
        "partner-special": EVENT_RATE,
        "partner-plain": None,
        OPEN_EVENT: None,
        LATER_EVENT: SUMMER_FEE_POLICY,
    }
    assert organizer == PARTNER
    assert sample_organizer == ORGANIZER

    # Hundredths of a percent are stored exactly; a finer percent is refused, not rounded.
    finer = _spring_copy("partner-finer", FeePolicy(Decimal("2.955"), 30), now=datetime.now(UTC))
    with pytest.raises(ValueError, match=r"platform fee 2\.955 % has more than two decimals"):
        catalog.add_event(
            uow_factory=container.uow_factory, organizer=PARTNER, event=finer, now=datetime.now(UTC)
        )


def test_a_sold_out_class_replays_an_answered_key_and_refuses_new_buyers_early(
    client: TestClient, container: Container
) -> None:
    """A buyer whose order was refused retries with their key after the class filled up: the
    stored answer is replayed (the early `sold_out` reads the key before refusing), while a new
    key is refused early with nothing stored."""
    wanted = registration(OPEN_EVENT, "spring-sq")
    headers = {**bearer(NON_MEMBER_ID), "Idempotency-Key": "refused-once"}
    too_soon = client.post("/v1/orders", json=registration("no-such-event", "x"), headers=headers)
    assert too_soon.status_code == 422  # answered and stored under the key
    with container.uow_factory() as uow:
        assert uow.places.ensure_stock(
            "class:spring-sq", event_id=OPEN_EVENT, kind="class", capacity=1
        )
        uow.commit()
    taken = client.post("/v1/orders", json=wanted, headers=bearer(MEMBER_ID))
    assert taken.status_code == 201, taken.text
    again = client.post("/v1/orders", json=registration("no-such-event", "x"), headers=headers)
    assert (again.status_code, again.content) == (422, too_soon.content)
    reused = client.post("/v1/orders", json=wanted, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    before = _row_counts(container)
    late_headers = {**bearer(NON_MEMBER_ID), "Idempotency-Key": "too-late"}
    late = client.post("/v1/orders", json=wanted, headers=late_headers)
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "sold_out"
    assert late.json()["error"]["details"]["places_left"] == 0
    assert _row_counts(container) == before
    with container.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT COUNT(*) FROM api_idempotency_keys WHERE key = 'too-late'")
        ).scalar_one()
    assert stored == 0
