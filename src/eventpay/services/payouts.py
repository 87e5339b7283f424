"""Paying organizers: payout runs, following each payout to its end, holds and reserves.

A run (`run`, `eventpay payouts run` from cron on any number of machines, or an admin through
the API) pays every organizer with a payout address what is `available` to them now
(`domain.payouts.position`: payable less pending, less what is held). For each organizer and
currency it **claims** a payout for the run's period (a unique row: of several concurrent runs
exactly one wins, the others skip it) and books it as sent in the same unit of work, so the
money is no longer available to anyone else. Only then does it call the provider: one PayPal
Payouts batch per run and currency, whose `sender_batch_id` is derived from the run, so a retry
after a lost answer (the janitor's `check_due`) replays the same batch instead of paying twice.

The provider reports each item later (webhooks, handled by `settlement.payouts`, and polling
here): paid, unclaimed, failed or returned. Money that failed or came back is available again
at the next run, and the organizer reads why on their payout.

A dry run plans exactly the same payouts and writes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from eventpay.domain import Money
from eventpay.domain.payouts import PayablePosition, PayoutStatus, sent_posting
from eventpay.domain.schedule import may_resend_blind, next_check_at
from eventpay.ports import (
    Clock,
    PayoutBatch,
    PayoutItem,
    PayoutItemUpdate,
    PayoutOutcome,
    PayoutProvider,
    Principal,
    ProviderError,
    ProviderRejected,
    Role,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.ports.payouts import PayoutRecord, PayoutSettings
from eventpay.services.audit import record
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.payable import position_in
from eventpay.services.settlement.payouts import apply_item_update, facts, move_payout

log = structlog.get_logger(__name__)

PayoutRails = Mapping[str, PayoutProvider]
"""The providers that can pay organizers, by the name stored on a payout ("paypal")."""

PAYPAL = "paypal"
STRIPE = "stripe"
PERIOD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
EMAIL_SUBJECT = "You have a payout from the Car Audio Events Platform"
NEEDS_REVIEW = "needs_review"
RUN_GRACE = timedelta(hours=1)
"""How long a run may take to plan and send before the janitor sends its batches itself: it
must not send a batch the run is still filling (the same batch id with fewer items)."""
DUPLICATE_BATCH = "duplicate_batch"  # the provider already has a batch with our batch id


class PlanOutcome:
    PAY = "pay"
    CREATED = "created"
    ALREADY_PAID = "already_paid_this_period"
    NOTHING_AVAILABLE = "nothing_available"
    ON_HOLD = "on_hold"
    NO_DESTINATION = "no_payout_destination"
    NO_RAIL = "payout_provider_not_configured"


@dataclass(frozen=True, slots=True)
class PlannedPayout:
    organizer_id: str
    currency: str
    position: PayablePosition
    outcome: str
    provider: str | None = None
    payout_id: str | None = None

    @property
    def amount(self) -> Money:
        return self.position.available


@dataclass(slots=True)
class RunReport:
    run_id: str
    period: str
    dry_run: bool
    lines: list[PlannedPayout] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    unsent: int = 0  # the provider's answer was lost: the janitor sends the batch again

    def paid_lines(self) -> list[PlannedPayout]:
        return [
            line for line in self.lines if line.outcome in (PlanOutcome.PAY, PlanOutcome.CREATED)
        ]

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.paid_lines():
            out[line.currency] = out.get(line.currency, 0) + line.amount.amount
        return out


def _is_admin(caller: Principal) -> bool:
    return caller.role is Role.ADMIN


def check_access(uow: UnitOfWork, caller: Principal, organizer_id: str) -> None:
    """The organizer themself or an admin; anyone else, and an unknown id, NotFound."""
    mine = caller.role is Role.ORGANIZER and caller.organizer_id == organizer_id
    if not (_is_admin(caller) or mine) or uow.catalog.get_organizer(organizer_id) is None:
        raise NotFound("organizer_not_found", "No such organizer.", {"organizer_id": organizer_id})


def _require_admin(caller: Principal) -> None:
    if not _is_admin(caller):
        raise NotFound("not_found", "No such resource.")


def _period(period: str | None, now: datetime) -> str:
    chosen = period or now.date().isoformat()
    if not PERIOD.match(chosen):
        raise InvalidRequest(
            "invalid_period",
            "A payout period is 1-64 letters, digits, '.', '_', ':' or '-'.",
            {"period": chosen},
        )
    return chosen


def run(
    *,
    uow_factory: UnitOfWorkFactory,
    rails: PayoutRails,
    clock: Clock,
    actor: str,
    period: str | None = None,
    dry_run: bool = False,
    organizer_ids: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Pay every organizer (or those named) what is available to them, once per period."""
    now = clock()
    report = RunReport(
        run_id=f"pr_{uuid.uuid4().hex[:20]}", period=_period(period, now), dry_run=dry_run
    )
    with uow_factory() as uow:
        owed = uow.payouts.owed(organizer_ids=organizer_ids)
    for done, (organizer_id, currency) in enumerate(owed, start=1):
        report.lines.append(
            _plan_one(
                uow_factory=uow_factory,
                rails=rails,
                report=report,
                organizer_id=organizer_id,
                currency=currency,
                now=now,
                actor=actor,
            )
        )
        if progress is not None:
            progress(done, len(owed))
    if not dry_run:
        for provider, currency in sorted(
            {(str(line.provider), line.currency) for line in report.paid_lines()}
        ):
            sent, failed, unsent = _send_batch(
                uow_factory=uow_factory,
                rails=rails,
                batch_id=_batch_id(report.run_id, provider, currency),
                clock=clock,
                actor=actor,
            )
            report.sent += sent
            report.failed += failed
            report.unsent += unsent
    log.info(
        "payouts.run_finished",
        run_id=report.run_id,
        period=report.period,
        dry_run=dry_run,
        payouts=len(report.paid_lines()),
        sent=report.sent,
        failed=report.failed,
        unsent=report.unsent,
    )
    return report


