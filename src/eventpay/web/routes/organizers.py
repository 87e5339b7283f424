"""`/v1/organizers/{organizer_id}/...`: an organizer's balance and statement, for them or an
admin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from eventpay.services import organizer_money
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET
from eventpay.web.schemas import (
    OrganizerBalanceOut,
    StatementOut,
    organizer_balance_out,
    statement_csv,
    statement_out,
)
from eventpay.web.statement_pdf import statement_pdf

router = APIRouter(prefix="/v1/organizers", tags=["organizers"], responses=RATE_LIMITED_RESPONSE)


@router.get(
    "/{organizer_id}/balance",
    response_model=OrganizerBalanceOut,
    dependencies=[READ_BUDGET],
)
async def balance(
    organizer_id: str, container: ContainerDep, caller: CallerDep
) -> OrganizerBalanceOut:
    """Per currency: `available` (what the next payout pays), `held` (reserves until after
    events, or an admin's hold) and `pending` (payouts on their way), from the ledger.
    Another organizer's id answers 404 `organizer_not_found`."""
    balances = await run_in_threadpool(
        lambda: organizer_money.balance(
            uow_factory=container.uow_factory,
            caller=caller,
            organizer_id=organizer_id,
            now=container.clock(),
        )
    )
    return organizer_balance_out(organizer_id, balances)


@router.get(
    "/{organizer_id}/statement",
    response_model=StatementOut,
    dependencies=[READ_BUDGET],
    responses={
        200: {
            "description": "JSON by default; CSV with `Accept: text/csv`; a PDF document with "
            "`Accept: application/pdf`.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def statement(
    organizer_id: str,
    request: Request,
    container: ContainerDep,
    caller: CallerDep,
    since: Annotated[datetime, Query(alias="from")],
    until: Annotated[datetime, Query(alias="to")],
) -> Response:
    """Every transaction that changed what the organizer is owed in [from, to), per currency,
    between the opening and closing balances, then what holds their money back now (an admin's
    hold, each event's reserve until it ends); CSV with `Accept: text/csv`, PDF with
    `Accept: application/pdf`. Another organizer's id answers 404 `organizer_not_found`."""
    start = since if since.tzinfo else since.replace(tzinfo=UTC)
    end = until if until.tzinfo else until.replace(tzinfo=UTC)
    sections = await run_in_threadpool(
        lambda: organizer_money.statement(
            uow_factory=container.uow_factory,
            caller=caller,
            organizer_id=organizer_id,
            since=start,
            until=end,
        )
    )
    held = await run_in_threadpool(
        lambda: organizer_money.held_now(
            uow_factory=container.uow_factory,
            caller=caller,
            organizer_id=organizer_id,
            now=container.clock(),
        )
    )
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            statement_csv(sections, held),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="statement-{organizer_id}.csv"'},
        )
    if "application/pdf" in request.headers.get("accept", ""):
        document = await run_in_threadpool(
            lambda: statement_pdf(
                organizer_id=organizer_id,
                organizer_name=organizer_money.organizer_name(
                    uow_factory=container.uow_factory, caller=caller, organizer_id=organizer_id
                ),
                since=start,
                until=end,
                sections=sections,
                generated_at=container.clock(),
                held=held,
            )
        )
        return Response(
            document,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="statement-{organizer_id}.pdf"'},
        )
    out = statement_out(organizer_id, start, end, sections, held)
    return Response(out.model_dump_json(by_alias=True), media_type="application/json")
