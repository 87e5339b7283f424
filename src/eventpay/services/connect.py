"""Organizers' Stripe connected accounts: onboarding and status, for the organizer or an admin.

`start_onboarding` opens the organizer's Express account once (Stripe's idempotency key is
derived from the organizer id, and the row is keyed by it, so two concurrent requests end with
one account) and answers a fresh account link each time: a link is single use and expires in
minutes. Asked again, it also re-reads the account at Stripe, in case an `account.updated` was
lost. `account_status` answers what we stored (the webhook keeps it current). A change learned
either way goes through `settlement.connect`, which audits it. An organizer sees only their
own account: another organizer's id answers exactly as an unknown one (NotFound), as for their
balance. Provider calls never run inside a database transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from eventpay.ports import (
    AccountLink,
    AccountState,
    Clock,
    ConnectedAccount,
    ConnectProvider,
    Principal,
    ProviderError,
    ProviderName,
    ProviderRegistry,
    ProviderRejected,
    Role,
    UnitOfWork,
    UnitOfWorkFactory,
    connect_of,
)
from eventpay.services import audit
from eventpay.services.errors import InvalidRequest, NotFound, Unavailable
from eventpay.services.settlement.connect import apply_account_state

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Onboarding:
    account: ConnectedAccount
    link: AccountLink
    created: bool


@dataclass(frozen=True, slots=True)
class OnboardingUrls:
    """Where Stripe's onboarding sends the organizer back (`return_url`) or to get a new
    link (`refresh_url`, for a used or expired one)."""

    return_url: str
    refresh_url: str


def _check_access(uow: UnitOfWork, caller: Principal, organizer_id: str) -> None:
    allowed = caller.role is Role.ADMIN or (
        caller.role is Role.ORGANIZER and caller.organizer_id == organizer_id
    )
    if not allowed or uow.catalog.get_organizer(organizer_id) is None:
        raise NotFound("organizer_not_found", "No such organizer.", {"organizer_id": organizer_id})


def _gateway(providers: ProviderRegistry) -> ConnectProvider:
    gateway = connect_of(providers.get(ProviderName.STRIPE))
    if gateway is None:
        raise InvalidRequest(
            "connect_unavailable", "Stripe Connect is not available on this deployment."
        )
    return gateway


def _unavailable(exc: ProviderError) -> Unavailable | InvalidRequest:
    if isinstance(exc, ProviderRejected):  # a definite no (a return URL Stripe refuses, ...)
        return InvalidRequest(
            "stripe_refused", f"Stripe refused the request: {exc}", {"provider_code": exc.code}
        )
    return Unavailable(
        "provider_unavailable",
        "Stripe did not answer as expected; try again shortly.",
        {"provider_code": exc.code},
    )


def start_onboarding(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    organizer_id: str,
    urls: OnboardingUrls,
    clock: Clock,
) -> Onboarding:
    """The organizer's connected account (opened now if they had none) and a fresh link to
    complete its onboarding at Stripe."""
    with uow_factory() as uow:
        _check_access(uow, caller, organizer_id)
        account = uow.connect.get_account(organizer_id)
    gateway = _gateway(providers)
    created = False
    try:
        if account is None:
            state = gateway.create_account(
                organizer_id=organizer_id,
                email=None,
                idempotency_key=f"eventpay-account-{organizer_id}",
            )
            account, created = _store_new(uow_factory, caller, organizer_id, state, clock)
        else:
            # Asked again: read the account too, in case an `account.updated` was lost.
            state = gateway.retrieve_account(account.stripe_account_id)
            account = _refresh(uow_factory, caller, organizer_id, state, clock)
        link = gateway.create_account_link(
            account_id=account.stripe_account_id,
            refresh_url=urls.refresh_url,
            return_url=urls.return_url,
        )
    except ProviderError as exc:
        raise _unavailable(exc) from None
    return Onboarding(account=account, link=link, created=created)


def _store_new(
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    organizer_id: str,
    state: AccountState,
    clock: Clock,
) -> tuple[ConnectedAccount, bool]:
    now = clock()
    with uow_factory() as uow:
        # Serializes concurrent first requests (a missing row cannot be locked itself).
        uow.payouts.lock_organizer(organizer_id)
        existing = uow.connect.get_account(organizer_id, for_update=True)
        if existing is not None:  # a concurrent request stored it first (same Stripe account)
            return existing, False
        account = ConnectedAccount(
            organizer_id=organizer_id,
            stripe_account_id=state.account_id,
            charges_enabled=state.charges_enabled,
            payouts_enabled=state.payouts_enabled,
            details_submitted=state.details_submitted,
            requirements_due=list(state.requirements_due),
            updated_at=now,
            state_as_of=state.as_of,
        )
        uow.connect.add_account(account)
        audit.record(
            uow,
            entity_type="connected_account",
            entity_id=organizer_id,
            action="connected_account.created",
            actor=caller,
            now=now,
            details={
                "account_id": state.account_id,
                "charges_enabled": state.charges_enabled,
                "payouts_enabled": state.payouts_enabled,
            },
        )
        uow.commit()
        return account, True


def account_status(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, organizer_id: str
) -> ConnectedAccount:
    """The organizer's connected account as last stored; NotFound when they have none yet."""
    with uow_factory() as uow:
        _check_access(uow, caller, organizer_id)
        account = uow.connect.get_account(organizer_id)
    if account is None:
        raise NotFound(
            "connected_account_not_found",
            "This organizer has no Stripe account yet.",
            {"organizer_id": organizer_id},
        )
    return account


def _refresh(
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    organizer_id: str,
    state: AccountState,
    clock: Clock,
) -> ConnectedAccount:
    """Store a state read from the provider (audited if it changed); the account after it."""
    with uow_factory() as uow:
        current = uow.connect.get_account(organizer_id, for_update=True)
        assert current is not None  # rows are never deleted
        # A read is the account as it is now; it leaves the time of the last event as it was
        # (our clock and Stripe's are not compared).
        if apply_account_state(uow, current, state, actor=caller, now=clock(), source="read"):
            uow.commit()
        return current
