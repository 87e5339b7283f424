"""An event's promo codes, managed by its organizer or an admin: create, list, disable.

Another organizer's event, and any event for a competitor, answers exactly as an unknown one
(404 `event_not_found`). The terms are checked by the domain (`PromoTerms`), so a refusal names
the field; a fixed amount must be in the event's currency. Creating and disabling are audited.

What must not live here: using a code on an order (counting a use is `uow.promos.claim`, called
by `orders.create_order`, and giving it back `release_for_order`, when the order is not paid).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from eventpay.domain import Event, Money
from eventpay.domain.errors import InvalidPromoCode, MoneyError
from eventpay.domain.promotions import PromoTerms, normalize_code
from eventpay.ports import Principal, Role, UnitOfWork, UnitOfWorkFactory
from eventpay.ports.promos import PromoCodeRecord
from eventpay.services.audit import record
from eventpay.services.errors import Conflict, InvalidRequest, NotFound


@dataclass(frozen=True, slots=True)
class PromoCodeInput:
    """What an organizer asks for. `amount_off` is in minor units; `amount_currency` is the
    currency they named with it (None: the event's)."""

    code: str
    percent_off: Decimal | None = None
    amount_off: int | None = None
    amount_currency: str | None = None
    applies_to: str | None = None
    max_uses: int | None = None
    max_uses_per_buyer: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PromoCodeView:
    """A code and its event's currency (the unit of `amount_off`)."""

    promo: PromoCodeRecord
    currency: str


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


def _invalid(exc: InvalidPromoCode) -> InvalidRequest:
    return InvalidRequest(exc.code, str(exc), exc.details)


def _amount_off(asked: PromoCodeInput, event: Event) -> Money | None:
    if asked.amount_off is None:
        return None
    currency = (asked.amount_currency or event.currency).lower()
    if currency != event.currency:
        raise InvalidRequest(
            "currency_mismatch",
            f"amount_off must be in the event's currency ({event.currency}).",
            {"field": "amount_off", "currency": currency, "event_currency": event.currency},
        )
    try:
        return Money(asked.amount_off, currency)
    except MoneyError as exc:
        raise InvalidRequest("invalid_promo_code", str(exc), {"field": "amount_off"}) from None


def _terms(asked: PromoCodeInput, event: Event) -> PromoTerms:
    try:
        return PromoTerms(
            percent_off=asked.percent_off,
            amount_off=_amount_off(asked, event),
            applies_to=asked.applies_to,
            valid_from=asked.valid_from,
            valid_until=asked.valid_until,
            max_uses=asked.max_uses,
            max_uses_per_buyer=asked.max_uses_per_buyer,
        )
    except InvalidPromoCode as exc:
        raise _invalid(exc) from None


def create_promo_code(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    asked: PromoCodeInput,
    now: datetime,
) -> PromoCodeView:
    """Store a new code for the event; 409 `promo_code_exists` when it has one so named."""
    try:
        code = normalize_code(asked.code)
    except InvalidPromoCode as exc:
        raise _invalid(exc) from None
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        terms = _terms(asked, event)
        promo = PromoCodeRecord(
            id=str(uuid.uuid4()),
            event_id=event.id,
            code=code,
            percent_off=terms.percent_off,
            amount_off=None if terms.amount_off is None else terms.amount_off.amount,
            applies_to=terms.applies_to,
            max_uses=terms.max_uses,
            max_uses_per_buyer=terms.max_uses_per_buyer,
            uses=0,
            valid_from=_utc(terms.valid_from),
            valid_until=_utc(terms.valid_until),
            created_at=now,
            created_by=caller.user_id,
        )
        if not uow.promos.add(promo):
            raise Conflict(
                "promo_code_exists",
                "This event already has a promo code so named.",
                {"event_id": event.id, "code": code},
            )
        record(
            uow,
            entity_type="promo_code",
            entity_id=promo.id,
            action="promo_code.created",
            actor=caller,
            now=now,
            details=_audit_details(promo, event.currency),
        )
        uow.commit()
    return PromoCodeView(promo, event.currency)


def _utc(moment: datetime | None) -> datetime | None:
    """Stored and answered in UTC, whatever offset the organizer wrote."""
    return None if moment is None else moment.astimezone(UTC)


def _audit_details(promo: PromoCodeRecord, currency: str) -> dict[str, object]:
    return {
        "event_id": promo.event_id,
        "code": promo.code,
        "percent_off": None if promo.percent_off is None else str(promo.percent_off),
        "amount_off": promo.amount_off,
        "currency": currency,
        "applies_to": promo.applies_to,
        "max_uses": promo.max_uses,
        "max_uses_per_buyer": promo.max_uses_per_buyer,
        "valid_from": None if promo.valid_from is None else promo.valid_from.isoformat(),
        "valid_until": None if promo.valid_until is None else promo.valid_until.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class EventPromoCodes:
    event_id: str
    currency: str
    codes: tuple[PromoCodeRecord, ...]


def list_promo_codes(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, event_id: str
) -> EventPromoCodes:
    """Every code of the event, disabled ones too, with its uses (`remaining` on each)."""
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        codes = tuple(uow.promos.list_for_event(event.id))
    return EventPromoCodes(event.id, event.currency, codes)


def _normalized_or_unknown(raw: str, event_id: str) -> str:
    try:
        return normalize_code(raw)
    except InvalidPromoCode:
        raise NotFound(
            "promo_code_not_found", "No such promo code.", {"event_id": event_id, "code": raw}
        ) from None


def disable_promo_code(
    *,
    uow_factory: UnitOfWorkFactory,
    caller: Principal,
    event_id: str,
    code: str,
    now: datetime,
) -> PromoCodeView:
    """Disable the code (buyers then get `unknown_promo_code`; uses already taken stay);
    audited the first time. Returns the code as it is now."""
    with uow_factory() as uow:
        event = _event_for(uow, caller, event_id)
        name = _normalized_or_unknown(code, event.id)
        promo = uow.promos.get_by_code(event.id, name)
        if promo is None:
            raise NotFound(
                "promo_code_not_found", "No such promo code.", {"event_id": event.id, "code": name}
            )
        if uow.promos.disable(promo.id, now=now):
            record(
                uow,
                entity_type="promo_code",
                entity_id=promo.id,
                action="promo_code.disabled",
                actor=caller,
                now=now,
                details={"event_id": event.id, "code": name, "uses": promo.uses},
            )
            uow.commit()
        current = uow.promos.get(promo.id)
    assert current is not None  # found above, in this unit of work
    return PromoCodeView(current, event.currency)
