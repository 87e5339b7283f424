"""Reading providers' fees after the fact, one due item at a time (janitor tasks).

Stripe reports what it kept of a charge only on its balance transaction, never in the events
that pay an invoice, so membership charges and sponsor payments have their fee read later, with
no transaction open, and booked (or their next read scheduled) in a transaction of their own.
One item that cannot be read or booked, for whatever reason, is logged by its error's type (an
SDK message may quote request data) and rescheduled; the items after it go on, or the oldest
would block every later one until all fell out of the reading window.

What must not live here: which items are due (each caller's SQL) and the posting (settlement).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import structlog

from eventpay.domain import Money
from eventpay.ports import ProviderOutcomeUnknown, ProviderRejected

log = structlog.get_logger(__name__)

Item = TypeVar("Item")


def read_each(
    due: Sequence[Item],
    *,
    read: Callable[[Item], Money | None],
    book: Callable[[Item, Money | None], bool],
    names: Callable[[Item], Mapping[str, str]],
    event: str,
) -> int:
    """Read and book each item's fee (`book(item, None)` schedules its next read); how many
    fees were booked. Log events are `<event>_read_failed`, `_read_error`, `_book_error` and
    `_reschedule_error`, with the item's `names`."""
    booked = 0
    for item in due:
        fee: Money | None = None
        try:
            fee = read(item)
        except (ProviderOutcomeUnknown, ProviderRejected) as exc:
            log.info(f"{event}_read_failed", **names(item), code=exc.code)
        except Exception as exc:
            log.warning(f"{event}_read_error", **names(item), error=type(exc).__name__)
        try:
            booked += int(book(item, fee))
        except Exception as exc:
            log.warning(f"{event}_book_error", **names(item), error=type(exc).__name__)
            if fee is not None:
                try:
                    book(item, None)
                except Exception as again:
                    log.warning(
                        f"{event}_reschedule_error", **names(item), error=type(again).__name__
                    )
    return booked
