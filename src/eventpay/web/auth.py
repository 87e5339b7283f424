"""Bearer JWT authentication with the platform's claims (`sub`, `role`, `organizer_id`).

Development tokens are signed with the development key by `eventpay token`; production runs
with the identity provider's verification key and refuses the development key (config.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from eventpay.ports import Principal, Role


class InvalidToken(Exception):
    pass


def issue_token(
    *,
    key: str,
    algorithm: str,
    subject: str,
    role: Role,
    organizer_id: str | None = None,
    audience: str | None = None,
    ttl: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if organizer_id is not None:
        claims["organizer_id"] = organizer_id
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, key, algorithm=algorithm)


def decode_token(
    token: str, *, key: str, algorithm: str, audience: str | None, ip_address: str | None
) -> Principal:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            options={"require": ["sub", "exp"], "verify_aud": audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 1 <= len(subject) <= 128:
        raise InvalidToken("bad subject")
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise InvalidToken("bad role") from None
    organizer_id = claims.get("organizer_id")
    if role is Role.ORGANIZER and not isinstance(organizer_id, str):
        raise InvalidToken("organizer token without organizer_id")
    return Principal(
        user_id=subject,
        role=role,
        organizer_id=organizer_id if isinstance(organizer_id, str) else None,
        ip_address=ip_address,
    )
