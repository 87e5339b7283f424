"""Sponsor packages as organizers sell them: packages, invoices issued to sponsors, the list
with overdue ones flagged, and cancelling an unpaid invoice.

Issuing is three steps, so no provider call ever holds a database lock: take a place of the
package and store the sponsorship (`invoiced`, the platform fee fixed now under the event's fee
policy), create and send the provider invoice (idempotency key `sponsorship:<id>`), then store
the invoice's id and page. A provider that fails gives the place back and cancels the row.
Payments come back as invoice events (`webhooks` → `settlement.sponsorships`). Organizers see
only their own events (another's answers 404); admins see all. Every change is audited.

What must not live here: what a payment does to a sponsorship (settlement), HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from eventpay.domain import Event, Money
from eventpay.domain.errors import MoneyError
from eventpay.domain.fee_policy import FeePolicy
from eventpay.domain.pricing import fee_policy_for
from eventpay.domain.sponsorships import UNPAID, SponsorKind, SponsorshipStatus, is_overdue
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.capabilities import InvoiceDraft, InvoiceLine
from eventpay.ports.identity import Clock, ProviderName
from eventpay.ports.providers import ProviderError, ProviderRegistry
from eventpay.ports.sponsorships import (
    SponsorInvoiceGateway,
    SponsorPackage,
    Sponsorship,
    sponsor_invoices_of,
)
from eventpay.services import audit
from eventpay.services.errors import Conflict, InvalidRequest, NotFound, Unavailable

STOCK_KIND = "sponsor"
MAX_NET_DAYS = 90
MAX_PACKAGE_PRICE = 100_000_000  # a million in major units: anything above is a typo


def stock_id(package_id: str) -> str:
    return f"sponsor:{package_id}"


@dataclass(frozen=True, slots=True)
class PackageInput:
    kind: str
    name: str
    price: int
    quantity: int
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class SponsorshipView:
    sponsorship: Sponsorship
    overdue: bool


def _event_for(uow: UnitOfWork, caller: Principal, event_id: str) -> Event:
    event = uow.catalog.get_event(event_id)
    mine = (
        event is not None
        and caller.role is Role.ORGANIZER
        and caller.organizer_id == event.organizer_id
    )
    if event is None or not (caller.role is Role.ADMIN or mine):
        raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
    return event


def _gateway(providers: ProviderRegistry, name: ProviderName) -> SponsorInvoiceGateway:
    gateway = sponsor_invoices_of(providers.get(name))
    if gateway is None:
        raise InvalidRequest(
            "unsupported_provider", f"{name.value} sends no invoices", {"field": "provider"}
        )
    return gateway


def _package_input(asked: PackageInput, event: Event) -> tuple[SponsorKind, Money]:
    try:
        kind = SponsorKind(asked.kind)
    except ValueError:
        raise InvalidRequest(
            "invalid_kind", "kind must be title, class or booth", {"field": "kind"}
        ) from None
    if not asked.name.strip():
        raise InvalidRequest("invalid_name", "a package needs a name", {"field": "name"})
    if not 0 < asked.price <= MAX_PACKAGE_PRICE:
        raise InvalidRequest("invalid_price", "price must be positive", {"field": "price"})
    if not 1 <= asked.quantity <= 10_000:
        raise InvalidRequest(
            "invalid_quantity", "quantity must be between 1 and 10000", {"field": "quantity"}
        )
    currency = (asked.currency or event.currency).lower()
    if currency != event.currency:
        raise InvalidRequest(
            "currency_mismatch",
            f"price must be in the event's currency ({event.currency})",
            {"field": "currency"},
        )
    try:
        return kind, Money(asked.price, currency)
    except MoneyError as exc:
        raise InvalidRequest("invalid_price", str(exc), {"field": "price"}) from None


def create_package(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    asked: PackageInput,
    clock: Clock,
) -> SponsorPackage:
    now = clock()
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        kind, price = _package_input(asked, event)
        package = SponsorPackage(
            id=f"spk_{uuid.uuid4().hex[:20]}",
            event_id=event.id,
            kind=kind,
            name=asked.name.strip()[:200],
            price=price,
            quantity=asked.quantity,
            created_at=now,
        )
        uow.sponsorships.add_package(package)
        uow.places.ensure_stock(
            stock_id(package.id), event_id=event.id, kind=STOCK_KIND, capacity=asked.quantity
        )
        audit.record(
            uow,
            entity_type="sponsor_package",
            entity_id=package.id,
            action="sponsor_package.created",
            actor=caller,
            now=now,
            details={
                "event_id": event.id,
                "kind": kind.value,
                "price": price.amount,
                "currency": price.currency,
                "quantity": asked.quantity,
            },
        )
        uow.commit()
    return package


def packages(*, uow_factory: UnitOfWorkFactory, event_id: str) -> list[tuple[SponsorPackage, int]]:
    """An event's packages, each with how many are left (public)."""
    with uow_factory() as uow:
        if uow.catalog.get_event(event_id) is None:
            raise NotFound("event_not_found", "No such event.", {"event_id": event_id})
        found = list(uow.sponsorships.packages_for(event_id))
        levels = uow.places.levels([stock_id(p.id) for p in found])
    out = []
    for package in found:
        level = levels.get(stock_id(package.id))
        left = level.left if level is not None else package.quantity
        out.append((package, package.quantity if left is None else left))
    return out


