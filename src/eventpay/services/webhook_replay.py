"""Replaying one stored webhook event now, in this process (`eventpay webhooks replay ID`).

The event is re-queued first (`webhooks.replay`, committed: should this process die, a worker
still picks it up) and then applied by the worker's own `webhooks.process_next`, with a unit of
work whose claim can take only that event. So a replay claims, applies and marks the event in
one transaction, captures after an approval and records a failure exactly as the worker does,
and never applies some other due event instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from eventpay.ports import (
    AuditRepository,
    CatalogRepository,
    Clock,
    IdempotencyRepository,
    OrderRepository,
    PaymentRepository,
    ProviderRegistry,
    RefundRepository,
    UnitOfWork,
    UnitOfWorkFactory,
    WebhookEventRecord,
    WebhookEventRepository,
    WebhookStatus,
)
from eventpay.services import webhooks
from eventpay.services.errors import NotFound

_DUE = (WebhookStatus.PENDING, WebhookStatus.RETRYING)


class _OneEvent:
    """The webhook repository, except that `claim_next` claims only one event, if still due."""

    def __init__(self, inner: WebhookEventRepository, event_row_id: str) -> None:
        self._inner = inner
        self._event_row_id = event_row_id

    def claim_next(self, *, now: datetime) -> WebhookEventRecord | None:
        event = self._inner.get(self._event_row_id, for_update=True)
        return event if event is not None and event.status in _DUE else None

    def insert_if_new(self, event: WebhookEventRecord) -> bool:
        return self._inner.insert_if_new(event)

    def insert_many_if_new(self, events: Sequence[WebhookEventRecord]) -> set[str]:
        return self._inner.insert_many_if_new(events)

    def get(self, event_row_id: str, *, for_update: bool = False) -> WebhookEventRecord | None:
        return self._inner.get(event_row_id, for_update=for_update)

    def save(self, event: WebhookEventRecord) -> None:
        self._inner.save(event)

    def list(self, *, status: WebhookStatus | None, limit: int) -> Sequence[WebhookEventRecord]:
        return self._inner.list(status=status, limit=limit)


class _OneEventUnitOfWork:
    """`inner`, with its webhook repository narrowed to one event (see `_OneEvent`)."""

    catalog: CatalogRepository
    orders: OrderRepository
    payments: PaymentRepository
    refunds: RefundRepository
    audit: AuditRepository
    webhooks: WebhookEventRepository
    idempotency: IdempotencyRepository

    def __init__(self, inner: UnitOfWork, event_row_id: str) -> None:
        self._inner = inner
        self._event_row_id = event_row_id

    def __enter__(self) -> Self:
        # Repositories exist once the transaction has begun (the SQL unit of work opens its
        # session here), so they are borrowed only now.
        inner = self._inner.__enter__()
        self.catalog, self.orders, self.payments = inner.catalog, inner.orders, inner.payments
        self.refunds, self.audit, self.idempotency = inner.refunds, inner.audit, inner.idempotency
        self.webhooks = _OneEvent(inner.webhooks, self._event_row_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()


def replay_now(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    retry: webhooks.RetryPolicy,
    event_row_id: str,
) -> WebhookEventRecord:
    """Re-queue the stored event `event_row_id` and apply it at once; the event as it ends up.

    Its status says how it went: processed or ignored, or retrying / dead with `last_error`.
    When a running worker applied it first, it is returned as that worker left it. Raises
    `NotFound` for an unknown row id.
    """
    webhooks.replay(uow_factory=uow_factory, event_row_id=event_row_id, now=clock())

    def one_event_uow() -> UnitOfWork:
        return _OneEventUnitOfWork(uow_factory(), event_row_id)

    applied = webhooks.process_next(
        uow_factory=one_event_uow, providers=providers, clock=clock, retry=retry
    )
    if applied is not None:
        return applied
    with uow_factory() as uow:
        event = uow.webhooks.get(event_row_id)
    if event is None:  # pragma: no cover - rows are never deleted
        raise NotFound("webhook_event_not_found", "No such stored webhook event.")
    return event
