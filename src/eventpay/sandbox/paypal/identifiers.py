"""Identifiers and timestamps that look like PayPal's, and nothing else.

PayPal ids have recognisable shapes that adapters sometimes validate or log: 17-character
upper-case order, capture and refund ids, 13-character payer and payout ids drawn from the
alphabet without 0, 1, I and O, `WH-` event ids, `INV2-` invoice ids, 13-hex debug ids.
Timestamps are RFC 3339 UTC with whole seconds (`2024-05-01T12:00:00Z`), which is what the
specifications' `date_time` pattern accepts. Pure functions; no sandbox state.
"""

from __future__ import annotations

import itertools
import secrets
import string
import threading
import uuid
from datetime import UTC, datetime, timedelta

_UPPER_ALNUM = string.ascii_uppercase + string.digits
# PayPal's `account_id` pattern is ^[2-9A-HJ-NP-Z]{13}$: no 0, 1, I or O.
_ACCOUNT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

_dispute_numbers = itertools.count(100001)
_dispute_lock = threading.Lock()


def _draw(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def resource_id() -> str:
    """An order, capture or refund id such as `5O190127TN364715T`."""
    return _draw(_UPPER_ALNUM, 17)


def account_id() -> str:
    """A payer id or merchant id such as `QYR5Z8XDVJNXQ`."""
    return _draw(_ACCOUNT_ALPHABET, 13)


def payout_id() -> str:
    """A payout batch or payout item id (13 characters)."""
    return _draw(_ACCOUNT_ALPHABET, 13)


def debug_id() -> str:
    """PayPal's per-response correlation id (`PayPal-Debug-Id`, `debug_id` in errors)."""
    return secrets.token_hex(7)[:13]


def event_id() -> str:
    """A webhook event id such as `WH-58D329510W468432D-8HN650336L201105X`."""
    return f"WH-{_draw(_UPPER_ALNUM, 17)}-{_draw(_UPPER_ALNUM, 17)}"


def dispute_id() -> str:
    """A dispute id such as `PP-D-100001` (sequential per process, like PayPal's case numbers)."""
    with _dispute_lock:
        return f"PP-D-{next(_dispute_numbers)}"


def invoice_id() -> str:
    """An invoice id such as `INV2-Z56S-5LLA-Q52L-CPZ5` (24 characters, under the 30 allowed)."""
    return "INV2-" + "-".join(_draw(_UPPER_ALNUM, 4) for _ in range(4))


def access_token() -> str:
    """An opaque OAuth access token in the `A21AA...` style."""
    return "A21AA" + secrets.token_urlsafe(66)


def transmission_id() -> str:
    """A webhook transmission id (PayPal sends a UUID)."""
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """`2024-05-01T12:00:00Z`: UTC, whole seconds, `Z` suffix."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp(days_from_now: float = 0.0) -> str:
    """The current time (or a time `days_from_now` away) as RFC 3339."""
    return rfc3339(now() + timedelta(days=days_from_now))


def today() -> str:
    """The current UTC date, `YYYY-MM-DD` (invoice and payment dates)."""
    return now().strftime("%Y-%m-%d")
