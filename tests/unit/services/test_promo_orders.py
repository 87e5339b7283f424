"""Promo codes at checkout: the discount is in the quote, the total, the fee base and the
stored lines; uses are counted when the order is placed and given back when it lapses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from eventpay.domain import Money
from eventpay.ports import Principal, Role
from eventpay.services import janitor, promo_codes
from eventpay.services.errors import Conflict, InvalidRequest

from .scenario import ADMIN, EXPIRES_IN, FEE_POLICY, SPRING, SUMMER, World, item


def buyer(n: int) -> Principal:
    return Principal(user_id=f"competitor-q{n}", role=Role.COMPETITOR)


def code(world: World, name: str = "BASS10", event_id: str = SPRING, **terms: object) -> None:
    asked = promo_codes.PromoCodeInput(code=name, **terms)  # type: ignore[arg-type]
    promo_codes.create_promo_code(
        uow_factory=world.uow_factory,
        caller=ADMIN,
        event_id=event_id,
        asked=asked,
        now=world.clock(),
    )


def uses(world: World, name: str = "BASS10") -> int:
    (promo,) = [p for p in world.store.tables.promos.codes.values() if p.code == name]
    return promo.uses


def test_a_percent_code_discounts_the_lines_and_the_fee_is_charged_on_what_is_paid(
    world: World,
) -> None:
    full = world.place_order(item(SPRING, "spring-spl", "spring-sq"), buyer=buyer(1)).order
    code(world, percent_off=Decimal("10"))
    order = world.place_order(
        item(SPRING, "spring-spl", "spring-sq"), buyer=buyer(2), promo_code=" bass10 "
    ).order
    assert order.subtotal == full.subtotal
    assert order.discount == round(full.subtotal / 10)
    assert sum(line.discount for line in order.lines) == order.discount
    assert all(0 <= line.discount <= line.amount for line in order.lines)
    assert order.total == order.subtotal - order.discount + order.fees + order.tax
    assert order.total == order.organizer_net + order.platform_fee + order.tax
    # The platform fee is the policy's on the discounted subtotal (scenario.FEE_POLICY).
    assert order.platform_fee < full.platform_fee
    paid_for = Money(order.subtotal - order.discount, "usd")
    assert order.platform_fee == FEE_POLICY.fee_for(paid_for).amount
    assert order.organizer_shares is not None
    assert uses(world) == 1


def test_an_amount_code_never_discounts_more_than_the_lines(world: World) -> None:
    code(world, amount_off=10_000_000)
    order = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1), promo_code="BASS10").order
    assert order.discount == order.subtotal
    assert order.total == order.fees


@pytest.mark.parametrize(
    ("name", "terms", "promo", "error"),
    [
        ("BASS10", {"percent_off": Decimal(5)}, "NOPE10", "unknown_promo_code"),
        ("BASS10", {"percent_off": Decimal(5)}, "no", "unknown_promo_code"),
        ("SUMMER5", {"percent_off": Decimal(5)}, "SUMMER5", "unknown_promo_code"),
        (
            "LATER",
            {"percent_off": Decimal(5), "valid_from_days": 2},
            "LATER",
            "promo_code_not_yet_valid",
        ),
        ("OVER", {"percent_off": Decimal(5), "valid_until_days": -1}, "OVER", "promo_code_expired"),
    ],
)
def test_refused_codes_have_their_own_error_codes(
    world: World, name: str, terms: dict[str, object], promo: str, error: str
) -> None:
    now = world.clock()
    asked = dict(terms)
    if "valid_from_days" in asked:
        asked["valid_from"] = now + timedelta(days=float(str(asked.pop("valid_from_days"))))
    if "valid_until_days" in asked:
        asked["valid_from"] = now - timedelta(days=10)
        asked["valid_until"] = now + timedelta(days=float(str(asked.pop("valid_until_days"))))
    code(world, name, SUMMER if name == "SUMMER5" else SPRING, **asked)
    with pytest.raises(InvalidRequest) as refused:
        world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1), promo_code=promo)
    assert refused.value.code == error
    assert not world.store.tables.orders


def test_the_last_use_goes_to_one_buyer_and_a_lapsed_order_gives_it_back(world: World) -> None:
    code(world, percent_off=Decimal("15"), max_uses=1)
    first = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1), promo_code="BASS10")
    with pytest.raises(Conflict) as refused:
        world.place_order(item(SPRING, "spring-spl"), buyer=buyer(2), promo_code="BASS10")
    assert refused.value.code == "promo_code_used_up"
    world.clock.advance(EXPIRES_IN)
    janitor.release_expired(uow_factory=world.uow_factory, clock=world.clock)
    assert uses(world) == 0
    assert "order.promo_code_released" in world.actions(first.order.id)
    second = world.place_order(item(SPRING, "spring-spl"), buyer=buyer(2), promo_code="BASS10")
    assert second.order.discount > 0
    assert uses(world) == 1


def test_a_buyer_limit_is_per_buyer(world: World) -> None:
    code(world, percent_off=Decimal("15"), max_uses_per_buyer=1)
    world.place_order(item(SPRING, "spring-spl"), buyer=buyer(1), promo_code="BASS10")
    with pytest.raises(Conflict) as refused:
        world.place_order(item(SPRING, "spring-sq"), buyer=buyer(1), promo_code="BASS10")
    assert refused.value.code == "promo_code_limit_reached"
    world.place_order(item(SPRING, "spring-sq"), buyer=buyer(2), promo_code="BASS10")
    assert uses(world) == 2
