"""The janitor's tasks: finish whatever a lost answer, a lost webhook or a crash left open.

Each task selects exactly the due items in the database (`next_check_at <= now`, longest due
first, a bounded batch), asks the provider, and hands the answer to settlement; an item the
check did not settle is rescheduled with backoff (`domain.next_check_at`), so it moves behind
the others and never blocks them. A task never filters its batch in Python after the LIMIT.

- `resolve_unknown`: attempts whose outcome is unknown, and attempts still `created` with no
  provider object (the create answer was malformed, or the process died before recording it).
- `capture_approved`: PayPal attempts waiting for their buyer are read (the return and the
  webhook may both be lost), and approved ones are captured with the key every caller uses.
- `read_in_flight`: attempts whose money may be moving (`processing`, a PayPal capture left
  pending; a card attempt its buyer may have paid) are read, in case their webhook was lost.
- `read_fees`: succeeded payments whose provider fee is not in the ledger yet.
- `send_refunds`: pending refunds, sent or read (`refunds.execute_pending_refunds`).
- `send_transfers`: transfers of separate charges to connected accounts
  (`transfers.send_due_transfers`).
- `release_expired`: places of orders whose reservation expired unpaid are given back
  (`settlement.places.sweep_expired`), and their promo code uses.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from eventpay.domain import PaymentStatus
from eventpay.ports import (
    SYSTEM_ACTOR,
    Clock,
    OrderRecord,
    PaymentRecord,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRegistry,
    ProviderRejected,
    UnitOfWorkFactory,
)
from eventpay.services.captures import capture_payment
from eventpay.services.payment_calls import ReturnUrls, call_provider
from eventpay.services.refunds import execute_pending_refunds
from eventpay.services.settlement import places, record_provider_answer, reschedule_payment
from eventpay.services.transfers import send_due_reversals, send_due_transfers

log = structlog.get_logger(__name__)

BATCH = 50
"""How many due items one run of a task handles; the rest stay due for the next run."""
FEES_FOR = timedelta(days=30)
"""How long after creation a succeeded payment's provider fee is looked for."""
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
    key's window, `call_provider` looks for the object first). A create the provider refuses
    for good fails the attempt; a read it refuses changes nothing.
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
        try:
            resolved += _resolve_one(uow_factory, providers, payment, order, clock, urls)
        except Exception:
            log.exception("payment.resolve_failed", payment_id=payment.id)
            _reschedule_quietly(uow_factory, payment, clock)
    return resolved


def _resolve_one(
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment: PaymentRecord,
    order: OrderRecord | None,
    clock: Clock,
    urls: ReturnUrls | None,
) -> int:
    gateway = providers.get(payment.provider)
    if gateway is None or order is None:
        log.error("payment.provider_missing", payment_id=payment.id)
        reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
        return 0
    answer: ProviderPayment | ProviderRejected
    try:
        answer = call_provider(gateway, order, payment, urls=urls, now=clock())
    except ProviderOutcomeUnknown as exc:
        log.info("payment.still_unknown", payment_id=payment.id, code=exc.code)
        reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
        return 0
    except ProviderRejected as exc:
        if payment.provider_ref is not None:  # a read refused: says nothing about the money
            log.info("payment.read_refused", payment_id=payment.id, code=exc.code)
            reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
            return 0
        answer = exc  # the create itself was refused: the attempt failed
    record_provider_answer(
        uow_factory=uow_factory,
        payment_id=payment.id,
        answer=answer,
        actor=SYSTEM_ACTOR,
        now=clock(),
    )
    return 1


def _reschedule_quietly(
    uow_factory: UnitOfWorkFactory, payment: PaymentRecord, clock: Clock
) -> None:
    """Back an item off after an unexpected error, so it cannot block the queue's head; a
    failure here too (the database is down) is only logged, and the next run retries."""
    try:
        reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
    except Exception:
        log.exception("payment.reschedule_failed", payment_id=payment.id)


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
        _read_one(uow_factory, providers, payment, clock)
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
            _reschedule_quietly(uow_factory, after, clock)
    return len(approved)


