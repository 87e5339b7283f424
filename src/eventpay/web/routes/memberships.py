"""Memberships over HTTP: `/v1/membership-tiers` (public) and `/v1/me/membership` (the caller's).

Thin: the platform's tiers and dunning policy come from settings (`MembershipRules`), the use
cases are `services.memberships`. Subscribing answers 201 with what the buyer needs to pay the
first period: a Stripe `client_secret` (confirmed like an order's payment, 3-D Secure included)
or a PayPal `approve_url`. Cancelling and changing tier answer the membership as it stands; the
provider's events then move it. A PayPal tier change also answers the `approve_url` where the
buyer consents to the revision; the tier moves when PayPal says it was approved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from eventpay.bootstrap import Container
from eventpay.domain.membership_status import DunningPolicy
from eventpay.domain.membership_tiers import MembershipTier
from eventpay.ports import ProviderName
from eventpay.services import memberships
from eventpay.services.memberships import MembershipRules, MembershipView
from eventpay.web.deps import CallerDep, ContainerDep, RawBodyDep
from eventpay.web.idempotency import respond_idempotently
from eventpay.web.rate_limits import (
    PUBLIC_BUDGET,
    RATE_LIMITED_RESPONSE,
    READ_BUDGET,
    WRITE_BUDGET,
)

router = APIRouter(prefix="/v1", tags=["memberships"], responses=RATE_LIMITED_RESPONSE)


def rules_of(container: Container) -> MembershipRules:
    settings = container.settings
    return MembershipRules(
        tiers=settings.tiers, policy=DunningPolicy(grace_days=settings.membership_grace_days)
    )


class PriceOut(BaseModel):
    amount: int = Field(description="Minor units.")
    currency: str


class TierOut(BaseModel):
    code: str
    name: str
    price: PriceOut
    interval: str = Field(description="`year` or `month`.")
    rank: int = Field(description="Position from the cheapest tier (0).")
    member_pricing: bool = Field(description="Whether members of this tier pay member prices.")


def _tier(tier: MembershipTier) -> TierOut:
    return TierOut(
        code=tier.code,
        name=tier.name,
        price=PriceOut(amount=tier.price.amount, currency=tier.price.currency.upper()),
        interval=tier.interval.value,
        rank=tier.rank,
        member_pricing=tier.gives_member_pricing,
    )


class TiersOut(BaseModel):
    tiers: list[TierOut]


class MembershipOut(BaseModel):
    id: str
    provider: str
    provider_subscription_id: str = Field(
        description="The subscription at the provider (Stripe sub_..., PayPal I-...)."
    )
    status: str = Field(
        description="incomplete, active, cancel_at_period_end, past_due, in_grace, cancelled "
        "or expired, as of now."
    )
    tier_code: str = Field(description="The member's tier, as stored.")
    tier: TierOut | None = Field(
        description="The tier's details; null when the platform no longer sells it."
    )
    paid_through: datetime | None = Field(description="The end of the latest paid period.")
    member_pricing_until: datetime | None = Field(
        description="When member prices stop if nothing more is paid (grace included); null "
        "when they do not apply now."
    )
    next_payment_at: datetime | None = Field(
        description="The renewal or the provider's next retry, when one is due."
    )
    cancel_at_period_end: bool
    failed_attempts: int = Field(
        description="Failed attempts to charge the period now unpaid (0 when none)."
    )
    created_at: datetime


def _membership(view: MembershipView) -> MembershipOut:
    record = view.record
    return MembershipOut(
        id=record.id,
        provider=record.provider.value,
        provider_subscription_id=record.provider_subscription_id,
        status=view.status.value,
        tier_code=view.tier_code,
        tier=None if view.tier is None else _tier(view.tier),
        paid_through=record.state.paid_through,
        member_pricing_until=view.member_pricing_until,
        next_payment_at=view.next_payment_at,
        cancel_at_period_end=record.state.cancel_requested,
        failed_attempts=0 if record.state.dunning is None else record.state.dunning.attempts,
        created_at=record.created_at,
    )


class MyMembershipOut(BaseModel):
    membership: MembershipOut | None = Field(description="The current one; null when none.")
    history: list[MembershipOut] = Field(description="Every subscription, newest first.")


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str = Field(min_length=1, max_length=32)
    provider: Literal["stripe", "paypal"]
    return_url: str | None = Field(
        default=None,
        max_length=2000,
        description="PayPal: where the buyer returns after approving (default: this API).",
    )

    @field_validator("return_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value


class SubscribedOut(BaseModel):
    membership: MembershipOut
    client_secret: str | None = Field(
        description="Stripe: confirm the first payment with this, as for an order."
    )
    approve_url: str | None = Field(description="PayPal: send the buyer here to approve.")


class ChangedOut(MembershipOut):
    approve_url: str | None = Field(
        description="PayPal: send the buyer here to approve the new tier; it applies once "
        "PayPal confirms. Null when the change is already made (Stripe, prorated)."
    )


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str = Field(min_length=1, max_length=32)


@router.get("/membership-tiers", response_model=TiersOut, dependencies=[PUBLIC_BUDGET])
async def list_tiers(container: ContainerDep) -> TiersOut:
    """The tiers the platform sells, cheapest first."""
    return TiersOut(tiers=[_tier(t) for t in container.settings.tiers])


@router.get("/me/membership", response_model=MyMembershipOut, dependencies=[READ_BUDGET])
async def my_membership(container: ContainerDep, caller: CallerDep) -> MyMembershipOut:
    """The caller's membership as of now, and every subscription they had."""
    views = await run_in_threadpool(
        lambda: memberships.my_memberships(
            uow_factory=container.uow_factory,
            caller=caller,
            rules=rules_of(container),
            clock=container.clock,
        )
    )
    history = [_membership(v) for v in views]
    return MyMembershipOut(membership=history[0] if history else None, history=history)


