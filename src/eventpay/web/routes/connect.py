"""`/v1/organizers/{organizer_id}/stripe-account`: an organizer's Stripe connected account.

For that organizer or an admin; another organizer's id answers 404 `organizer_not_found`, as
for their balance. POST opens the account (once) and answers a fresh onboarding link; GET
answers its state (charges and payouts enabled, requirements due).
"""

from __future__ import annotations

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from eventpay.ports import ConnectedAccount
from eventpay.services import connect
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET, WRITE_BUDGET

router = APIRouter(prefix="/v1/organizers", tags=["organizers"], responses=RATE_LIMITED_RESPONSE)


def _absolute_http(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an absolute http(s) URL")
    return value


class OnboardingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _urls = field_validator("return_url", "refresh_url")(_absolute_http)

    return_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Where Stripe sends the organizer after onboarding (default: this API's "
        "GET of the account).",
    )
    refresh_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Where Stripe sends the organizer when the link was used or expired, to "
        "ask for a new one (default: the same as `return_url`).",
    )


class StripeAccountOut(BaseModel):
    account_id: str = Field(description="The Stripe connected account (acct_...).")
    onboarding_url: str | None = Field(
        description="A fresh single-use onboarding link (POST only; expires in minutes)."
    )
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str] = Field(description="What Stripe still needs from them.")


def _out(account: ConnectedAccount, url: str | None) -> StripeAccountOut:
    return StripeAccountOut(
        account_id=account.stripe_account_id,
        onboarding_url=url,
        charges_enabled=account.charges_enabled,
        payouts_enabled=account.payouts_enabled,
        details_submitted=account.details_submitted,
        requirements_due=list(account.requirements_due),
    )


@router.post(
    "/{organizer_id}/stripe-account",
    status_code=201,
    response_model=StripeAccountOut,
    responses={200: {"model": StripeAccountOut, "description": "The account existed already."}},
    dependencies=[WRITE_BUDGET],
)
async def start_onboarding(
    organizer_id: str,
    container: ContainerDep,
    caller: CallerDep,
    body: OnboardingIn | None = Body(default=None),
) -> JSONResponse:
    """Open the organizer's Express account (201) or find it (200), with a fresh link to
    onboard at Stripe."""
    default = f"{container.settings.base_url}/v1/organizers/{organizer_id}/stripe-account"
    given = body or OnboardingIn()
    return_url = given.return_url or default
    urls = connect.OnboardingUrls(
        return_url=return_url, refresh_url=given.refresh_url or return_url
    )
    started = await run_in_threadpool(
        lambda: connect.start_onboarding(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            organizer_id=organizer_id,
            urls=urls,
            clock=container.clock,
        )
    )
    out = _out(started.account, started.link.url)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if started.created else 200)


@router.get(
    "/{organizer_id}/stripe-account",
    response_model=StripeAccountOut,
    dependencies=[READ_BUDGET],
)
async def account_status(
    organizer_id: str, container: ContainerDep, caller: CallerDep
) -> StripeAccountOut:
    """The account's state; 404 `connected_account_not_found` before onboarding started."""
    account = await run_in_threadpool(
        lambda: connect.account_status(
            uow_factory=container.uow_factory, caller=caller, organizer_id=organizer_id
        )
    )
    return _out(account, None)
