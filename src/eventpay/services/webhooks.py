"""Webhook ingestion and processing.

Ingest (on the request path) only verifies and stores: one row per (provider, event id), a
duplicate is a no-op, and the answer goes back in milliseconds. Processing happens in the
worker: an event is claimed, applied and marked processed in ONE transaction, so a crash
anywhere leaves it unprocessed (retried) and never half-applied; a failure is retried with
exponential backoff and, past the attempt limit, dead-lettered with its error kept for a
person to read and replay.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from eventpay.domain import PaymentStatus, backoff_delay, is_terminal
from eventpay.ports import (
    Clock,
    PaymentRecord,
    PaymentUpdate,
    PayoutItemUpdate,
    ProviderName,
    ProviderRegistry,
    UnitOfWork,
    UnitOfWorkFactory,
    WebhookEventRecord,
    WebhookStatus,
    WebhookVerifier,
    connect_of,
)
from eventpay.ports.capabilities import subscriptions_of
from eventpay.services.captures import capture_payment
from eventpay.services.errors import NotFound
from eventpay.services.settlement import apply_payment_update, apply_refund_update
from eventpay.services.settlement import connect as settlement_connect
from eventpay.services.settlement import memberships as settlement_memberships
from eventpay.services.settlement import sponsorships as settlement_sponsorships
from eventpay.services.settlement.payouts import apply_item_update

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter (`domain.backoff_delay`), then the dead letter.

    `jitter` draws the random part; many events failing together (a provider outage, a bad
    deploy) then come back spread out instead of all at once. `read_lease_s` is how long an
    event stays leased to one worker while the provider is read for it with no transaction
    open (longer than the provider client's timeout).
    """

    max_attempts: int = 8
    base_delay_s: float = 2.0
    max_delay_s: float = 3600.0
    read_lease_s: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def delay_after(self, attempts: int) -> timedelta:
        return backoff_delay(
            attempts=attempts,
            base=timedelta(seconds=self.base_delay_s),
            cap=timedelta(seconds=self.max_delay_s),
            jitter=self.jitter(),
        )


@dataclass(frozen=True, slots=True)
class IngestResult:
    event_id: str
    stored: bool


class UnmatchedPayment(Exception):
    """An event names a payment we cannot reconcile; it must reach a person, not vanish."""


def verify_event(
    *, verifier: WebhookVerifier, body: bytes, headers: Mapping[str, str], now: datetime
) -> WebhookEventRecord:
    """Verify one delivery and build the row that stores it; stores nothing.

    Raises `WebhookRejected` for a bad, stale or missing signature or a malformed body.
    """
    verified = verifier.verify(body, headers, now=now)
    return WebhookEventRecord(
        id=str(uuid.uuid4()),
        provider=verified.provider,
        event_id=verified.event_id,
        type=verified.type,
        payload=body.decode("utf-8"),
        status=WebhookStatus.PENDING,
        received_at=now,
        next_attempt_at=now,
    )