@router.post(
    "/me/membership",
    status_code=201,
    response_model=SubscribedOut,
    dependencies=[WRITE_BUDGET],
)
async def subscribe(
    body: SubscribeIn,
    request: Request,
    container: ContainerDep,
    caller: CallerDep,
    raw: RawBodyDep,
) -> Response:
    """Start a paid membership; 409 `already_subscribed` while one is live,
    `subscribe_in_progress` while another request of the caller is starting one. With an
    `Idempotency-Key`, a retry answers the first response again (and the provider is asked
    with a key derived from it)."""
    default = f"{container.settings.base_url}/v1/me/membership"
    key = request.headers.get("idempotency-key")

    def handler() -> tuple[int, SubscribedOut]:
        view, start = memberships.subscribe(
            uow_factory=container.uow_factory,
            providers=container.providers,
            provider=ProviderName(body.provider),
            caller=caller,
            tier_code=body.tier,
            return_url=body.return_url or default,
            cancel_url=body.return_url or default,
            rules=rules_of(container),
            clock=container.clock,
            idempotency_key=key,
        )
        return 201, SubscribedOut(
            membership=_membership(view),
            client_secret=start.client_secret,
            approve_url=start.approve_url,
        )

    return await respond_idempotently(request, container, caller, raw, handler)


@router.post("/me/membership/cancel", response_model=MembershipOut, dependencies=[WRITE_BUDGET])
async def cancel(container: ContainerDep, caller: CallerDep) -> MembershipOut:
    """End the membership at the paid period's end (no refund)."""
    view = await run_in_threadpool(
        lambda: memberships.cancel(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            rules=rules_of(container),
            clock=container.clock,
        )
    )
    return _membership(view)


@router.post("/me/membership/change", response_model=ChangedOut, dependencies=[WRITE_BUDGET])
async def change(body: ChangeIn, container: ContainerDep, caller: CallerDep) -> ChangedOut:
    """Move to another paid tier. Stripe prorates the rest of the period at once; PayPal answers
    an `approve_url` the buyer must follow, and the tier moves when PayPal confirms. 422
    `unknown_tier` for a tier the platform does not sell, 409 `same_tier`."""
    view, change = await run_in_threadpool(
        lambda: memberships.change_tier(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            tier_code=body.tier,
            rules=rules_of(container),
            clock=container.clock,
        )
    )
    return ChangedOut(**_membership(view).model_dump(), approve_url=change.approve_url)
