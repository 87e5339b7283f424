"""The demo's printed tokens are ones its own API accepts; the self-test finds its catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventpay import sample_ids
from eventpay.config import Settings
from eventpay.demo import banner, demo_tokens, selftest_credentials
from eventpay.sample_data import MEMBER_ID, NON_MEMBER_ID, sample_events
from eventpay.web.auth import decode_token


@pytest.mark.parametrize("audience", [None, "eventpay-api"])
def test_demo_tokens_carry_the_configured_audience(audience: str | None) -> None:
    settings = Settings(environment="test", jwt_audience=audience)
    member, non_member = demo_tokens(settings)

    subjects = [
        decode_token(
            token,
            key=settings.jwt_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            audience=audience,
            ip_address=None,
        ).user_id
        for token in (member, non_member)
    ]
    assert subjects == [MEMBER_ID, NON_MEMBER_ID]


def test_the_banner_hides_the_database_password() -> None:
    settings = Settings(
        environment="test",
        database_url="postgresql+psycopg://eventpay:s3cr3t-pw@db.internal:5432/eventpay",
    )
    text = banner(settings, api_url="http://api", stripe_url="http://stripe", paypal_url=None)

    assert "s3cr3t-pw" not in text
    assert "postgresql+psycopg://eventpay:***@db.internal:5432/eventpay" in text
    assert "PayPal sandbox (disabled)" in text


def test_the_sample_catalog_is_seeded_under_the_ids_the_selftest_uses() -> None:
    now = datetime(2030, 3, 1, 12, tzinfo=UTC)
    events = {event.id: event for event in sample_events(now)}

    assert set(events) == {sample_ids.OPEN_EVENT, sample_ids.LATER_EVENT, sample_ids.CLOSED_EVENT}
    assert tuple(c.id for c in events[sample_ids.OPEN_EVENT].classes) == sample_ids.OPEN_CLASSES
    assert sample_ids.CLOSED_CLASS in {c.id for c in events[sample_ids.CLOSED_EVENT].classes}
    assert events[sample_ids.OPEN_EVENT].registration_opens_at < now
    assert events[sample_ids.CLOSED_EVENT].registration_closes_at < now


def test_selftest_credentials_are_the_services_own_secrets() -> None:
    settings = Settings(
        environment="test",
        stripe_webhook_secrets="whsec_a,whsec_b",
        jwt_key="k" * 40,
        jwt_audience="eventpay-api",
        paypal_webhook_id="WH-X",
    )
    credentials = selftest_credentials(settings)

    assert credentials.stripe_webhook_secret == "whsec_a"  # the one the sandbox signs with
    assert (credentials.paypal_webhook_id, credentials.jwt_audience) == ("WH-X", "eventpay-api")
    token = credentials.token(MEMBER_ID, "competitor")
    principal = decode_token(
        token, key="k" * 40, algorithm="HS256", audience="eventpay-api", ip_address=None
    )
    assert principal.user_id == MEMBER_ID
    assert "whsec_a" not in repr(credentials)