def _batch_id(run_id: str, provider: str, currency: str) -> str:
    return f"{run_id}-{provider}-{currency}"


def _destination(
    uow: UnitOfWork, organizer_id: str, settings: PayoutSettings | None, rails: PayoutRails
) -> tuple[str, str] | None:
    """Where the organizer is paid: their connected Stripe account when it can take payouts
    (no payout fee, and their sales already go there), else their PayPal address."""
    if STRIPE in rails:
        account = uow.connect.get_account(organizer_id)
        if account is not None and account.payouts_enabled:
            return STRIPE, account.stripe_account_id
    if settings is not None and settings.paypal_email is not None:
        return PAYPAL, settings.paypal_email
    return None


def _plan_one(
    *,
    uow_factory: UnitOfWorkFactory,
    rails: PayoutRails,
    report: RunReport,
    organizer_id: str,
    currency: str,
    now: datetime,
    actor: str,
) -> PlannedPayout:
    with uow_factory() as uow:
        if not report.dry_run:
            uow.payouts.lock_organizer(organizer_id)
        found = position_in(uow, organizer_id, currency, now=now)
        settings = uow.payouts.settings(organizer_id)

        def line(
            outcome: str, provider: str | None = None, payout_id: str | None = None
        ) -> PlannedPayout:
            return PlannedPayout(organizer_id, currency, found, outcome, provider, payout_id)

        if settings is not None and settings.on_hold:
            return line(PlanOutcome.ON_HOLD)
        if not found.available.is_positive():
            return line(PlanOutcome.NOTHING_AVAILABLE)
        rail = _destination(uow, organizer_id, settings, rails)
        if rail is None:
            return line(PlanOutcome.NO_DESTINATION)
        provider, destination = rail
        if provider not in rails:
            return line(PlanOutcome.NO_RAIL, provider=provider)
        if report.dry_run:
            return line(PlanOutcome.PAY, provider=provider)
        payout = PayoutRecord(
            id=f"po_{uuid.uuid4().hex[:24]}",
            organizer_id=organizer_id,
            amount=found.available,
            provider=provider,
            destination=destination,
            status=PayoutStatus.CREATED,
            period=report.period,
            run_id=report.run_id,
            batch_id=_batch_id(report.run_id, provider, currency),
            created_at=now,
            updated_at=now,
            # The run sends its own batches; the janitor only takes over a run that died.
            next_check_at=now + RUN_GRACE,
        )
        if not uow.payouts.claim(payout):
            return line(PlanOutcome.ALREADY_PAID, provider=provider)
        uow.ledger.post(sent_posting(facts(payout)), at=now)
        record(
            uow,
            entity_type="payout",
            entity_id=payout.id,
            action="payout.created",
            actor=actor,
            now=now,
            details={
                "organizer_id": organizer_id,
                "amount": payout.amount.amount,
                "currency": currency,
                "period": report.period,
                "run_id": report.run_id,
                "provider": provider,
                "held": found.held.amount,
                "pending": found.pending.amount,
            },
        )
        uow.commit()
    return line(PlanOutcome.CREATED, provider=provider, payout_id=payout.id)


