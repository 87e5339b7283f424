"""The janitor's tasks: finish whatever a lost answer, a lost webhook or a crash left open.

Each task selects exactly the due items in the database (`next_check_at <= now`, longest due
first, a bounded batch), asks the provider, and hands the answer to settlement; an item the
check did not settle is rescheduled with backoff (`domain.next_check_at`), so it moves behind
the others and never blocks them. A task never filters its batch in Python after the LIMIT.

- `resolve_unknown`: attempts whose outcome is unknown, and attempts still `created` with no
  provider object (the create answer was malformed, or the process died before recording it).
- `capture_approved`: PayPal attempts waiting for their buyer are read (the return and the
  webhook may both be lost), and approved ones are captured with the key every caller uses.
- `send_refunds`: pending refunds, sent or read (`refunds.execute_pending_refunds`).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from eventpay.domain import PaymentStatus
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    PaymentRecord,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services.captures import capture_payment
from eventpay.services.payment_calls import ReturnUrls, call_provider
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import record_provider_answer, reschedule_payment

log = structlog.get_logger(__name__)

BATCH = 50
"""How many due items one run of a task handles; the rest stay due for the next run."""
READ_FOR = timedelta(hours=72)
"""How long after creation a PayPal attempt waiting for its buyer is read; later, only a
webhook can settle it (PayPal orders expire unapproved long before that)."""


def resolve_unknown(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    urls: ReturnUrls | None = None,
    limit: int = BATCH,
) -> int:
    """Ask providers about attempts with no known outcome; returns how many were resolved.

    Re-sending the create with the stored idempotency key is safe: the provider replays its
    first answer, or creates the object now if the first call never arrived (and past the
    key's window, `call_provider` looks for the object first).
    """
    now = clock()
    with uow_factory() as uow:
        due = [
            *uow.payments.list_due(now=now, statuses=[PaymentStatus.UNKNOWN], limit=limit),
            *uow.payments.list_due(
                now=now, statuses=[PaymentStatus.CREATED], linked=False, limit=limit
            ),
        ]
        work = [(payment, uow.orders.get(payment.order_id)) for payment in due]
    resolved = 0
    for payment, order in work:
        gateway = providers.get(payment.provider)
        if gateway is None or order is None:
            log.error("payment.provider_missing", payment_id=payment.id)
            reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
            continue
        try:
            answer = call_provider(gateway, order, payment, urls=urls, now=clock())
        except (ProviderOutcomeUnknown, ProviderRejected) as exc:
            log.info("payment.still_unknown", payment_id=payment.id, code=exc.code)
            reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
            continue
        except Exception:
            log.exception("payment.resolve_failed", payment_id=payment.id)
            reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
            continue
        record_provider_answer(
            uow_factory=uow_factory,
            payment_id=payment.id,
            answer=answer,
            actor=SYSTEM_ACTOR,
            now=clock(),
        )
        resolved += 1
    return resolved


def capture_approved(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Finish PayPal checkouts whose buyer return or webhook never came (or failed).

    First, due attempts still waiting for the buyer are read from PayPal: one the buyer
    approved meanwhile moves to `processing` (a completed one to `succeeded`). Then every due
    approved attempt without a capture is captured. Returns how many captures were tried.
    """
    gateway = providers.get(ProviderName.PAYPAL)
    if gateway is None:
        return 0
    now = clock()
    with uow_factory() as uow:
        waiting = uow.payments.list_due(
            now=now,
            statuses=[PaymentStatus.REQUIRES_ACTION],
            provider=ProviderName.PAYPAL,
            created_after=now - READ_FOR,
            limit=limit,
        )
    for payment in waiting:
        _read_waiting(uow_factory, providers, payment, clock)
    now = clock()
    with uow_factory() as uow:
        approved = uow.payments.list_due(
            now=now,
            statuses=[PaymentStatus.PROCESSING],
            provider=ProviderName.PAYPAL,
            captured=False,
            limit=limit,
        )
    for payment in approved:
        try:
            after = capture_payment(
                uow_factory=uow_factory,
                providers=providers,
                payment_id=payment.id,
                actor="janitor",
                clock=clock,
            )
        except Exception:
            log.exception("payment.janitor_capture_failed", payment_id=payment.id)
            after = payment
        if after.status is PaymentStatus.PROCESSING and after.capture_id is None:
            reschedule_payment(uow_factory, payment.id, clock(), status=PaymentStatus.PROCESSING)
    return len(approved)


def _read_waiting(
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment: PaymentRecord,
    clock: Clock,
) -> None:
    gateway = providers.get(payment.provider)
    if gateway is None or payment.provider_ref is None:  # pragma: no cover - checked above
        return
    try:
        answer = gateway.retrieve_payment(payment.provider_ref)
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.read_failed", payment_id=payment.id, code=exc.code)
        answer = None
    if answer is None or answer.status is PaymentStatus.REQUIRES_ACTION:
        # Still with the buyer: asked again later, backing off.
        reschedule_payment(uow_factory, payment.id, clock(), status=PaymentStatus.REQUIRES_ACTION)
        return
    record_provider_answer(
        uow_factory=uow_factory,
        payment_id=payment.id,
        answer=answer,
        actor="janitor",
        now=clock(),
    )


def send_refunds(
    *, uow_factory: UnitOfWorkFactory, providers: ProviderRegistry, clock: Clock
) -> int:
    """Send the due pending refunds and read the acknowledged ones; how many got an answer."""
    return execute_pending_refunds(uow_factory=uow_factory, providers=providers, clock=clock)
