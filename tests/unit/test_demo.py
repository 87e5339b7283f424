"""The demo's printed tokens are ones its own API accepts."""

from __future__ import annotations

import pytest

from eventpay.config import Settings
from eventpay.demo import demo_tokens
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
