"""Order use cases: price a basket from the catalog, store it, read it back with its status.

The buyer never sends a price: every amount comes from `eventpay.domain.pricing` applied to the
catalog as stored, and each event's lines are charged the platform fee of that event's policy
(its own, else its organizer's, else the platform's `fee_policy`). The fee is stored with the
order when it is placed, so a later change of any policy never alters an order; the audit row
of the order names the policy each event was charged under. The order's status is derived from
its payment and refund attempts each time it is read (`derive_order_status`), never stored as a
flag.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventpay.domain import (
    CurrencyMismatch,
    FeePayer,
    FeePolicy,
    Money,
    QuoteLine,
    quote_order,
)
from eventpay.domain.catalog import RegistrationWindow, window_state
from eventpay.domain.errors import (
    InvalidPromoCode,
    PromoCodeNotApplicable,
    PromoRefused,
    UnknownPromoCode,
)
from eventpay.domain.money import sum_money
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.pricing import FeeShare, fee_policy_for, fee_shares, with_discounts
from eventpay.domain.promotions import allocate_discount, check_window, normalize_code
from eventpay.ports import (
    SYSTEM_ACTOR,
    AuditEntry,
    OrderLineRecord,
    OrderRecord,
    Principal,
    ProviderRegistry,
    RegistrationRecord,
    Role,
    UnitOfWork,
)
from eventpay.ports.promos import PromoClaim, PromoCodeRecord
from eventpay.services import audit
from eventpay.services.basket import (
    PricedItem,
    Pricer,
    PricingContext,
    RegistrationItem,
    price_entry,
)
from eventpay.services.basket_merch import MerchandiseItem, price_merchandise
from eventpay.services.basket_passes import PassItem, VipUpgradeItem, price_pass, price_vip_upgrade
from eventpay.services.basket_teams import SeriesItem, TeamItem, price_series, price_team
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.settlement import places
from eventpay.services.settlement.registrations import confirm_registrations
from eventpay.services.views import OrderView, load_owned, view_of, view_of_new

__all__ = [
    "OrderView",
    "RegistrationItem",
    "audit_trail",
    "create_order",
    "get_order",
    "sold_out_early",
]


def get_order(*, uow: UnitOfWork, caller: Principal, order_id: str, now: datetime) -> OrderView:
    with uow:
        return view_of(uow, load_owned(uow, order_id=order_id, caller=caller), now=now)


def audit_trail(*, uow: UnitOfWork, caller: Principal, order_id: str) -> Sequence[AuditEntry]:
    """The order's audit rows, oldest first; only for admins (auditors and operators)."""
    if caller.role is not Role.ADMIN:
        raise NotFound("order_not_found", "No such order.", {"order_id": order_id})
    with uow:
        load_owned(uow, order_id=order_id, caller=caller)
        return uow.audit.list_for(order_id=order_id)


PRICERS: dict[type[Any], Pricer] = {
    RegistrationItem: price_entry,
    PassItem: price_pass,
    VipUpgradeItem: price_vip_upgrade,
    TeamItem: price_team,
    SeriesItem: price_series,
    MerchandiseItem: price_merchandise,
}
"""The pricer of each kind of item an order may hold (`basket`)."""


@dataclass(frozen=True, slots=True)
class _PricedItems:
    currency: str
    priced: list[PricedItem]
    fee_policies: dict[str, FeePolicy]
    """The platform fee policy of each event of the order, by event id."""
    organizers: dict[str, str]
    """The organizer of each event of the order, by event id."""