def read_in_flight(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Read attempts whose money may be moving while their webhook was lost or dead-lettered.

    `processing` attempts (a bank debit, a PayPal capture left PENDING) are read until they
    settle, however long that takes, backing off to daily; attempts a buyer confirms in the
    browser (Stripe: `created`, `requires_action`) are read for `READ_FOR` after creation, as
    their buyer may have paid with the success event lost. Returns how many reads answered.
    """
    now = clock()
    due: list[PaymentRecord] = []
    with uow_factory() as uow:
        for name, gateway in providers.items():
            in_browser = gateway.capabilities.client_confirmation
            due += uow.payments.list_due(
                now=now,
                statuses=[PaymentStatus.PROCESSING],
                provider=name,
                linked=True,
                # PayPal's approved attempts with no capture yet are `capture_approved`'s.
                captured=None if in_browser else True,
                limit=limit,
            )
            if in_browser:
                due += uow.payments.list_due(
                    now=now,
                    statuses=[PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION],
                    provider=name,
                    linked=True,
                    created_after=now - READ_FOR,
                    limit=limit,
                )
    return sum(_read_one(uow_factory, providers, payment, clock) for payment in due)


def _read_one(
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    payment: PaymentRecord,
    clock: Clock,
) -> int:
    """Read one attempt and apply what changed; back it off when nothing did. 1 if read."""
    gateway = providers.get(payment.provider)
    if gateway is None or payment.provider_ref is None:  # pragma: no cover - selected linked
        return 0
    try:
        answer = gateway.retrieve_payment(payment.provider_ref)
        if answer.status is payment.status:
            # Still where it was (with the buyer, or the money on its way): ask again later.
            reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
        else:
            record_provider_answer(
                uow_factory=uow_factory,
                payment_id=payment.id,
                answer=answer,
                actor="janitor",
                now=clock(),
                source={"source": "janitor_read"},
            )
        return 1
    except (ProviderOutcomeUnknown, ProviderRejected) as exc:
        log.info("payment.read_failed", payment_id=payment.id, code=exc.code)
    except Exception:
        log.exception("payment.read_error", payment_id=payment.id)
    _reschedule_quietly(uow_factory, payment, clock)
    return 0


def read_fees(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    clock: Clock,
    limit: int = BATCH,
) -> int:
    """Read succeeded payments whose provider fee is not in the ledger yet (Stripe reports it
    on the charge's balance transaction, not in the success event), for `FEES_FOR` after
    creation; settlement posts the fee once. Returns how many fees were found."""
    now = clock()
    with uow_factory() as uow:
        due = uow.payments.list_due(
            now=now,
            statuses=[PaymentStatus.SUCCEEDED],
            linked=True,
            created_after=now - FEES_FOR,
            fee_unknown=True,
            limit=limit,
        )
    found = 0
    for payment in due:
        gateway = providers.get(payment.provider)
        try:
            answer = None
            if gateway is not None and payment.provider_ref is not None:
                answer = gateway.retrieve_payment(payment.provider_ref)
            if answer is None or answer.fee is None:
                reschedule_payment(uow_factory, payment.id, clock(), status=payment.status)
                continue
            record_provider_answer(
                uow_factory=uow_factory,
                payment_id=payment.id,
                answer=answer,
                actor="janitor",
                now=clock(),
                source={"source": "fee_read"},
            )
            found += 1
        except (ProviderOutcomeUnknown, ProviderRejected) as exc:
            log.info("payment.fee_read_failed", payment_id=payment.id, code=exc.code)
            _reschedule_quietly(uow_factory, payment, clock)
        except Exception:
            log.exception("payment.fee_read_error", payment_id=payment.id)
            _reschedule_quietly(uow_factory, payment, clock)
    return found


def send_refunds(
    *, uow_factory: UnitOfWorkFactory, providers: ProviderRegistry, clock: Clock
) -> int:
    """Send the due pending refunds and read the acknowledged ones; how many got an answer."""
    return execute_pending_refunds(uow_factory=uow_factory, providers=providers, clock=clock)


def send_transfers(
    *, uow_factory: UnitOfWorkFactory, providers: ProviderRegistry, clock: Clock
) -> int:
    """Send the due transfers of separate charges to connected accounts, then the reversals
    their refunds call for; how many of either were made."""
    sent = send_due_transfers(uow_factory=uow_factory, providers=providers, clock=clock)
    return sent + send_due_reversals(uow_factory=uow_factory, providers=providers, clock=clock)


def release_expired(*, uow_factory: UnitOfWorkFactory, clock: Clock, limit: int = BATCH) -> int:
    """Give back the places of reservations that expired unpaid (longest expired first, at
    most `limit` places' orders per run); how many places were released."""
    return places.sweep_expired(uow_factory, actor=SYSTEM_ACTOR, now=clock(), limit=limit)