def _send_batch(
    *,
    uow_factory: UnitOfWorkFactory,
    rails: PayoutRails,
    batch_id: str,
    clock: Clock,
    actor: str,
) -> tuple[int, int, int]:
    """Send the batch's created payouts (again); (sent, failed, still unsent)."""
    with uow_factory() as uow:
        waiting = [p for p in uow.payouts.list_batch(batch_id) if p.status is PayoutStatus.CREATED]
    if not waiting:
        return 0, 0, 0
    rail = rails.get(waiting[0].provider)
    if rail is None:
        return 0, 0, len(waiting)
    now = clock()
    oldest = min(p.created_at for p in waiting)
    if not may_resend_blind(first_sent=oldest, now=now, window=rail.payout_key_window):
        # The provider may have forgotten our key: a resend could pay a second time. The
        # money stays on its way until a person checks the provider and settles it.
        return 0, 0, _needs_review(uow_factory, waiting, now)
    items = [
        PayoutItem(
            item_id=p.id,
            receiver=p.destination,
            amount=p.amount,
            note=f"Payout {p.id} for {p.period}",
        )
        for p in waiting
    ]
    try:
        batch = rail.create_payout(batch_id=batch_id, items=items, email_subject=EMAIL_SUBJECT)
    except ProviderRejected as exc:
        if exc.code == DUPLICATE_BATCH:
            # The provider already has this batch (our earlier call went through and its
            # replay window is over): it may pay, so it is never failed here. Follow the
            # original when the provider names it; else leave it to the janitor, loudly.
            original = getattr(exc, "provider_batch_id", None)
            log.error("payouts.batch_exists", batch_id=batch_id, provider_batch_id=original)
            if not isinstance(original, str):
                return 0, 0, _defer(uow_factory, waiting, clock())
            batch = PayoutBatch(batch_id=batch_id, provider_batch_id=original, status="PENDING")
            return _accepted(uow_factory, waiting, batch, clock(), actor), 0, 0
        now = clock()
        with uow_factory() as uow:
            for payout in waiting:
                current = uow.payouts.get(payout.id, for_update=True)
                if current is not None:
                    move_payout(
                        uow,
                        current,
                        PayoutStatus.FAILED,
                        actor=actor,
                        now=now,
                        reason=f"{exc.code}: {exc}",
                    )
            uow.commit()
        log.warning("payouts.batch_rejected", batch_id=batch_id, code=exc.code)
        return 0, len(waiting), 0
    except ProviderError as exc:
        log.warning("payouts.batch_outcome_unknown", batch_id=batch_id, code=exc.code)
        return 0, 0, _defer(uow_factory, waiting, clock())
    return _accepted(uow_factory, waiting, batch, clock(), actor), 0, 0


def _needs_review(
    uow_factory: UnitOfWorkFactory, waiting: Sequence[PayoutRecord], now: datetime
) -> int:
    with uow_factory() as uow:
        for payout in waiting:
            current = uow.payouts.get(payout.id, for_update=True)
            if current is None or current.status is not PayoutStatus.CREATED:
                continue
            current.provider_status = NEEDS_REVIEW
            current.next_check_at = now + timedelta(days=3650)
            current.updated_at = now
            uow.payouts.save(current)
            record(
                uow,
                entity_type="payout",
                entity_id=current.id,
                action="payout.needs_review",
                actor="janitor",
                now=now,
                details={
                    "batch_id": current.batch_id,
                    "why": "unsent past the provider's idempotency window; check the provider",
                },
            )
        uow.commit()
    log.error("payouts.needs_review", batch_id=waiting[0].batch_id, payouts=len(waiting))
    return len(waiting)


