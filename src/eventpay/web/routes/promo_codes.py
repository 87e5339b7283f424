"""An event's promo codes, for its organizer or an admin: create, list, disable.

Only the shape of the body is checked here (types, lengths, an aware datetime); the rules (one
kind of discount, 0 < percent <= 100, a window that ends after it starts, limits of at least
one, the event's currency) are the domain's, and their refusals name the field in
`error.details.field`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field, StrictInt

from eventpay.domain import Money
from eventpay.ports.promos import PromoCodeRecord
from eventpay.services import promo_codes
from eventpay.services.promo_codes import PromoCodeInput
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET, WRITE_BUDGET
from eventpay.web.schemas import MoneyIn, MoneyOut, Strict

router = APIRouter(tags=["promo codes"], responses=RATE_LIMITED_RESPONSE)


class PromoCodeIn(Strict):
    code: str = Field(
        min_length=1,
        max_length=100,
        description="3 to 64 letters, digits, '-' or '_'; stored upper-case (one spelling).",
    )
    percent_off: Decimal | None = Field(
        default=None,
        description='Percent off (15 or "12.5"): above 0, at most 100, two decimals at most. '
        "Exactly one of percent_off and amount_off.",
    )
    amount_off: StrictInt | MoneyIn | None = Field(
        default=None,
        description="A fixed amount off, in minor units of the event's currency, or a money "
        "object in that currency; never more than the lines it applies to.",
    )
    applies_to: str | None = Field(
        default=None,
        max_length=32,
        description='Only lines of this kind ("registration"); omitted: every priced line '
        "of the event.",
    )
    max_uses: StrictInt | None = Field(default=None, description="Uses in all; omitted: no limit.")
    max_uses_per_buyer: StrictInt | None = Field(
        default=None, description="Uses per buyer; omitted: no limit."
    )
    valid_from: AwareDatetime | None = Field(default=None, description="First valid instant.")
    valid_until: AwareDatetime | None = Field(
        default=None, description="End of validity (exclusive)."
    )

    def to_input(self) -> PromoCodeInput:
        amount, currency = (
            (self.amount_off.amount, self.amount_off.currency)
            if isinstance(self.amount_off, MoneyIn)
            else (self.amount_off, None)
        )
        return PromoCodeInput(
            code=self.code,
            percent_off=self.percent_off,
            amount_off=amount,
            amount_currency=currency,
            applies_to=self.applies_to,
            max_uses=self.max_uses,
            max_uses_per_buyer=self.max_uses_per_buyer,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )


class PromoCodeOut(BaseModel):
    id: str
    event_id: str
    code: str
    percent_off: Decimal | None
    amount_off: MoneyOut | None
    applies_to: str | None
    max_uses: int | None
    max_uses_per_buyer: int | None
    uses: int = Field(description="Uses held by orders not released (paid or still awaiting).")
    remaining: int | None = Field(description="Uses left; null: no total limit.")
    valid_from: datetime | None
    valid_until: datetime | None
    active: bool = Field(description="False once disabled.")
    disabled_at: datetime | None
    created_at: datetime
    created_by: str


class PromoCodeListOut(BaseModel):
    event_id: str
    promo_codes: list[PromoCodeOut]


def _out(promo: PromoCodeRecord, currency: str) -> PromoCodeOut:
    return PromoCodeOut(
        id=promo.id,
        event_id=promo.event_id,
        code=promo.code,
        percent_off=promo.percent_off,
        amount_off=None
        if promo.amount_off is None
        else MoneyOut.of(Money(promo.amount_off, currency)),
        applies_to=promo.applies_to,
        max_uses=promo.max_uses,
        max_uses_per_buyer=promo.max_uses_per_buyer,
        uses=promo.uses,
        remaining=promo.remaining,
        valid_from=promo.valid_from,
        valid_until=promo.valid_until,
        active=promo.disabled_at is None,
        disabled_at=promo.disabled_at,
        created_at=promo.created_at,
        created_by=promo.created_by,
    )


@router.post(
    "/v1/events/{event_id}/promo-codes",
    status_code=201,
    response_model=PromoCodeOut,
    dependencies=[WRITE_BUDGET],
)
async def create_promo_code(
    event_id: str, body: PromoCodeIn, container: ContainerDep, caller: CallerDep
) -> PromoCodeOut:
    """Create a promo code for the event (its organizer or an admin; anyone else 404
    `event_not_found`). 409 `promo_code_exists` when the event has a code so named; 422
    `invalid_promo_code` or `currency_mismatch` naming the field in `details.field`."""
    asked = body.to_input()
    created = await run_in_threadpool(
        lambda: promo_codes.create_promo_code(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            asked=asked,
            now=container.clock(),
        )
    )
    return _out(created.promo, created.currency)


@router.get(
    "/v1/events/{event_id}/promo-codes",
    response_model=PromoCodeListOut,
    dependencies=[READ_BUDGET],
)
async def list_promo_codes(
    event_id: str, container: ContainerDep, caller: CallerDep
) -> PromoCodeListOut:
    """Every code of the event, disabled ones too, with its uses and what remains."""
    found = await run_in_threadpool(
        lambda: promo_codes.list_promo_codes(
            uow_factory=container.uow_factory, caller=caller, event_id=event_id
        )
    )
    return PromoCodeListOut(
        event_id=found.event_id, promo_codes=[_out(p, found.currency) for p in found.codes]
    )


@router.delete(
    "/v1/events/{event_id}/promo-codes/{code}",
    response_model=PromoCodeOut,
    dependencies=[WRITE_BUDGET],
)
async def disable_promo_code(
    event_id: str, code: str, container: ContainerDep, caller: CallerDep
) -> PromoCodeOut:
    """Disable the code: buyers then get `unknown_promo_code`; uses already taken stay, and
    the code stays listed. Repeating it changes nothing. 404 `promo_code_not_found`."""
    disabled = await run_in_threadpool(
        lambda: promo_codes.disable_promo_code(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            code=code,
            now=container.clock(),
        )
    )
    return _out(disabled.promo, disabled.currency)
