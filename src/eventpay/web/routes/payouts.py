"""Organizer payouts: an organizer's payouts (for them or an admin), and the admin's controls:
run payouts now, hold or release an organizer's payouts, release an event's reserve early."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from eventpay.ports.payouts import PayoutRecord
from eventpay.services import payouts
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET, WRITE_BUDGET
from eventpay.web.schemas import MoneyOut, Strict

router = APIRouter(tags=["payouts"], responses=RATE_LIMITED_RESPONSE)


class PayoutOut(BaseModel):
    id: str
    status: str = Field(
        description="created (booked, not yet accepted by the provider), sent, unclaimed "
        "(the receiver has no account yet), paid, failed or returned (the money is available "
        "again)."
    )
    amount: MoneyOut
    provider: str
    destination: str = Field(description="Where it was sent: the organizer's PayPal address.")
    period: str
    provider_status: str | None = Field(description="The provider's own word for the item.")
    provider_item_id: str | None = Field(description="The provider's id of the payout item.")
    failure_reason: str | None
    fee: MoneyOut | None = Field(description="The provider's fee, paid by the platform.")
    created_at: datetime
    updated_at: datetime


class PayoutListOut(BaseModel):
    organizer_id: str
    payouts: list[PayoutOut]


def _out(p: PayoutRecord) -> PayoutOut:
    return PayoutOut(
        id=p.id,
        status=p.status.value,
        amount=MoneyOut.of(p.amount),
        provider=p.provider,
        destination=p.destination,
        period=p.period,
        provider_status=p.provider_status,
        provider_item_id=p.provider_item_id,
        failure_reason=p.failure_reason,
        fee=None if p.fee is None else MoneyOut.of(p.fee),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


@router.get(
    "/v1/organizers/{organizer_id}/payouts",
    response_model=PayoutListOut,
    dependencies=[READ_BUDGET],
)
async def list_payouts(
    organizer_id: str, container: ContainerDep, caller: CallerDep
) -> PayoutListOut:
    """Every payout to the organizer, newest first, with where it is now. Another organizer's
    id answers 404 `organizer_not_found`."""
    found = await run_in_threadpool(
        lambda: payouts.list_payouts(
            uow_factory=container.uow_factory, caller=caller, organizer_id=organizer_id
        )
    )
    return PayoutListOut(organizer_id=organizer_id, payouts=[_out(p) for p in found])


class HoldIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class HoldOut(BaseModel):
    organizer_id: str
    on_hold: bool
    changed: bool


@router.put(
    "/v1/organizers/{organizer_id}/payout-hold",
    response_model=HoldOut,
    dependencies=[WRITE_BUDGET],
)
async def hold(
    organizer_id: str, body: HoldIn, container: ContainerDep, caller: CallerDep
) -> HoldOut:
    """Hold all of the organizer's payouts (admins; others 404): their balance stays owed and
    shows as `held`; audited with the reason."""
    changed = await run_in_threadpool(
        lambda: payouts.set_hold(
            uow_factory=container.uow_factory,
            caller=caller,
            organizer_id=organizer_id,
            on_hold=True,
            reason=body.reason,
            now=container.clock(),
        )
    )
    return HoldOut(organizer_id=organizer_id, on_hold=True, changed=changed)


@router.delete(
    "/v1/organizers/{organizer_id}/payout-hold",
    response_model=HoldOut,
    dependencies=[WRITE_BUDGET],
)
async def release(organizer_id: str, container: ContainerDep, caller: CallerDep) -> HoldOut:
    """Release an admin's hold on the organizer's payouts (admins; others 404); audited."""
    changed = await run_in_threadpool(
        lambda: payouts.set_hold(
            uow_factory=container.uow_factory,
            caller=caller,
            organizer_id=organizer_id,
            on_hold=False,
            reason=None,
            now=container.clock(),
        )
    )
    return HoldOut(organizer_id=organizer_id, on_hold=False, changed=changed)


class ReserveReleaseOut(BaseModel):
    event_id: str
    released: bool = Field(description="False when the reserve had already been released.")


@router.post(
    "/v1/events/{event_id}/reserve-release",
    response_model=ReserveReleaseOut,
    dependencies=[WRITE_BUDGET],
)
async def release_reserve(
    event_id: str, body: HoldIn, container: ContainerDep, caller: CallerDep
) -> ReserveReleaseOut:
    """Release what the event's orders earned for payout before its reserve period ends
    (admins; others 404); audited with the reason."""
    released = await run_in_threadpool(
        lambda: payouts.release_reserve(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            reason=body.reason,
            now=container.clock(),
        )
    )
    return ReserveReleaseOut(event_id=event_id, released=released)


class PayoutRunIn(Strict):
    period: str | None = Field(
        default=None,
        max_length=64,
        description="The period paid (default: today's UTC date). One payout per organizer, "
        "currency and period, however many runs.",
    )
    dry_run: bool = False
    organizer_ids: list[str] | None = Field(default=None, max_length=1000)


class PlannedOut(BaseModel):
    organizer_id: str
    currency: str
    available: MoneyOut
    held: MoneyOut
    pending: MoneyOut
    outcome: str
    payout_id: str | None


class PayoutRunOut(BaseModel):
    run_id: str
    period: str
    dry_run: bool
    lines: list[PlannedOut]
    sent: int
    failed: int
    unsent: int


@router.post(
    "/v1/payouts/runs",
    response_model=PayoutRunOut,
    status_code=201,
    dependencies=[WRITE_BUDGET],
)
async def run(body: PayoutRunIn, container: ContainerDep, caller: CallerDep) -> PayoutRunOut:
    """Run payouts now, as `eventpay payouts run` does (admins; others 404)."""
    report = await run_in_threadpool(
        lambda: payouts.run_for(
            uow_factory=container.uow_factory,
            rails=container.payout_rails,
            clock=container.clock,
            caller=caller,
            period=body.period,
            dry_run=body.dry_run,
            organizer_ids=body.organizer_ids,
        )
    )
    return PayoutRunOut(
        run_id=report.run_id,
        period=report.period,
        dry_run=report.dry_run,
        lines=[
            PlannedOut(
                organizer_id=line.organizer_id,
                currency=line.currency,
                available=MoneyOut.of(line.position.available),
                held=MoneyOut.of(line.position.held),
                pending=MoneyOut.of(line.position.pending),
                outcome=line.outcome,
                payout_id=line.payout_id,
            )
            for line in report.lines
        ],
        sent=report.sent,
        failed=report.failed,
        unsent=report.unsent,
    )


class ResolutionIn(Strict):
    outcome: Literal["paid", "failed"] = Field(
        description="What the provider shows: the money reached the organizer, or never left."
    )
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/v1/payouts/{payout_id}/resolution",
    response_model=PayoutOut,
    dependencies=[WRITE_BUDGET],
)
async def resolve(
    payout_id: str, body: ResolutionIn, container: ContainerDep, caller: CallerDep
) -> PayoutOut:
    """Settle by hand a payout left `needs_review` (its batch went unanswered past the
    provider's key window, so it is never sent again blind), after checking the provider
    (admins; others 404). `failed` makes the money available again. Audited; any other payout
    answers 409 `payout_not_in_review`."""
    payout = await run_in_threadpool(
        lambda: payouts.resolve_review(
            uow_factory=container.uow_factory,
            caller=caller,
            payout_id=payout_id,
            paid=body.outcome == "paid",
            reason=body.reason,
            now=container.clock(),
        )
    )
    return _out(payout)