def _defer(uow_factory: UnitOfWorkFactory, waiting: Sequence[PayoutRecord], now: datetime) -> int:
    """Leave the batch's payouts `created` for the janitor to send again; how many."""
    with uow_factory() as uow:
        for payout in waiting:
            current = uow.payouts.get(payout.id, for_update=True)
            if current is not None and current.status is PayoutStatus.CREATED:
                _check_again(uow, current, now)
        uow.commit()
    return len(waiting)


def _check_again(uow: UnitOfWork, payout: PayoutRecord, now: datetime) -> None:
    """One more check done: the next one backs off (`domain.schedule`)."""
    payout.checks += 1
    payout.next_check_at = next_check_at(now=now, checks_done=payout.checks)
    payout.updated_at = now
    uow.payouts.save(payout)


def _accepted(
    uow_factory: UnitOfWorkFactory,
    waiting: Sequence[PayoutRecord],
    batch: PayoutBatch,
    now: datetime,
    actor: str,
) -> int:
    """The provider took the batch: its payouts are sent; how many moved."""
    sent = 0
    with uow_factory() as uow:
        for payout in waiting:
            current = uow.payouts.get(payout.id, for_update=True)
            if current is None:
                continue
            current.provider_batch_id = batch.provider_batch_id
            current.provider_status = batch.status[:32]
            current.checks = 0
            current.next_check_at = next_check_at(now=now, checks_done=1)
            sent += move_payout(
                uow,
                current,
                PayoutStatus.SENT,
                actor=actor,
                now=now,
                details={"provider_batch_id": batch.provider_batch_id},
            )
        for item in batch.items:  # a provider that settles at once says so in its answer
            if item.outcome is not PayoutOutcome.PENDING and item.provider_item_id is not None:
                apply_item_update(
                    uow,
                    PayoutItemUpdate(
                        provider_item_id=item.provider_item_id,
                        provider_batch_id=batch.provider_batch_id,
                        item_id=item.item_id,
                        batch_id=batch.batch_id,
                        status=item.status,
                        outcome=item.outcome,
                        amount=item.amount,
                        fee=None,
                        transaction_id=item.provider_item_id,
                        reason=item.reason,
                    ),
                    provider=waiting[0].provider,
                    actor=actor,
                    now=now,
                )
        uow.commit()
    return sent


def check_due(*, uow_factory: UnitOfWorkFactory, rails: PayoutRails, clock: Clock) -> int:
    """The janitor's task: send batches whose answer was lost, read payouts nobody reported
    on. Selects exactly the due payouts in SQL; returns how many it looked at."""
    now = clock()
    with uow_factory() as uow:
        due = uow.payouts.list_due(
            now=now,
            statuses=(PayoutStatus.CREATED, PayoutStatus.SENT, PayoutStatus.UNCLAIMED),
        )
    batches = sorted({p.batch_id for p in due if p.status is PayoutStatus.CREATED})
    for batch_id in batches:
        _send_batch(
            uow_factory=uow_factory, rails=rails, batch_id=batch_id, clock=clock, actor="janitor"
        )
    for payout in (p for p in due if p.status is not PayoutStatus.CREATED):
        try:
            _read_one(uow_factory=uow_factory, rails=rails, payout=payout, clock=clock)
        except ProviderError as exc:
            log.warning("payouts.read_failed", payout_id=payout.id, code=exc.code)
            _reschedule(uow_factory, payout.id, clock())
    return len(due)


def _read_one(
    *, uow_factory: UnitOfWorkFactory, rails: PayoutRails, payout: PayoutRecord, clock: Clock
) -> None:
    rail = rails.get(payout.provider)
    if rail is None:
        return
    item_id = payout.provider_item_id
    if item_id is None and payout.provider_batch_id is not None:
        batch = rail.get_payout(payout.provider_batch_id)
        item_id = next((i.provider_item_id for i in batch.items if i.item_id == payout.id), None)
    if item_id is None:
        _reschedule(uow_factory, payout.id, clock())
        return
    update = rail.get_payout_item(item_id)
    with uow_factory() as uow:
        apply_item_update(uow, update, provider=payout.provider, actor="janitor", now=clock())
        uow.commit()


