"""Stripe's own record of money movements: balance transactions, as reconciliation reads them.

A charge (`charge` / `payment`) is money in, its `source` the charge id (our payment's
`capture_id`) and its `fee` what Stripe kept; a refund (`refund` / `payment_refund`) is money
out, its `source` the refund id (our refund's provider id). Everything else on the balance
(payouts, transfers, Stripe's own fees, adjustments) is not matched against orders and is
skipped here. Pages are followed to the end: a reconciliation must see every movement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from eventpay.domain.reconciliation import Movement
from eventpay.providers.stripe_currency import StripeUnitsError, from_stripe
from eventpay.providers.stripe_errors import malformed

_PAYMENTS = frozenset({"charge", "payment"})
_REFUNDS = frozenset({"refund", "payment_refund"})


def _source(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def to_movement(transaction: Mapping[str, Any]) -> Movement | None:
    """One balance transaction as a movement; None for kinds reconciliation does not match."""
    kind = transaction.get("type")
    ref = _source(transaction.get("source"))
    if ref is None or kind not in _PAYMENTS | _REFUNDS:
        return None
    try:
        amount = from_stripe(transaction.get("amount"), transaction.get("currency"))
        fee = from_stripe(transaction.get("fee", 0), transaction.get("currency"))
    except StripeUnitsError as exc:
        raise malformed(f"balance transaction {transaction.get('id')}: {exc}") from None
    if kind in _PAYMENTS:
        return Movement(ref=ref, kind="payment", amount=amount, fee=fee)
    return Movement(ref=ref, kind="refund", amount=amount)


def movements(
    fetch: Callable[[dict[str, Any]], Mapping[str, Any]],
    *,
    since: datetime,
    until: datetime,
    page_size: int,
) -> Iterator[Movement]:
    """Every matched movement created in [since, until); `fetch` reads one page."""
    params: dict[str, Any] = {
        "created": {"gte": int(since.timestamp()), "lt": int(until.timestamp())},
        "limit": page_size,
    }
    while True:
        page = fetch(dict(params))
        data = page.get("data")
        if not isinstance(data, list):
            raise malformed("a list of balance transactions without its data")
        for item in data:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                raise malformed("a balance transaction without an id")
            movement = to_movement(item)
            if movement is not None:
                yield movement
        if not page.get("has_more"):
            return
        if not data:
            raise malformed("an empty page of balance transactions that has more")
        params["starting_after"] = data[-1]["id"]
