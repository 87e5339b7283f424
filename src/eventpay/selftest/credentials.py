"""What the self-test knows as the service's operator: secrets, and what it makes with them.

The self-test is a black-box client: it learns nothing from the service's code or settings
object. Whoever starts it (the `eventpay selftest` command) hands it a `Credentials`: the JWT
key to mint development tokens with, the Stripe endpoint secret to sign deliveries with, the
PayPal sandbox client secret and webhook id. Tokens and Stripe signatures are made here the way
the identity provider and Stripe make them, with PyJWT and the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

COMPETITOR = "competitor"
ADMIN = "admin"
TOKEN_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Credentials:
    stripe_webhook_secret: str = field(repr=False)
    """The first Stripe endpoint secret the service accepts (`whsec_...`)."""
    paypal_client_secret: str = field(repr=False)
    paypal_webhook_id: str
    jwt_key: str = field(repr=False)
    """The key the service verifies bearer tokens with: a shared HS* secret."""
    jwt_algorithm: str = "HS256"
    jwt_audience: str | None = None

    def token(self, subject: str, role: str) -> str:
        """A bearer token with the platform's claims (`sub`, `role`), valid for an hour."""
        issued = datetime.now(UTC)
        claims: dict[str, object] = {
            "sub": subject,
            "role": role,
            "iat": int(issued.timestamp()),
            "exp": int((issued + TOKEN_TTL).timestamp()),
        }
        if self.jwt_audience is not None:
            claims["aud"] = self.jwt_audience
        return jwt.encode(claims, self.jwt_key, algorithm=self.jwt_algorithm)


def stripe_signature(body: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends: HMAC-SHA256 over `"{t}." + body`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
