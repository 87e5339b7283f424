"""The promo code routes over HTTP on SQLite and PostgreSQL: who may manage an event's codes,
what they answer, and that bad terms get a 422 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_ids import OPEN_EVENT, ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from support.api import bearer

OWNER = bearer("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = bearer("o-2", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
ADMIN = bearer("ops", Role.ADMIN)
BUYER = bearer("competitor-1")
URL = f"/v1/events/{OPEN_EVENT}/promo-codes"
INVALID = "invalid_promo_code"
MISMATCH = "currency_mismatch"


def _audit(container: Container) -> list[tuple[str, str]]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, actor_id FROM payment_audit_log WHERE entity_type = 'promo_code'"
                " AND actor_id <> 'sample-data' ORDER BY id"
            )
        ).all()
    return [(action, actor) for action, actor in rows]


def test_the_organizer_creates_lists_and_disables_a_code(
    client: TestClient, container: Container
) -> None:
    created = client.post(
        URL,
        json={
            "code": " early-bird ",
            "percent_off": "12.5",
            "max_uses": 100,
            "max_uses_per_buyer": 1,
            "valid_from": "2026-01-01T00:00:00Z",
            "valid_until": "2030-01-01T00:00:00+02:00",
            "applies_to": "registration",
        },
        headers=OWNER,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == "EARLY-BIRD"
    assert body["event_id"] == OPEN_EVENT
    assert (body["percent_off"], body["amount_off"]) == ("12.5", None)
    assert (body["max_uses"], body["max_uses_per_buyer"], body["uses"], body["remaining"]) == (
        100,
        1,
        0,
        100,
    )
    assert datetime.fromisoformat(body["valid_until"]) == datetime(2029, 12, 31, 22, tzinfo=UTC)
    assert datetime.fromisoformat(body["valid_until"]).utcoffset() == timedelta(0)
    assert (body["active"], body["created_by"]) == (True, "o-1")

    fixed = client.post(
        URL, json={"code": "TEN", "amount_off": {"amount": 1000, "currency": "USD"}}, headers=ADMIN
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["amount_off"] == {"amount": 1000, "currency": "usd"}
    assert fixed.json()["percent_off"] is None
    plain = client.post(URL, json={"code": "five", "amount_off": 500}, headers=OWNER)
    assert plain.json()["amount_off"] == {"amount": 500, "currency": "usd"}

    listing = client.get(URL, headers=OWNER)
    assert listing.status_code == 200
    assert [c["code"] for c in listing.json()["promo_codes"]] == ["EARLY-BIRD", "FIVE", "TEN"]
    assert listing.json()["event_id"] == OPEN_EVENT

    disabled = client.delete(f"{URL}/early-bird", headers=OWNER)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False
    assert disabled.json()["disabled_at"] is not None
    again = client.delete(f"{URL}/EARLY-BIRD", headers=ADMIN)
    assert again.json() == disabled.json()
    missing = client.delete(f"{URL}/NOPE", headers=OWNER)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "promo_code_not_found")
    (listed,) = [c for c in client.get(URL, headers=ADMIN).json()["promo_codes"] if not c["active"]]
    assert listed["code"] == "EARLY-BIRD"

    assert _audit(container) == [
        ("promo_code.created", "o-1"),
        ("promo_code.created", "ops"),
        ("promo_code.created", "o-1"),
        ("promo_code.disabled", "o-1"),
    ]


def test_a_second_code_of_the_same_name_is_409(client: TestClient) -> None:
    assert (
        client.post(URL, json={"code": "dup", "percent_off": 5}, headers=OWNER).status_code == 201
    )
    again = client.post(URL, json={"code": "DUP", "amount_off": 100}, headers=ADMIN)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "promo_code_exists")


@pytest.mark.parametrize("headers", [RIVAL, BUYER])
def test_another_organizer_or_a_competitor_gets_404(
    client: TestClient, container: Container, headers: dict[str, str]
) -> None:
    answers = [
        client.post(URL, json={"code": "MINE", "percent_off": 5}, headers=headers),
        client.get(URL, headers=headers),
        client.delete(f"{URL}/MINE", headers=headers),
    ]
    for answer in answers:
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "event_not_found")
    unknown = client.get("/v1/events/nope/promo-codes", headers=ADMIN)
    assert unknown.status_code == 404
    assert client.get(URL).status_code == 401
    assert _audit(container) == []


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"code": "BOTH", "percent_off": 10, "amount_off": 100}, INVALID, "percent_off"),
        ({"code": "NONE"}, INVALID, "percent_off"),
        ({"code": "BIG", "percent_off": 100.5}, INVALID, "percent_off"),
        ({"code": "FINE", "percent_off": "12.345"}, INVALID, "percent_off"),
        ({"code": "NEG", "amount_off": -100}, INVALID, "amount_off"),
        ({"code": "ZERO", "percent_off": 0}, INVALID, "percent_off"),
        ({"code": "EUR", "amount_off": {"amount": 1, "currency": "eur"}}, MISMATCH, "amount_off"),
        ({"code": "LIM", "percent_off": 5, "max_uses": 0}, INVALID, "max_uses"),
        ({"code": "LIM", "percent_off": 5, "max_uses_per_buyer": 0}, INVALID, "max_uses_per_buyer"),
        ({"code": "KIND", "percent_off": 5, "applies_to": "fee"}, INVALID, "applies_to"),
        ({"code": "x!", "percent_off": 5}, INVALID, "code"),
        (
            {
                "code": "BACK",
                "percent_off": 5,
                "valid_from": "2027-01-02T00:00:00Z",
                "valid_until": "2027-01-01T00:00:00Z",
            },
            "invalid_promo_code",
            "valid_until",
        ),
    ],
)  # fmt: skip
def test_bad_terms_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], code: str, field: str
) -> None:
    answer = client.post(URL, json=body, headers=OWNER)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["details"]["field"]) == (code, field)
    assert client.get(URL, headers=OWNER).json()["promo_codes"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "NAIVE", "percent_off": 5, "valid_from": "2027-01-01T00:00:00"}, "valid_from"),
        ({"code": "TYPE", "percent_off": "ten"}, "percent_off"),
        ({"code": "FLOAT", "amount_off": 12.5}, "amount_off"),
        ({"code": "EXTRA", "percent_off": 5, "uses": 3}, "uses"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    answer = client.post(URL, json=body, headers=OWNER)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in err["loc"] for err in error["details"]["errors"]), error


def test_a_validity_in_a_distant_year_is_422_not_a_crash(client: TestClient) -> None:
    # Found in review: moving 9999-12-31T23:00-05:00 to UTC overflowed into a 500.
    body = {"code": "FAR", "percent_off": "5", "valid_until": "9999-12-31T23:00:00-05:00"}
    far = client.post(URL, json=body, headers=OWNER)
    assert far.status_code == 422
    assert far.json()["error"]["details"]["field"] == "valid_until"