def _reschedule(uow_factory: UnitOfWorkFactory, payout_id: str, now: datetime) -> None:
    with uow_factory() as uow:
        current = uow.payouts.get(payout_id, for_update=True)
        if current is None:
            return
        _check_again(uow, current, now)
        uow.commit()


# ------------------------------------------------------------------ reading and admin controls


def list_payouts(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, organizer_id: str
) -> list[PayoutRecord]:
    with uow_factory() as uow:
        check_access(uow, caller, organizer_id)
        return list(uow.payouts.list_for_organizer(organizer_id))


def set_hold(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    organizer_id: str,
    on_hold: bool,
    reason: str | None,
    now: datetime,
) -> bool:
    """An admin holds (or releases) all of an organizer's payouts; audited. Returns whether
    anything changed."""
    _require_admin(caller)
    if on_hold and not (reason and reason.strip()):
        raise InvalidRequest("reason_required", "Say why the payouts are held.", {"reason": ""})
    with uow_factory() as uow:
        check_access(uow, caller, organizer_id)
        settings = uow.payouts.settings(organizer_id)
        assert settings is not None  # check_access found the organizer
        if settings.on_hold == on_hold:
            return False
        uow.payouts.set_hold(organizer_id, on_hold=on_hold, reason=reason if on_hold else None)
        record(
            uow,
            entity_type="organizer",
            entity_id=organizer_id,
            action="payouts.held" if on_hold else "payouts.released",
            actor=caller,
            now=now,
            details={"reason": reason} if reason else {},
        )
        uow.commit()
    return True


def release_reserve(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    reason: str,
    now: datetime,
) -> bool:
    """An admin releases an event's reserve before its time (for example a trusted organizer
    whose event went well); audited. False when it was already released."""
    _require_admin(caller)
    if not reason.strip():
        raise InvalidRequest("reason_required", "Say why the reserve is released.", {})
    with uow_factory() as uow:
        event = uow.catalog.get_event(event_id)
        if event is None:
            raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
        if not uow.payouts.release_reserve(event_id, at=now):
            return False
        record(
            uow,
            entity_type="event",
            entity_id=event_id,
            action="payouts.reserve_released",
            actor=caller,
            now=now,
            details={
                "reason": reason,
                "organizer_id": event.organizer_id,
                "reserve_until": event.reserve_until.isoformat(),
            },
        )
        uow.commit()
    return True


def run_for(
    *,
    uow_factory: UnitOfWorkFactory,
    rails: PayoutRails,
    clock: Clock,
    caller: Principal,
    period: str | None,
    dry_run: bool,
    organizer_ids: Sequence[str] | None,
) -> RunReport:
    """`run`, for an admin through the API (others: NotFound)."""
    _require_admin(caller)
    return run(
        uow_factory=uow_factory,
        rails=rails,
        clock=clock,
        actor=f"admin:{caller.user_id}",
        period=period,
        dry_run=dry_run,
        organizer_ids=organizer_ids,
    )


def resolve_review(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    payout_id: str,
    paid: bool,
    reason: str,
    now: datetime,
) -> PayoutRecord:
    """An admin settles a payout left `needs_review` (unsent past the provider's key window)
    after checking the provider: it reached the organizer (`paid`), or it never left (failed:
    the money is available again). Audited with the reason; any other payout is refused."""
    _require_admin(caller)
    if not reason.strip():
        raise InvalidRequest("reason_required", "Say what the provider showed.", {})
    with uow_factory() as uow:
        payout = uow.payouts.get(payout_id, for_update=True)
        if payout is None:
            raise NotFound("payout_not_found", "No such payout.", {"payout_id": payout_id})
        if payout.provider_status != NEEDS_REVIEW or payout.status is not PayoutStatus.CREATED:
            raise Conflict(
                "payout_not_in_review",
                "Only a payout waiting for a person can be settled by hand.",
                {"status": payout.status.value, "provider_status": payout.provider_status},
            )
        target = PayoutStatus.PAID if paid else PayoutStatus.FAILED
        payout.provider_status = "resolved_by_admin"
        move_payout(
            uow,
            payout,
            target,
            actor=f"admin:{caller.user_id}",
            now=now,
            reason=None if paid else f"settled by an admin: {reason}",
            details={"resolution": reason},
        )
        uow.commit()
        return payout
