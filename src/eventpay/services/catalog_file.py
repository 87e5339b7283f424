"""What importing a catalog file's products shares (`catalog_products`, `catalog_merch`): the
import's unit of work lent to the organizer's use cases, refusals named by their path in the
file, and what each product's import did.

A use case run through `joined(uow)` works in the import's transaction: its own `commit` and
the end of its block change nothing, so the file is applied whole or not at all, and a dry run
is the same run rolled back. What must not live here: a rule about any product.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, cast

from eventpay.domain import Event, Money
from eventpay.domain.catalog_rules import Change
from eventpay.domain.errors import MoneyError
from eventpay.ports import UnitOfWork, UnitOfWorkFactory
from eventpay.services.errors import Conflict, InvalidRequest, ServiceError

__all__ = ["ProductEdit", "at", "class_id", "differs", "joined", "money", "renamed"]


@dataclass(frozen=True, slots=True)
class ProductEdit:
    """What the import did (or would do) to one product."""

    kind: str  # "gate", "pass_type", "vip", "teams", "product", "sponsor_package", ...
    name: str
    event_id: str | None
    action: str  # "create", "update", "unchanged"
    changes: dict[str, Change] = field(default_factory=dict)


class _Joined:
    """The import's unit of work lent to a use case: its `commit` and the end of its block
    leave the transaction open for the rest of the file (the import commits once, or not)."""

    def __init__(self, outer: UnitOfWork) -> None:
        self._outer = outer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outer, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


def joined(uow: UnitOfWork) -> UnitOfWorkFactory:
    return lambda: cast(UnitOfWork, _Joined(uow))


@contextmanager
def at(path: str) -> Iterator[None]:
    """Name where in the file a refusal comes from: `details.field` becomes the full path."""
    try:
        yield
    except ServiceError as exc:
        inner = str(exc.details.get("field") or "")
        if inner.startswith(path):
            raise
        where = f"{path}.{inner}" if inner else path
        exc.details["field"] = where
        if inner and exc.message.startswith(f"{inner}"):
            exc.message = f"{path}.{exc.message}"
        else:
            exc.message = f"{where}: {exc.message}"
        exc.args = (exc.message,)
        raise


def renamed(exc: ServiceError, names: Mapping[str, str]) -> ServiceError:
    """`exc` with the field it names as the file names it (`names`: prefix to prefix)."""
    inner = str(exc.details.get("field") or "")
    for theirs, ours in names.items():
        if inner == theirs or inner.startswith((f"{theirs}.", f"{theirs}[")):
            exc.details["field"] = ours + inner[len(theirs) :]
            exc.message = exc.message.replace(inner, exc.details["field"], 1)
            exc.args = (exc.message,)
            break
    return exc


def differs(kind: str, name: str, diff: Mapping[str, Change]) -> Conflict:
    fields = ", ".join(sorted(diff))
    return Conflict(
        "product_differs",
        f"{kind} {name!r} exists with another {fields}; it cannot be edited by a file (create "
        "one under a new name, or change it through the API where it can be).",
        {"fields": sorted(diff)},
    )


def money(amount: int, currency: str | None, event: Event) -> Money:
    """A price as the file gives it (`currency` None: the event's), for comparing."""
    try:
        return Money(amount, (currency or event.currency).lower())
    except MoneyError as exc:
        raise InvalidRequest("invalid_price", str(exc), {"field": "price"}) from None


def class_id(event: Event, key: str) -> str:
    """A class named by its id or, for convenience, its code."""
    if any(c.id == key for c in event.classes):
        return key
    found = [c.id for c in event.classes if c.code.lower() == key.lower()]
    return found[0] if len(found) == 1 else key
