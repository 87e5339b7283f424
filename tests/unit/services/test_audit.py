"""Audit redaction: secrets never reach the log, at any depth; ordinary details do."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from eventpay.domain import PaymentStatus
from eventpay.ports import Principal, Role
from eventpay.services import audit
from eventpay.services.audit import REDACTED, redact

from .scenario import World


def test_secret_keys_are_redacted_at_any_depth() -> None:
    details = {
        "client_secret": "pi_1_secret_2",
        "api_key": "anything",
        "Authorization": "Bearer abc",
        "provider": {
            "webhook_secret": "whatever",
            "token": "tok_123",
            "attempts": [
                {"card": {"number": "4242424242424242", "exp": "12/30"}, "ok": True},
                {"password": "hunter2", "user": "alice"},
            ],
        },
        "headers": {"Stripe-Signature": "t=1,v1=abc"},
        "cvc": "123",
    }

    assert redact(details) == {
        "client_secret": REDACTED,
        "api_key": REDACTED,
        "Authorization": REDACTED,
        "provider": {
            "webhook_secret": REDACTED,
            "token": REDACTED,
            "attempts": [
                {"card": REDACTED, "ok": True},
                {"password": REDACTED, "user": "alice"},
            ],
        },
        "headers": {"Stripe-Signature": REDACTED},
        "cvc": REDACTED,
    }


@pytest.mark.parametrize(
    "secret",
    ["sk_live_51Habc", "sk_test_51Habc", "whsec_abc123", "pi_3Labc_secret_Xyz"],
)
def test_secret_looking_values_are_redacted_under_any_key(secret: str) -> None:
    details = {"note": secret, "nested": {"list": ["fine", secret, ("tuple", secret)]}}

    assert redact(details) == {
        "note": REDACTED,
        "nested": {"list": ["fine", REDACTED, ["tuple", REDACTED]]},
    }


JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb21wZXRpdG9yLTIwMDIiLCJyb2xlIjoiY29tcGV0aXRvciJ9"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)


@pytest.mark.parametrize(
    "text",
    [
        JWT,
        JWT[: JWT.rindex(".") + 1],  # unsigned ("alg": "none"): still a credential
        f"Bearer {JWT}",
        "bearer 9f8e7d6c5b4a",
        "BEARER abc/def+ghi==",
        f"upstream refused token={JWT}; retrying",
        "PayPal answered 401 to Authorization: Bearer A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVD",
    ],
)
def test_jwts_and_bearer_tokens_are_redacted_under_any_key(text: str) -> None:
    details = {"note": text, "nested": {"errors": ["fine", {"message": text}, (text,)]}}

    assert redact(details) == {
        "note": REDACTED,
        "nested": {"errors": ["fine", {"message": REDACTED}, [REDACTED]]},
    }


@pytest.mark.parametrize(
    "text",
    [
        "eyJ",  # the prefix alone is no token
        "eyJhbGciOiJIUzI1NiJ9",  # one segment: a base64 JSON blob, not a JWT
        "heyJude.song.mp3",  # "eyJ" inside a word
        "Bearer",
        "card_declined: insufficient funds",
    ],
)
def test_text_that_is_no_jwt_or_bearer_token_is_kept(text: str) -> None:
    assert redact({"note": text}) == {"note": text}


def test_harmless_fields_are_kept_as_they_are() -> None:
    details: dict[str, Any] = {
        "amount": 4000,
        "currency": "usd",
        "event_id": "evt_1Nabc",
        "provider_ref": "pi_3Labc",
        "payment_id": "5a8f2367-1947-4596-bbc4-e587f050f60b",
        "idempotency_key": "eventpay-payment-1",
        "is_member": False,
        "failure_code": None,
        "class_ids": ["spring-spl", "spring-sq"],
        "lines": [{"description": "Spring Sound-Off — SPL (member)", "amount": 4500}],
        "ratio": 0.5,
    }

    assert redact(details) == details


@pytest.mark.parametrize("key", ["company", "participants"])
def test_keys_that_merely_contain_a_short_marker_are_kept(key: str) -> None:
    """ "pan" is the card number's field name; "company" is not a card number."""
    assert redact({key: "Bassline Events LLC"}) == {key: "Bassline Events LLC"}


def test_redact_does_not_change_its_input() -> None:
    details = {"client_secret": "pi_1_secret_2", "nested": [{"token": "x"}]}
    original = copy.deepcopy(details)

    redact(details)

    assert details == original


def test_record_stores_redacted_details_with_actor_and_address(world: World) -> None:
    order = world.place_order().order
    caller = Principal(user_id="admin-7", role=Role.ADMIN, ip_address="198.51.100.4")

    with world.uow_factory() as uow:
        audit.record(
            uow,
            entity_type="payment",
            entity_id="pay_1",
            action="payment.note",
            actor=caller,
            now=world.clock(),
            details={"client_secret": "pi_1_secret_2", "amount": 100},
            order_id=order.id,
            payment_id="pay_1",
        )
        uow.commit()

    entry = world.audit(order.id)[-1]
    assert entry.action == "payment.note"
    assert entry.details == {"client_secret": REDACTED, "amount": 100}
    assert (entry.actor_id, entry.ip_address) == ("admin-7", "198.51.100.4")
    assert (entry.order_id, entry.payment_id, entry.entity_id) == (order.id, "pay_1", "pay_1")


def test_no_client_secret_reaches_the_audit_log_in_a_full_payment(world: World) -> None:
    order = world.place_order().order
    started = world.start(order.id)
    assert started.client_secret is not None
    ref = started.payment.provider_ref
    assert ref is not None
    world.deliver(world.report(ref, PaymentStatus.SUCCEEDED))
    world.process_all()

    logged = json.dumps([e.details for e in world.audit(order.id)])

    assert len(world.audit(order.id)) >= 5
    assert started.client_secret not in logged
    assert "_secret_" not in logged
