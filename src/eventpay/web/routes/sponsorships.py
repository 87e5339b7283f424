"""Sponsor packages and the sponsorships invoiced for them.

Packages: an event's organizer (or an admin) creates them, anyone lists them with what is left.
Sponsorships: the organizer invoices a package to a sponsor through PayPal or Stripe, lists
them (`?status=overdue` for the unpaid ones past their due date) and cancels an unpaid one.
Another organizer's event answers 404 `event_not_found`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictInt

from eventpay.ports.identity import ProviderName
from eventpay.ports.sponsorships import SponsorPackage
from eventpay.services import sponsorships
from eventpay.services.sponsorships import PackageInput, SponsorshipView
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import (
    PUBLIC_BUDGET,
    RATE_LIMITED_RESPONSE,
    READ_BUDGET,
    WRITE_BUDGET,
)
from eventpay.web.schemas import MoneyOut, Strict

router = APIRouter(tags=["sponsorships"], responses=RATE_LIMITED_RESPONSE)


class PackageIn(Strict):
    kind: Literal["title", "class", "booth"]
    name: str = Field(min_length=1, max_length=200)
    price: StrictInt = Field(description="Minor units of the event's currency.")
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    quantity: StrictInt = Field(default=1, description="How many can be sold.")


class PackageOut(BaseModel):
    id: str
    event_id: str
    kind: str
    name: str
    price: MoneyOut
    quantity: int
    left: int


class SponsorIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)


class SponsorshipIn(Strict):
    package_id: str = Field(min_length=1, max_length=64)
    sponsor: SponsorIn
    provider: Literal["paypal", "stripe"]
    net_days: StrictInt = Field(default=30, ge=1, le=90)


class SponsorshipOut(BaseModel):
    id: str
    event_id: str
    package_id: str
    sponsor: dict[str, str]
    status: str
    overdue: bool
    provider: str
    provider_invoice_id: str | None
    invoice_url: str | None = Field(description="Where the sponsor pays the invoice.")
    amount: MoneyOut
    paid: MoneyOut
    due_date: date
    activated_at: datetime | None
    created_at: datetime


class SponsorshipListOut(BaseModel):
    event_id: str
    sponsorships: list[SponsorshipOut]


def _package(package: SponsorPackage, left: int) -> PackageOut:
    return PackageOut(
        id=package.id,
        event_id=package.event_id,
        kind=package.kind.value,
        name=package.name,
        price=MoneyOut.of(package.price),
        quantity=package.quantity,
        left=left,
    )


def _out(view: SponsorshipView) -> SponsorshipOut:
    s = view.sponsorship
    return SponsorshipOut(
        id=s.id,
        event_id=s.event_id,
        package_id=s.package_id,
        sponsor={"name": s.sponsor_name, "email": s.sponsor_email},
        status=s.status.value,
        overdue=view.overdue,
        provider=s.provider.value,
        provider_invoice_id=s.provider_invoice_id,
        invoice_url=s.invoice_url,
        amount=MoneyOut(amount=s.amount.amount, currency=s.amount.currency),
        paid=MoneyOut(amount=s.paid, currency=s.amount.currency),
        due_date=s.due_date,
        activated_at=s.activated_at,
        created_at=s.created_at,
    )


@router.post(
    "/v1/events/{event_id}/sponsor-packages",
    status_code=201,
    response_model=PackageOut,
    dependencies=[WRITE_BUDGET],
)
async def create_package(
    event_id: str, body: PackageIn, container: ContainerDep, caller: CallerDep
) -> PackageOut:
    """A sponsor package of the event (its organizer or an admin). 422 naming the field."""
    asked = PackageInput(body.kind, body.name, body.price, body.quantity, body.currency)
    created = await run_in_threadpool(
        lambda: sponsorships.create_package(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            asked=asked,
            clock=container.clock,
        )
    )
    return _package(created, created.quantity)


@router.get(
    "/v1/events/{event_id}/sponsor-packages",
    response_model=list[PackageOut],
    dependencies=[PUBLIC_BUDGET],
)
async def list_packages(event_id: str, container: ContainerDep) -> list[PackageOut]:
    """The event's sponsor packages with how many are left (public)."""
    found = await run_in_threadpool(
        lambda: sponsorships.packages(uow_factory=container.uow_factory, event_id=event_id)
    )
    return [_package(p, left) for p, left in found]


@router.post(
    "/v1/events/{event_id}/sponsorships",
    status_code=201,
    response_model=SponsorshipOut,
    dependencies=[WRITE_BUDGET],
)
async def issue_sponsorship(
    event_id: str, body: SponsorshipIn, container: ContainerDep, caller: CallerDep
) -> SponsorshipOut:
    """Invoice a package to a sponsor (net terms `net_days`); the provider sends the invoice.
    409 `sold_out` when every package of the kind is taken; 503 when the provider fails (the
    place is given back)."""
    issued = await run_in_threadpool(
        lambda: sponsorships.issue(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            event_id=event_id,
            package_id=body.package_id,
            sponsor_name=body.sponsor.name,
            sponsor_email=body.sponsor.email,
            provider=ProviderName(body.provider),
            net_days=body.net_days,
            fee_policy=container.fee_policy,
            clock=container.clock,
        )
    )
    return _out(SponsorshipView(issued, overdue=False))


@router.get(
    "/v1/events/{event_id}/sponsorships",
    response_model=SponsorshipListOut,
    dependencies=[READ_BUDGET],
)
async def list_sponsorships(
    event_id: str, container: ContainerDep, caller: CallerDep, status: str | None = None
) -> SponsorshipListOut:
    """The event's sponsorships, `overdue` flagged; `?status=overdue` lists only those."""
    found = await run_in_threadpool(
        lambda: sponsorships.sponsorships(
            uow_factory=container.uow_factory,
            caller=caller,
            event_id=event_id,
            status=status,
            clock=container.clock,
        )
    )
    return SponsorshipListOut(event_id=event_id, sponsorships=[_out(v) for v in found])


@router.post(
    "/v1/events/{event_id}/sponsorships/{sponsorship_id}/cancel",
    response_model=SponsorshipOut,
    dependencies=[WRITE_BUDGET],
)
async def cancel_sponsorship(
    event_id: str, sponsorship_id: str, container: ContainerDep, caller: CallerDep
) -> SponsorshipOut:
    """Cancel an unpaid sponsorship: its invoice at the provider, then its place.
    409 `not_cancellable` once anything was paid."""
    cancelled = await run_in_threadpool(
        lambda: sponsorships.cancel(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            event_id=event_id,
            sponsorship_id=sponsorship_id,
            clock=container.clock,
        )
    )
    return _out(SponsorshipView(cancelled, overdue=False))
