"""The demo's printed tokens are ones its own API accepts."""

from __future__ import annotations

import pytest

from eventpay.config import Settings
from eventpay.demo import banner, demo_tokens
from eventpay.sample_data import MEMBER_ID, NON_MEMBER_ID
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
