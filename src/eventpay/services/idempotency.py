"""API idempotency keys: the same key and body replay the first response, exactly.

A key is claimed (inserted) before the request runs, with a lease. While the lease is live a
second request with the key gets `idempotency_key_in_use`; a different body gets
`idempotency_key_reused` (JSON bodies are compared in canonical form, so whitespace and key
order do not count); after completion the stored status and body are replayed byte for byte.
A 5xx result is not stored (the key is released) so the client can retry; a lease left by a
crashed process expires and the next request takes the key over.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventpay.ports import IdempotencyRecord, UnitOfWorkFactory
from eventpay.services.errors import Conflict, InvalidRequest

# Longer than the slowest handler can run (a PayPal create with a token refresh and a read-back,
# each bounded by a 10 s timeout, plus database waits), so a live request is never taken over.
LEASE = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: str


def canonical_body(body: bytes) -> bytes:
    """A JSON body in one spelling (sorted keys, no spaces); any other body as it came.

    A client retrying with the same key may re-serialise the same payload with other whitespace
    or key order; that is the same request, not a reused key. A canonical form is valid JSON, a
    body left as it came is not, so the two can never be mistaken for each other.
    """
    try:
        text = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except (ValueError, RecursionError):
        return body
    # A JSON string may carry a lone surrogate ("\ud800"), which strict UTF-8 cannot encode.
    return text.encode("utf-8", "surrogatepass")


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical_body(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def begin(
    *,
    uow_factory: UnitOfWorkFactory,
    principal: str,
    key: str,
    request_fingerprint: str,
    now: datetime,
) -> StoredResponse | None:
    """Claim `key`; returns the stored response to replay, or None when the caller proceeds."""
    if not 1 <= len(key) <= 255:
        raise InvalidRequest("invalid_idempotency_key", "Idempotency-Key must be 1-255 characters.")
    with uow_factory() as uow:
        claimed = uow.idempotency.insert_if_new(
            IdempotencyRecord(
                principal=principal,
                key=key,
                fingerprint=request_fingerprint,
                created_at=now,
                locked_until=now + LEASE,
            )
        )
        if claimed:
            uow.commit()
            return None
        existing = uow.idempotency.get(principal, key, for_update=True)
        if existing is None:  # pragma: no cover - released between insert and read
            raise Conflict("idempotency_key_in_use", "A request with this key is still running.")
        if existing.fingerprint != request_fingerprint:
            raise InvalidRequest(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.",
            )
        if existing.response_status is not None and existing.response_body is not None:
            return StoredResponse(status=existing.response_status, body=existing.response_body)
        if existing.locked_until is not None and existing.locked_until > now:
            raise Conflict("idempotency_key_in_use", "A request with this key is still running.")
        existing.locked_until = now + LEASE
        uow.idempotency.save(existing)
        uow.commit()
        return None


def complete(
    *, uow_factory: UnitOfWorkFactory, principal: str, key: str, status: int, body: str
) -> None:
    with uow_factory() as uow:
        if status >= 500:
            uow.idempotency.delete(principal, key)
        else:
            uow.idempotency.finish(principal, key, status=status, body=body)
        uow.commit()
