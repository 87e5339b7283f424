"""Bearer tokens: the platform's claims are required and checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from eventpay.ports import Principal, Role
from eventpay.web.auth import InvalidToken, decode_token, issue_token

KEY = "unit-test-key-that-is-long-enough-for-hs256"


def _decode(token: str, audience: str | None = None) -> Principal:
    return decode_token(token, key=KEY, algorithm="HS256", audience=audience, ip_address="10.0.0.1")


def test_round_trip_keeps_claims_and_ip() -> None:
    token = issue_token(
        key=KEY, algorithm="HS256", subject="u1", role=Role.ORGANIZER, organizer_id="org-1"
    )
    principal = _decode(token)
    assert principal == decode_token(
        token, key=KEY, algorithm="HS256", audience=None, ip_address="10.0.0.1"
    )
    assert principal.user_id == "u1"
    assert principal.role is Role.ORGANIZER
    assert principal.organizer_id == "org-1"
    assert principal.ip_address == "10.0.0.1"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u1", "role": "pirate"},
        {"sub": "", "role": "competitor"},
        {"role": "competitor"},
        {"sub": "u1", "role": "organizer"},
        {"sub": "u1"},
    ],
)
def test_bad_claims_are_refused(claims: dict[str, object]) -> None:
    token = jwt.encode(
        {**claims, "exp": datetime.now(UTC) + timedelta(hours=1)}, KEY, algorithm="HS256"
    )
    with pytest.raises(InvalidToken):
        _decode(token)


def test_expired_wrong_key_and_alg_none_are_refused() -> None:
    expired = issue_token(
        key=KEY,
        algorithm="HS256",
        subject="u1",
        role=Role.COMPETITOR,
        now=datetime.now(UTC) - timedelta(days=30),
        ttl=timedelta(days=1),
    )
    with pytest.raises(InvalidToken):
        _decode(expired)
    forged = issue_token(
        key="another-key-that-is-long-enough-for-hs256",
        algorithm="HS256",
        subject="u1",
        role=Role.ADMIN,
    )
    with pytest.raises(InvalidToken):
        _decode(forged)
    unsigned = jwt.encode({"sub": "u1", "role": "admin", "exp": 4102444800}, None, algorithm="none")
    with pytest.raises(InvalidToken):
        _decode(unsigned)


def test_audience_is_checked_when_configured() -> None:
    token = jwt.encode(
        {"sub": "u1", "role": "competitor", "exp": 4102444800, "aud": "other"},
        KEY,
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken):
        _decode(token, audience="eventpay")