def _price_items(
    uow: UnitOfWork,
    items: Sequence[object],
    *,
    buyer: Principal,
    is_member: bool,
    fee_policy: FeePolicy,
    now: datetime,
) -> _PricedItems:
    currency: str | None = None
    priced: list[PricedItem] = []
    policies: dict[str, FeePolicy] = {}
    organizers: dict[str, str] = {}
    for index, item in enumerate(items):
        pricer = PRICERS.get(type(item))
        if pricer is None:  # pragma: no cover - the web layer only builds known kinds
            raise InvalidRequest("unknown_item_kind", "No such kind of item.", {"item": index})
        ctx = PricingContext(
            uow=uow, buyer=buyer, is_member=is_member, now=now, index=index, basket=items
        )
        one = pricer(ctx, item)
        event = one.event
        if currency is not None and event.currency != currency:
            raise InvalidRequest(
                "currency_mismatch",
                "All items of one order must be in the same currency.",
                {"item": index, "currency": event.currency, "order_currency": currency},
            )
        currency = event.currency
        priced.append(one)
        for event_id in dict.fromkeys(
            [event.id, *(line.event_id for line in one.lines if line.event_id)]
        ):
            if event_id in policies:
                continue
            line_event = event if event_id == event.id else uow.catalog.get_event(event_id)
            if line_event is None:  # pragma: no cover - a pricer prices only stored events
                raise LookupError(f"event {event_id} of a priced line is missing")
            organizers[event_id] = line_event.organizer_id
            organizer = uow.catalog.get_organizer(line_event.organizer_id)
            policies[event_id] = fee_policy_for(
                event=line_event, organizer=organizer, default=fee_policy
            )
    if currency is None:
        raise InvalidRequest("no_items", "An order needs at least one item.")
    return _PricedItems(currency, priced, policies, organizers)


def _fee_audit(shares: Sequence[FeeShare]) -> list[dict[str, object]]:
    """Which policy charged which fee on which event: what an auditor re-computes the fee from."""
    return [
        {
            "event_id": share.event_id,
            "subtotal": share.subtotal.amount,
            "fee": share.fee.amount,
            "percent": str(share.policy.percent),
            "fixed_minor": share.policy.fixed_minor,
            "rounding": share.policy.rounding.value,
            "payer": share.policy.payer.value,
        }
        for share in shares
    ]


def create_order(
    *,
    uow: UnitOfWork,
    buyer: Principal,
    items: Sequence[object],
    promo_code: str | None,
    fee_policy: FeePolicy,
    now: datetime,
    expires_in: timedelta,
    providers: ProviderRegistry | None = None,
) -> OrderView:
    """Price the basket from the catalog, reserve its places and store the order, awaiting
    payment until `now + expires_in`.

    With `providers`, an order no configured provider could take (its currency, or an amount
    finer than a provider accepts) is refused with 422 now, not when the buyer tries to pay.
    `fee_policy` is the platform's policy, for events and organizers without their own. A
    place that cannot be had answers 409 (`sold_out`, `already_registered`) before anything is
    stored; places held only by reservations that expired unpaid are freed first
    (`settlement.places.sweep_expired`), then the order is tried once more.
    """
    try:
        return _place_order(
            uow,
            buyer,
            items,
            promo_code=promo_code,
            fee_policy=fee_policy,
            now=now,
            expires_in=expires_in,
            providers=providers,
            swept=False,
        )
    except places.Blocked as blocked:
        places.sweep_expired(lambda: uow, actor=SYSTEM_ACTOR, now=now, stock_ids=blocked.stock_ids)
    return _place_order(
        uow,
        buyer,
        items,
        promo_code=promo_code,
        fee_policy=fee_policy,
        now=now,
        expires_in=expires_in,
        providers=providers,
        swept=True,
    )


