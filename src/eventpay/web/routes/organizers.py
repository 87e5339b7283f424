"""`/v1/organizers/{organizer_id}/...`: an organizer's money, for them or an admin."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from eventpay.services import organizer_money
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET
from eventpay.web.schemas import OrganizerBalanceOut, organizer_balance_out

router = APIRouter(prefix="/v1/organizers", tags=["organizers"], responses=RATE_LIMITED_RESPONSE)


@router.get(
    "/{organizer_id}/balance",
    response_model=OrganizerBalanceOut,
    dependencies=[READ_BUDGET],
)
async def balance(
    organizer_id: str, container: ContainerDep, caller: CallerDep
) -> OrganizerBalanceOut:
    """Per currency: `available` (owed now), `held` and `pending` (payouts, later), from the
    ledger. Another organizer's id answers 404 `organizer_not_found`."""
    balances = await run_in_threadpool(
        lambda: organizer_money.balance(
            uow_factory=container.uow_factory, caller=caller, organizer_id=organizer_id
        )
    )
    return organizer_balance_out(organizer_id, balances)
