"""`/v1/ledger/verify`: the books checked, for operators and auditors (admins only)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from eventpay.services import books
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET

router = APIRouter(prefix="/v1/ledger", tags=["ledger"], responses=RATE_LIMITED_RESPONSE)

SHOWN = 20


class LedgerVerifyOut(BaseModel):
    clean: bool
    orders: int = Field(description="Orders whose postings were checked against their attempts.")
    problems: list[str] = Field(description=f"The first {SHOWN} problems, first wrong first.")
    problem_count: int


@router.get("/verify", response_model=LedgerVerifyOut, dependencies=[READ_BUDGET])
async def verify(container: ContainerDep, caller: CallerDep) -> LedgerVerifyOut:
    """What `eventpay ledger verify` prints: every transaction balanced, every order's postings
    equal to what its payments and refunds say. Admins only (others: 404)."""
    report = await run_in_threadpool(
        lambda: books.verify_for(uow_factory=container.uow_factory, caller=caller)
    )
    return LedgerVerifyOut(
        clean=report.clean,
        orders=report.orders,
        problems=report.problems[:SHOWN],
        problem_count=len(report.problems),
    )