def sold_out_early(
    *,
    uow: UnitOfWork,
    buyer: Principal,
    items: Sequence[object],
    now: datetime,
    idempotency_key: str | None,
) -> Conflict | None:
    """The `sold_out` that `create_order` would answer, found by two small reads, or None.

    In a rush almost every buyer comes for a class already full; checking that first spares
    them the idempotency key's claim, the pricing and the rolled-back writes. Only a basket of
    single entries of one event, each class with places counted, is looked at, and only a
    refusal the full path would give as well, naming the same class: a class the event lacks
    or does not count, a closed window, the same class twice, a reservation that lapsed
    unswept (the full path frees it) and a buyer who already holds the class (their
    reservation may give way) all go the full way, as does a key that has an answer to replay.
    Nothing is written,
    so a retry is judged afresh; the conditional update in `places.reserve` stays the guard.
    """
    if not items or any(type(item) is not RegistrationItem for item in items):
        return None
    entries = [item for item in items if isinstance(item, RegistrationItem)]
    class_ids = [class_id for item in entries for class_id in item.class_ids]
    if len(set(class_ids)) != len(class_ids) or len({item.event_id for item in entries}) != 1:
        return None
    with uow:
        glances = uow.places.class_glance(
            entries[0].event_id, class_ids, holder=buyer.user_id, now=now
        )
        if set(glances) != set(class_ids):
            return None  # a class without places to count, or not the event's: the full way
        first = next(iter(glances.values()))
        window = window_state(first.registration_opens_at, first.registration_closes_at, now)
        if window is not RegistrationWindow.OPEN:
            return None
        # As `places.refuse_if_short` does: the first short stock item in stock-id order.
        for glance, index in sorted(
            (
                (glances[class_id], index)
                for index, item in enumerate(entries)
                for class_id in item.class_ids
            ),
            key=lambda pair: pair[0].level.stock_id,
        ):
            if glance.level.left is None or glance.level.left > 0:
                continue
            if glance.lapsed or glance.held_by_holder:
                return None
            if idempotency_key is not None and uow.idempotency.get(buyer.user_id, idempotency_key):
                return None
            return Conflict(
                "sold_out",
                f"{glance.label} is sold out.",
                {"item": index, "stock_id": glance.level.stock_id, "places_left": 0, "wanted": 1},
            )
    return None


def _refuse_repeated_entries(priced: Sequence[PricedItem]) -> None:
    """One competitor holds a place once: the same place for the same competitor twice in one
    order is refused here (422), across orders by the places' unique holder (409)."""
    seen: dict[tuple[str, str], int] = {}
    for index, one in enumerate(priced):
        for claim in one.claims:
            holder = claim.claim.holder
            if holder is None:
                continue
            first = seen.setdefault((claim.claim.stock_id, holder), index)
            if first != index:
                raise InvalidRequest(
                    "duplicate_registration",
                    f"{holder} appears twice for {claim.label} in this order.",
                    {"item": index, "first_item": first, "holder": holder, "place": claim.label},
                )