def ingest(
    *,
    uow_factory: UnitOfWorkFactory,
    verifier: WebhookVerifier,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> IngestResult:
    """Verify and store one delivery in its own transaction (the HTTP route batches instead)."""
    record = verify_event(verifier=verifier, body=body, headers=headers, now=now)
    with uow_factory() as uow:
        stored = uow.webhooks.insert_if_new(record)
        uow.commit()
    return IngestResult(event_id=record.event_id, stored=stored)


def store_events(
    *, uow_factory: UnitOfWorkFactory, events: Sequence[WebhookEventRecord]
) -> list[bool]:
    """Store verified events of many deliveries in ONE transaction (group commit).

    Returns, in order, whether each event was newly stored (False: a duplicate, already stored
    or delivered twice within this batch). When this returns, every event is durably stored;
    when it raises, the transaction rolled back and none of them may be acknowledged.
    """
    # Stripe may deliver one event on two connections at once. Only the first delivery in the
    # batch is offered to the database, so the insert never sees a key twice and exactly one
    # delivery is answered "stored", whichever process wins.
    first: dict[tuple[ProviderName, str], str] = {}
    for event in events:
        first.setdefault((event.provider, event.event_id), event.id)
    offered = sorted(
        (e for e in events if first[(e.provider, e.event_id)] == e.id),
        # The same key order in every batch keeps concurrent inserts from deadlocking.
        key=lambda e: (e.provider.value, e.event_id),
    )
    with uow_factory() as uow:
        inserted = uow.webhooks.insert_many_if_new(offered)
        uow.commit()
    return [event.id in inserted for event in events]


def _find_payment(
    uow: UnitOfWork, event: WebhookEventRecord, update: PaymentUpdate
) -> PaymentRecord | None:
    payment = uow.payments.by_provider_ref(event.provider, update.provider_ref, for_update=True)
    if payment is not None or update.payment_id_hint is None:
        return payment
    payment = uow.payments.get(update.payment_id_hint, for_update=True)
    if payment is None:
        return None
    if payment.provider is not event.provider or (
        payment.provider_ref is not None and payment.provider_ref != update.provider_ref
    ):
        raise UnmatchedPayment(
            f"event {event.event_id} names payment {payment.id} but a different provider object"
        )
    return payment


def _payout_update(
    provider: object, event_type: str, payload: Mapping[str, Any]
) -> PayoutItemUpdate | None:
    """The payout item a payouts event reports, from a provider that pays organizers out."""
    parse = getattr(provider, "parse_payout_event", None)
    if parse is None:
        return None
    update = parse(event_type, payload)
    return update if isinstance(update, PayoutItemUpdate) else None


def _apply(
    uow: UnitOfWork,
    event: WebhookEventRecord,
    providers: ProviderRegistry,
    now: datetime,
    read: Mapping[str, Any] | None = None,
) -> tuple[WebhookStatus, str | None]:
    """Apply one event; returns its resulting status and a payment to capture afterwards."""
    provider = providers.get(event.provider)
    if provider is None:
        raise RuntimeError(f"no {event.provider.value} provider is configured")
    payload = json.loads(event.payload)
    update = provider.parse_event(event.type, payload)
    connect = connect_of(provider)
    account = None if connect is None else connect.parse_account_event(event.type, payload)
    if account is not None:
        actor = f"{event.provider.value}-webhook"
        known = settlement_connect.account_event(uow, account, actor=actor, now=now)
        return (WebhookStatus.PROCESSED if known else WebhookStatus.IGNORED), None
    if update is None:
        refund_update = provider.parse_refund_event(event.type, payload)
        if refund_update is not None and apply_refund_update(
            uow,
            provider=event.provider,
            update=refund_update,
            actor=f"{event.provider.value}-webhook",
            now=now,
        ):
            return WebhookStatus.PROCESSED, None
        payout_update = _payout_update(provider, event.type, payload)
        if payout_update is not None and apply_item_update(
            uow,
            payout_update,
            provider=event.provider.value,
            actor=f"{event.provider.value}-webhook",
            now=now,
        ):
            return WebhookStatus.PROCESSED, None
        if settlement_memberships.apply_provider_event(
            uow,
            provider,
            name=event.provider,
            event_type=event.type,
            payload=payload,
            now=now,
            read=read,
        ):
            return WebhookStatus.PROCESSED, None
        if settlement_sponsorships.apply_provider_event(
            uow, provider, name=event.provider, event_type=event.type, payload=payload, now=now
        ):
            return WebhookStatus.PROCESSED, None
        return WebhookStatus.IGNORED, None
    payment = _find_payment(uow, event, update)
    if payment is None:
        if settlement_memberships.is_subscription_payment(provider, event.type, payload):
            if update.status is PaymentStatus.SUCCEEDED:
                settlement_memberships.record_subscription_charge(
                    uow, provider=event.provider, update=update, now=now
                )
                return WebhookStatus.PROCESSED, None
            return WebhookStatus.IGNORED, None
        if settlement_sponsorships.apply_provider_event(
            uow, provider, name=event.provider, event_type=event.type, payload=payload, now=now
        ):
            return WebhookStatus.PROCESSED, None
        if update.status is PaymentStatus.SUCCEEDED and not (
            settlement_sponsorships.is_invoice_payment(provider, event.type, payload)
        ):
            raise UnmatchedPayment(f"money received for unknown {update.provider_ref}")
        return WebhookStatus.IGNORED, None
    source = {"source": "webhook", "event_id": event.event_id, "event_type": event.type}
    apply_payment_update(
        uow, payment, update, actor=f"{event.provider.value}-webhook", now=now, source=source
    )
    needs_capture = update.capture_required and not is_terminal(payment.status)
    return WebhookStatus.PROCESSED, payment.id if needs_capture else None


def process_next(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    retry: RetryPolicy,
    only: str | None = None,
) -> WebhookEventRecord | None:
    """Claim and apply one due event; None when nothing is due.

    `only` names the stored event to apply (a replay), taken only if it is still due.

    An event that needs the provider read first (a PayPal subscription's plan) is leased, not
    let go: its `next_attempt_at` moves `retry.read_lease_s` ahead in a committed unit of work,
    so no other worker's claim takes it while the provider is read with no transaction open.
    Then it is claimed again by its id, only while it still carries this worker's lease, and
    applied with that read (`_read_then_process`). A failed read counts one attempt, for the
    lease holder only; a worker that dies mid-read frees the event when the lease ends.

    An approval (PayPal) is applied first and committed; the capture it calls for runs after
    the commit, outside any transaction, through `captures.capture_payment`.
    """
    return _process(
        uow_factory=uow_factory,
        providers=providers,
        clock=clock,
        retry=retry,
        claim=(lambda uow, now: uow.webhooks.claim_next(now=now))
        if only is None
        else (lambda uow, now: _claim_one(uow, only)),
    )


def _process(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    retry: RetryPolicy,
    claim: Callable[[UnitOfWork, datetime], WebhookEventRecord | None],
    read: Mapping[str, Any] | None = None,
    lease: datetime | None = None,
) -> WebhookEventRecord | None:
    now = clock()
    error: str | None = None
    to_read: str | None = None
    to_capture: str | None = None
    with uow_factory() as uow:
        event = claim(uow, now)
        if event is None:
            return None
        try:
            to_read = None if read is not None else _subscription_to_read(providers, event)
            if to_read is None:
                event.status, to_capture = _apply(uow, event, providers, now, read)
                event.attempts += 1
                event.processed_at = now
                event.last_error = None
            else:
                event.next_attempt_at = now + timedelta(seconds=retry.read_lease_s)
            uow.webhooks.save(event)
            uow.commit()
        except Exception as exc:
            uow.rollback()
            to_read = None
            error = f"{type(exc).__name__}: {exc}"[:2000]
    if to_read is not None:
        return _read_then_process(
            uow_factory=uow_factory,
            providers=providers,
            clock=clock,
            retry=retry,
            event=event,
            subscription_id=to_read,
        )
    if error is None:
        if to_capture is not None:
            # A failed capture is not the event's failure: the janitor retries the capture.
            try:
                capture_payment(
                    uow_factory=uow_factory,
                    providers=providers,
                    payment_id=to_capture,
                    actor=f"{event.provider.value}-webhook",
                    clock=clock,
                )
            except Exception:
                log.exception("payment.capture_after_approval_failed", payment_id=to_capture)
        return event
    return _record_failure(
        uow_factory=uow_factory, event_id=event.id, error=error, retry=retry, now=now, lease=lease
    )


def _subscription_to_read(providers: ProviderRegistry, event: WebhookEventRecord) -> str | None:
    provider = providers.get(event.provider)
    if provider is None or subscriptions_of(provider) is None:
        return None
    payload = json.loads(event.payload)
    return settlement_memberships.subscription_to_read(provider, event.type, payload)


def _read_then_process(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    retry: RetryPolicy,
    event: WebhookEventRecord,
    subscription_id: str,
) -> WebhookEventRecord | None:
    """Read the provider for the event `event` (leased until its `next_attempt_at`), then
    apply it if the lease is still ours; the event as it ends up."""
    lease = event.next_attempt_at
    billing = subscriptions_of(providers.get(event.provider))
    assert billing is not None
    try:
        read = billing.gateway.read_subscription(subscription_id)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        return _record_failure(
            uow_factory=uow_factory,
            event_id=event.id,
            error=error,
            retry=retry,
            now=clock(),
            lease=lease,
        )
    applied = _process(
        uow_factory=uow_factory,
        providers=providers,
        clock=clock,
        retry=retry,
        claim=lambda uow, _now: _claim_leased(uow, event.id, lease),
        read=read,
        lease=lease,
    )
    if applied is not None:
        return applied
    with uow_factory() as uow:
        current = uow.webhooks.get(event.id)
    return event if current is None else current


def _holds_lease(event: WebhookEventRecord, lease: datetime | None) -> bool:
    """Whether `event` is still due and still carries the lease `lease` (None: no lease)."""
    if lease is None:
        return True
    due = (WebhookStatus.PENDING, WebhookStatus.RETRYING)
    return event.status in due and event.next_attempt_at == lease


def _claim_leased(uow: UnitOfWork, event_row_id: str, lease: datetime) -> WebhookEventRecord | None:
    event = uow.webhooks.get(event_row_id, for_update=True)
    return event if event is not None and _holds_lease(event, lease) else None


def _record_failure(
    *,
    uow_factory: UnitOfWorkFactory,
    event_id: str,
    error: str,
    retry: RetryPolicy,
    now: datetime,
    lease: datetime | None = None,
) -> WebhookEventRecord | None:
    with uow_factory() as uow:
        event = uow.webhooks.get(event_id, for_update=True)
        if event is None or event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
            return event
        if not _holds_lease(event, lease):
            # The lease ran out and another worker holds the event now: its failure to count.
            return event
        event.attempts += 1
        event.last_error = error
        if event.attempts >= retry.max_attempts:
            event.status = WebhookStatus.DEAD
            log.error("webhook.dead_lettered", event_id=event.event_id, error=error)
        else:
            event.status = WebhookStatus.RETRYING
            event.next_attempt_at = now + retry.delay_after(event.attempts)
            log.warning("webhook.retry_scheduled", event_id=event.event_id, attempts=event.attempts)
        uow.webhooks.save(event)
        uow.commit()
        return event


def _claim_one(uow: UnitOfWork, event_row_id: str) -> WebhookEventRecord | None:
    event = uow.webhooks.get(event_row_id, for_update=True)
    due = (WebhookStatus.PENDING, WebhookStatus.RETRYING)
    return event if event is not None and event.status in due else None


def replay(
    *, uow_factory: UnitOfWorkFactory, event_row_id: str, now: datetime
) -> WebhookEventRecord:
    """Make a stored event due again (after a fix); applying it twice changes nothing."""
    with uow_factory() as uow:
        event = uow.webhooks.get(event_row_id, for_update=True)
        if event is None:
            raise NotFound("webhook_event_not_found", "No such stored webhook event.")
        event.status = WebhookStatus.PENDING
        event.next_attempt_at = now
        uow.webhooks.save(event)
        uow.commit()
        return event


def replay_now(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    retry: RetryPolicy,
    event_row_id: str,
) -> WebhookEventRecord:
    """Re-queue the stored event `event_row_id` and apply it at once; the event as it ends up.

    The re-queue is committed first, so should this process die a worker still applies it;
    then the worker's own `process_next` applies this one event (never another due one).
    Its status says how it went: processed or ignored, or retrying / dead with `last_error`.
    When a running worker applied it first, it is returned as that worker left it. Raises
    `NotFound` for an unknown row id.
    """
    replay(uow_factory=uow_factory, event_row_id=event_row_id, now=clock())
    applied = process_next(
        uow_factory=uow_factory, providers=providers, clock=clock, retry=retry, only=event_row_id
    )
    if applied is not None:
        return applied
    with uow_factory() as uow:
        event = uow.webhooks.get(event_row_id)
    if event is None:  # pragma: no cover - rows are never deleted
        raise NotFound("webhook_event_not_found", "No such stored webhook event.")
    return event