def issue(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    event_id: str,
    package_id: str,
    sponsor_name: str,
    sponsor_email: str,
    provider: ProviderName,
    net_days: int,
    fee_policy: FeePolicy,
    clock: Clock,
) -> Sponsorship:
    """Invoice a package to a sponsor; 409 `sold_out` when none is left."""
    if not 1 <= net_days <= MAX_NET_DAYS:
        raise InvalidRequest(
            "invalid_net_days", "net_days must be between 1 and 90", {"field": "net_days"}
        )
    if "@" not in sponsor_email or not sponsor_name.strip():
        raise InvalidRequest(
            "invalid_sponsor", "the sponsor needs a name and an e-mail", {"field": "sponsor"}
        )
    gateway = _gateway(providers, provider)
    now = clock()
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        package = uow.sponsorships.package(package_id)
        if package is None or package.event_id != event.id:
            raise NotFound(
                "package_not_found", "No such sponsor package.", {"package_id": package_id}
            )
        stock = stock_id(package.id)
        uow.places.lock(stock)
        if not uow.places.take(stock, 1):
            raise Conflict(
                "sold_out", "Every package of this kind is sold.", {"package_id": package.id}
            )
        organizer = uow.catalog.get_organizer(event.organizer_id)
        policy = fee_policy_for(event=event, organizer=organizer, default=fee_policy)
        sponsorship = Sponsorship(
            id=f"sp_{uuid.uuid4().hex[:20]}",
            event_id=event.id,
            package_id=package.id,
            sponsor_name=sponsor_name.strip()[:200],
            sponsor_email=sponsor_email.strip()[:254],
            status=SponsorshipStatus.INVOICED,
            provider=provider,
            provider_invoice_id=None,
            invoice_url=None,
            amount=package.price,
            platform_fee=policy.fee_for(package.price).amount,
            paid=0,
            due_date=now.date() + timedelta(days=net_days),
            created_at=now,
            updated_at=now,
        )
        uow.sponsorships.add(sponsorship)
        audit.record(
            uow,
            entity_type="sponsorship",
            entity_id=sponsorship.id,
            action="sponsorship.issued",
            actor=caller,
            now=now,
            details={
                "package_id": package.id,
                "provider": provider.value,
                "amount": package.price.amount,
                "currency": package.price.currency,
                "due_date": sponsorship.due_date.isoformat(),
            },
        )
        uow.commit()
    draft = InvoiceDraft(
        invoice_number=sponsorship.id,
        recipient_email=sponsorship.sponsor_email,
        lines=[InvoiceLine(f"{package.kind.value} sponsorship: {package.name}", 1, package.price)],
        note=f"{event.name}: {package.name}",
        due_date=sponsorship.due_date.isoformat(),
    )
    try:
        invoice = gateway.issue_invoice(
            draft,
            sponsorship_id=sponsorship.id,
            net_days=net_days,
            idempotency_key=f"sponsorship:{sponsorship.id}",
        )
    except ProviderError as exc:
        _release(uow_factory, sponsorship.id, caller=caller, clock=clock, why=exc.code)
        raise Unavailable(
            "provider_unavailable", f"the provider did not answer: {exc.code}"
        ) from None
    now = clock()
    with uow_factory() as uow:
        stored = uow.sponsorships.get(sponsorship.id, for_update=True)
        assert stored is not None
        stored.provider_invoice_id = invoice.invoice_id
        stored.invoice_url = invoice.links.get("payer-view")
        stored.updated_at = now
        uow.sponsorships.save(stored)
        audit.record(
            uow,
            entity_type="sponsorship",
            entity_id=stored.id,
            action="sponsorship.invoice_sent",
            actor=caller,
            now=now,
            details={"provider_invoice_id": invoice.invoice_id, "status": invoice.status},
        )
        uow.commit()
    return stored