def _place_order(
    uow: UnitOfWork,
    buyer: Principal,
    items: Sequence[object],
    *,
    promo_code: str | None,
    fee_policy: FeePolicy,
    now: datetime,
    expires_in: timedelta,
    providers: ProviderRegistry | None,
    swept: bool,
) -> OrderView:
    with uow:
        is_member = uow.catalog.is_member(buyer.user_id, at=now)
        basket = _price_items(
            uow, items, buyer=buyer, is_member=is_member, fee_policy=fee_policy, now=now
        )
        currency, priced = basket.currency, basket.priced
        _refuse_repeated_entries(priced)
        places.refuse_if_short(uow, _wanted(priced, [[] for _ in priced]), now=now, swept=swept)
        all_lines: Sequence[QuoteLine] = [line for one in priced for line in one.lines]
        promos: list[tuple[PromoCodeRecord, Money]] = []
        if promo_code is not None:
            all_lines, promos = _apply_promo(uow, promo_code, all_lines, currency, now=now)
        try:
            quote = quote_order(
                currency=currency,
                lines=all_lines,
                fee_policy=fee_policy,
                event_policies=basket.fee_policies,
            )
        except CurrencyMismatch as exc:  # pragma: no cover - _price_items checks first
            raise InvalidRequest(exc.code, str(exc), exc.details) from None
        if providers is not None:
            _check_payable(providers, quote.total)
        shares = fee_shares(
            currency=currency,
            lines=all_lines,
            fee_policy=fee_policy,
            event_policies=basket.fee_policies,
        )
        order_id = str(uuid.uuid4())
        expires_at = now + expires_in
        registrations = [
            [
                RegistrationRecord(
                    id=str(uuid.uuid4()),
                    order_id=order_id,
                    event_id=new.event_id,
                    competitor_id=new.competitor_id,
                    class_ids=list(new.class_ids),
                    status=RegistrationStatus.PENDING,
                    created_at=now,
                )
                for new in one.registrations
            ]
            for one in priced
        ]
        order = OrderRecord(
            id=order_id,
            buyer_id=buyer.user_id,
            currency=currency,
            subtotal=quote.subtotal.amount,
            discount=quote.discount.amount,
            fees=quote.fees.amount,
            tax=quote.tax.amount,
            total=quote.total.amount,
            platform_fee=quote.platform_fee.amount,
            organizer_net=quote.organizer_net.amount,
            organizer_shares=_organizer_shares(
                basket.organizers, shares, quote.total, quote.platform_fee
            ),
            created_at=now,
            expires_at=expires_at,
            lines=[
                OrderLineRecord(
                    id=str(uuid.uuid4()),
                    position=position,
                    kind=line.kind,
                    description=line.description,
                    amount=line.amount.amount,
                    event_id=line.event_id,
                    class_id=line.class_id,
                    price_rule=None if line.price_rule is None else line.price_rule.value,
                    discount=0 if line.discount is None else line.discount.amount,
                )
                for position, line in enumerate(quote.lines)
            ],
            registrations=[reg for regs in registrations for reg in regs],
        )
        uow.orders.add(order)
        for one, regs in zip(priced, registrations, strict=True):
            if one.persist is not None:
                one.persist(uow, order_id, [reg.id for reg in regs])
        audit.record(
            uow,
            entity_type="order",
            entity_id=order.id,
            order_id=order.id,
            action="order.created",
            actor=buyer,
            now=now,
            details={
                "currency": currency,
                "total": order.total,
                "platform_fee": order.platform_fee,
                "platform_fee_by_event": _fee_audit(shares),
                "is_member": is_member,
                "expires_at": expires_at.isoformat(),
                "discount": order.discount,
                "promo_codes": [
                    {
                        "id": promo.id,
                        "code": promo.code,
                        "event_id": promo.event_id,
                        "discount": amount.amount,
                    }
                    for promo, amount in promos
                ],
                "lines": [
                    {"description": ln.description, "amount": ln.amount} for ln in order.lines
                ],
            },
        )
        for reg in order.registrations:
            audit.record(
                uow,
                entity_type="registration",
                entity_id=reg.id,
                order_id=order.id,
                action="registration.created",
                actor=buyer,
                now=now,
                details={"event_id": reg.event_id, "class_ids": reg.class_ids},
            )
        # Last, so the rows most buyers want (codes, places) are locked for the shortest time.
        # In promo id order, as `release_for_order` gives them back: no lock-order deadlock.
        for promo, amount in sorted(promos, key=lambda used: used[0].id):
            _claim(uow, promo, buyer=buyer, order_id=order_id, discount=amount, now=now)
        places.reserve(
            uow,
            order_id=order_id,
            wanted=_wanted(priced, registrations),
            expires_at=expires_at,
            now=now,
            swept=swept,
            buyer_id=buyer.user_id,
        )
        view = view_of_new(order, now=now)
        if quote.total.is_zero():
            # Paid from the start: nothing will confirm its places and uses later.
            places.confirm(uow, order, actor=buyer, now=now)
            confirm_registrations(uow, view, payment_id=None, actor=buyer, now=now)
            view = view_of(uow, uow.orders.get(order_id) or order, now=now)
        uow.commit()
        return view


