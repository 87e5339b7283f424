"""`/v1/reconciliation/{provider}`: the latest comparison with a provider's records (admins)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from eventpay.ports import ProviderName, ReconciliationRun
from eventpay.services import reconciliation
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET
from eventpay.web.schemas import MoneyOut

router = APIRouter(prefix="/v1/reconciliation", tags=["ledger"], responses=RATE_LIMITED_RESPONSE)


class MismatchOut(BaseModel):
    kind: str
    ref: str
    our_id: str | None
    ours: MoneyOut | None
    theirs: MoneyOut | None
    detail: str


class ReconciliationOut(BaseModel):
    id: str
    provider: str
    since: datetime
    until: datetime
    finished_at: datetime
    ours: int
    theirs: int
    clean: bool
    mismatches: list[MismatchOut]


class ReconcileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: datetime = Field(description="The start of the period (at most 31 days back).")


@router.post(
    "/{provider}", status_code=201, response_model=ReconciliationOut, dependencies=[READ_BUDGET]
)
async def run(
    provider: ProviderName, body: ReconcileIn, container: ContainerDep, caller: CallerDep
) -> ReconciliationOut:
    """Run a reconciliation now (admins; others 404) and answer with what it found."""
    since = body.since if body.since.tzinfo else body.since.replace(tzinfo=UTC)
    done = await run_in_threadpool(
        lambda: reconciliation.reconcile_for(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            provider=provider,
            since=since,
            now=container.clock(),
        )
    )
    return _out(done)


@router.get("/{provider}", response_model=ReconciliationOut, dependencies=[READ_BUDGET])
async def latest(
    provider: ProviderName, container: ContainerDep, caller: CallerDep
) -> ReconciliationOut:
    """The provider's latest `eventpay reconcile` run and every mismatch it found (admins;
    others 404)."""
    found = await run_in_threadpool(
        lambda: reconciliation.latest_for(
            uow_factory=container.uow_factory, caller=caller, provider=provider
        )
    )
    return _out(found)


def _out(run: ReconciliationRun) -> ReconciliationOut:
    return ReconciliationOut(
        id=run.id,
        provider=run.provider.value,
        since=run.since,
        until=run.until,
        finished_at=run.finished_at,
        ours=run.ours,
        theirs=run.theirs,
        clean=not run.mismatches,
        mismatches=[
            MismatchOut(
                kind=m.kind.value,
                ref=m.ref,
                our_id=m.our_id,
                ours=None if m.ours is None else MoneyOut.of(m.ours),
                theirs=None if m.theirs is None else MoneyOut.of(m.theirs),
                detail=m.detail,
            )
            for m in run.mismatches
        ],
    )