def _release(
    uow_factory: UnitOfWorkFactory,
    sponsorship_id: str,
    *,
    caller: Principal,
    clock: Clock,
    why: str,
) -> Sponsorship:
    now = clock()
    with uow_factory() as uow:
        found = uow.sponsorships.get(sponsorship_id, for_update=True)
        if found is None:
            raise NotFound("sponsorship_not_found", "No such sponsorship.")
        if found.status in UNPAID and found.paid == 0:
            stock = stock_id(found.package_id)
            uow.places.lock(stock)
            uow.places.give_back(stock, 1)
            found.status = SponsorshipStatus.CANCELLED
            found.updated_at = now
            uow.sponsorships.save(found)
            audit.record(
                uow,
                entity_type="sponsorship",
                entity_id=found.id,
                action="sponsorship.cancelled",
                actor=caller,
                now=now,
                details={"reason": why},
            )
            uow.commit()
    return found


def sponsorships(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    status: str | None,
    clock: Clock,
) -> list[SponsorshipView]:
    """The event's sponsorships, overdue ones flagged; `status` filters (`overdue` included)."""
    today = clock().date()
    with uow_factory() as uow:
        _event_for(uow, caller, event_id)
        found: Sequence[Sponsorship] = uow.sponsorships.for_event(event_id)
    views = [SponsorshipView(s, is_overdue(s.status, s.due_date, today)) for s in found]
    if status is None:
        return views
    if status == "overdue":
        return [v for v in views if v.overdue]
    try:
        wanted = SponsorshipStatus(status)
    except ValueError:
        raise InvalidRequest("invalid_status", "unknown status", {"field": "status"}) from None
    return [v for v in views if v.sponsorship.status is wanted]


def cancel(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    event_id: str,
    sponsorship_id: str,
    clock: Clock,
) -> Sponsorship:
    """Cancel an unpaid sponsorship: its provider invoice (when it can be), then its place."""
    with uow_factory() as uow:
        _event_for(uow, caller, event_id)
        found = uow.sponsorships.get(sponsorship_id)
    if found is None or found.event_id != event_id:
        raise NotFound("sponsorship_not_found", "No such sponsorship.")
    if found.status not in UNPAID or found.paid > 0:
        raise Conflict(
            "not_cancellable",
            "Only an invoice nothing was paid on can be cancelled.",
            {"status": found.status.value},
        )
    gateway = sponsor_invoices_of(providers.get(found.provider))
    if gateway is not None and found.provider_invoice_id is not None:
        try:
            gateway.cancel_invoice(
                found.provider_invoice_id, idempotency_key=f"sponsorship-cancel:{found.id}"
            )
        except ProviderError as exc:
            raise Conflict(
                "provider_refused", f"the provider refused to cancel: {exc.code}"
            ) from None
    return _release(uow_factory, found.id, caller=caller, clock=clock, why="cancelled")