def _apply_promo(
    uow: UnitOfWork, raw: str, lines: Sequence[QuoteLine], currency: str, *, now: datetime
) -> tuple[tuple[QuoteLine, ...], list[tuple[PromoCodeRecord, Money]]]:
    """The lines with the code's discounts, and each code record used with its discount.

    A code is an event's: the same text may name a code at several events of one basket, and
    each discounts its own event's lines. Refusals are 422 with their own code (unknown,
    not yet valid, expired, nothing in the basket it applies to)."""
    try:
        code = normalize_code(raw)
    except InvalidPromoCode:
        raise InvalidRequest(
            "unknown_promo_code", "This promo code is not valid.", {"promo_code": raw[:64]}
        ) from None
    event_ids = list(dict.fromkeys(line.event_id for line in lines if line.event_id))
    try:
        found = uow.promos.find(event_ids, code)
        if not found:
            raise UnknownPromoCode(code)
        used: list[tuple[PromoCodeRecord, Money]] = []
        discounted = tuple(lines)
        refused: PromoRefused | None = None
        for promo in found:
            terms = promo.terms(currency)
            check_window(terms, now, code=code)
            try:
                shares = allocate_discount(
                    terms=terms, lines=discounted, event_id=promo.event_id, code=code
                )
            except PromoCodeNotApplicable as exc:
                refused = exc
                continue
            discounted = with_discounts(discounted, shares)
            used.append((promo, sum_money(shares, currency)))
        if not used:
            assert refused is not None
            raise refused
    except PromoRefused as exc:
        raise InvalidRequest(
            exc.code, _PROMO_MESSAGES.get(exc.code, str(exc)), {"promo_code": code}
        ) from None
    return discounted, used


_PROMO_MESSAGES = {
    "unknown_promo_code": "This promo code is not valid for anything in this order.",
    "promo_code_not_yet_valid": "This promo code cannot be used yet.",
    "promo_code_expired": "This promo code has expired.",
    "promo_code_not_applicable": "This promo code does not apply to anything in this order.",
}


def _claim(
    uow: UnitOfWork,
    promo: PromoCodeRecord,
    *,
    buyer: Principal,
    order_id: str,
    discount: Money,
    now: datetime,
) -> None:
    outcome = uow.promos.claim(
        promo.id, buyer_id=buyer.user_id, order_id=order_id, discount=discount.amount, now=now
    )
    if outcome is PromoClaim.USED_UP:
        raise Conflict(
            "promo_code_used_up",
            "Every use of this promo code is taken.",
            {"promo_code": promo.code, "max_uses": promo.max_uses},
        )
    if outcome is PromoClaim.BUYER_LIMIT:
        raise Conflict(
            "promo_code_limit_reached",
            "You have used this promo code as many times as it allows.",
            {"promo_code": promo.code, "max_uses_per_buyer": promo.max_uses_per_buyer},
        )


def _wanted(
    priced: Sequence[PricedItem], registrations: Sequence[Sequence[RegistrationRecord]]
) -> list[places.Wanted]:
    return [
        places.Wanted(
            claim=claim.claim,
            registration_id=(
                None if claim.registration is None or not regs else regs[claim.registration].id
            ),
            item=index,
            label=claim.label,
        )
        for index, (one, regs) in enumerate(zip(priced, registrations, strict=True))
        for claim in one.claims
    ]


def _check_payable(providers: ProviderRegistry, total: Money) -> None:
    if not providers or total.is_zero():
        return
    refusals = {name.value: gateway.refusal_for(total) for name, gateway in providers.items()}
    if all(refusal is not None for refusal in refusals.values()):
        raise InvalidRequest(
            "currency_not_supported",
            f"No payment provider of this service can take {total.currency.upper()} "
            f"{total.to_decimal_string()}.",
            {"currency": total.currency, "providers": refusals},
        )


def _organizer_shares(
    organizers: Mapping[str, str], shares: Sequence[FeeShare], total: Money, platform_fee: Money
) -> dict[str, list[int]] | None:
    """Per organizer, [gross, fee]: their events' lines (plus the fee when the buyer pays it)
    and their events' fees. None when that does not add up to the order (a discount or tax
    shared otherwise): the ledger then shares the order by line amounts."""
    by_organizer: dict[str, list[int]] = {}
    for share in shares:
        organizer = "" if share.event_id is None else organizers.get(share.event_id, "")
        buyer_pays = share.policy.payer is FeePayer.BUYER
        gross = share.subtotal.amount + (share.fee.amount if buyer_pays else 0)
        parts = by_organizer.setdefault(organizer, [0, 0])
        parts[0] += gross
        parts[1] += share.fee.amount
    gross_total = sum(parts[0] for parts in by_organizer.values())
    fee_total = sum(parts[1] for parts in by_organizer.values())
    if (gross_total, fee_total) != (total.amount, platform_fee.amount):
        return None
    return by_organizer
