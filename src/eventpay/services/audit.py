"""Audit records: every change of a payment, order or registration appends one.

Details are redacted here, at the single place rows are built, so no caller can forget:
anything whose key looks like a secret, token, client secret, signature or card field is
replaced, and so is any string that looks like a provider secret, a JWT or a bearer credential,
under whatever key and however deeply nested.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eventpay.ports import AuditEntry, PaymentRecord, Principal, RefundRecord, UnitOfWork

REDACTED = "[redacted]"
# Long markers are unambiguous anywhere in a key; short ones only as a whole word
# ("pan" must catch `card_pan`, not `company`).
_SENSITIVE_PARTS = ("secret", "token", "password", "authorization", "signature", "api_key")
_SENSITIVE_WORDS = frozenset({"card", "cvc", "cvv", "pan", "iban"})
_SECRET_PREFIXES = ("sk_", "rk_", "whsec_")
# A JWT (base64url header `{"...` = `eyJ`, payload, possibly empty signature) or an RFC 6750
# bearer credential anywhere in a string. Free text that merely says "bearer" followed by a word
# is redacted too: losing a harmless note is the cheaper mistake.
_TOKEN_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|\b(?i:bearer)\s+[A-Za-z0-9._~+/-]+=*"
)


def _words(key: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return {w for w in re.split(r"[^a-zA-Z0-9]+", spaced.lower()) if w}


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(m in lowered for m in _SENSITIVE_PARTS) or bool(_words(key) & _SENSITIVE_WORDS)


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if _is_sensitive(str(k)) else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and (
        "_secret_" in value
        or value.startswith(_SECRET_PREFIXES)
        or _TOKEN_IN_TEXT.search(value) is not None
    ):
        return REDACTED
    return value


def record(
    uow: UnitOfWork,
    *,
    entity_type: str,
    entity_id: str,
    action: str,
    actor: Principal | str,
    now: datetime,
    details: Mapping[str, Any] | None = None,
    payment_id: str | None = None,
    order_id: str | None = None,
) -> None:
    actor_id = actor if isinstance(actor, str) else actor.user_id
    ip_address = None if isinstance(actor, str) else actor.ip_address
    uow.audit.add(
        AuditEntry(
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            actor_id=actor_id,
            details=redact(dict(details or {})),
            created_at=now,
            payment_id=payment_id,
            order_id=order_id,
            ip_address=ip_address,
        )
    )


def record_payment(
    uow: UnitOfWork,
    payment: PaymentRecord,
    action: str,
    *,
    actor: Principal | str,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """An audit row about one payment attempt (linked to its order)."""
    record(
        uow,
        entity_type="payment",
        entity_id=payment.id,
        payment_id=payment.id,
        order_id=payment.order_id,
        action=action,
        actor=actor,
        now=now,
        details=details,
    )


def record_refund(
    uow: UnitOfWork,
    refund: RefundRecord,
    action: str,
    *,
    actor: Principal | str,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """An audit row about one refund attempt (linked to its payment and order)."""
    record(
        uow,
        entity_type="refund",
        entity_id=refund.id,
        payment_id=refund.payment_id,
        order_id=refund.order_id,
        action=action,
        actor=actor,
        now=now,
        details=details,
    )
