"""Promo codes managed by an event's organizer or an admin, on the fake unit of work; and the
fake repository's counts (the SQL one is held to the same answers in tests/integration)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from eventpay.domain import Money
from eventpay.ports import Principal, Role
from eventpay.ports.promos import PromoClaim, PromoCodeRecord
from eventpay.sample_ids import ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from eventpay.services import promo_codes
from eventpay.services.errors import Conflict, InvalidRequest, NotFound
from eventpay.services.promo_codes import PromoCodeInput

from .scenario import SPRING, World

OWNER = Principal("o-1", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = Principal("o-2", Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)
ADMIN = Principal("ops", Role.ADMIN)
BUYER = Principal("competitor-1", Role.COMPETITOR)


@pytest.fixture(autouse=True)
def _no_sample_codes(world: World) -> None:
    """These tests start from an event without codes and an empty audit log: drop the sample
    catalog's own code and the audit rows its seeding wrote."""
    world.store.tables.promos.codes.clear()
    world.store.tables.audit.clear()


def create(world: World, asked: PromoCodeInput, caller: Principal = OWNER) -> PromoCodeRecord:
    view = promo_codes.create_promo_code(
        uow_factory=world.uow_factory,
        caller=caller,
        event_id=SPRING,
        asked=asked,
        now=world.clock(),
    )
    assert view.currency == "usd"
    return view.promo


def test_the_organizer_creates_a_code_normalized_and_audited(world: World) -> None:
    until = world.clock() + timedelta(days=10)
    promo = promo_codes.create_promo_code(
        uow_factory=world.uow_factory,
        caller=OWNER,
        event_id=SPRING,
        asked=PromoCodeInput(
            code=" early-10 ",
            percent_off=Decimal("12.5"),
            max_uses=50,
            max_uses_per_buyer=1,
            valid_until=until,
            applies_to="registration",
        ),
        now=world.clock(),
    ).promo
    assert (promo.code, promo.percent_off, promo.amount_off) == ("EARLY-10", Decimal("12.5"), None)
    assert (promo.max_uses, promo.remaining, promo.valid_until) == (50, 50, until)
    assert world.store.tables.promos.codes == {promo.id: promo}
    (entry,) = [e for e in world.store.tables.audit if e.entity_type == "promo_code"]
    assert (entry.action, entry.entity_id, entry.actor_id) == (
        "promo_code.created",
        promo.id,
        "o-1",
    )
    assert entry.details["percent_off"] == "12.5"
    assert entry.details["code"] == "EARLY-10"
    terms = promo.terms("usd")
    assert (terms.percent_off_bps, terms.amount_off, terms.valid_until) == (1250, None, until)
    assert (terms.max_uses, terms.max_uses_per_buyer, terms.applies_to) == (50, 1, "registration")


def test_an_admin_may_create_for_any_event_and_a_fixed_amount_is_in_its_currency(
    world: World,
) -> None:
    promo = promo_codes.create_promo_code(
        uow_factory=world.uow_factory,
        caller=ADMIN,
        event_id=SPRING,
        asked=PromoCodeInput(code="FIVE", amount_off=500, amount_currency="USD"),
        now=world.clock(),
    ).promo
    assert (promo.amount_off, promo.percent_off, promo.created_by) == (500, None, "ops")
    assert promo.terms("usd").amount_off == Money(500, "usd")


@pytest.mark.parametrize("caller", [RIVAL, BUYER])
def test_anyone_else_gets_event_not_found_and_nothing_changes(
    world: World, caller: Principal
) -> None:
    before = world.store.snapshot()
    for call in (
        lambda: create(world, PromoCodeInput(code="NOPE", percent_off=Decimal(5)), caller),
        lambda: promo_codes.list_promo_codes(
            uow_factory=world.uow_factory, caller=caller, event_id=SPRING
        ),
        lambda: promo_codes.disable_promo_code(
            uow_factory=world.uow_factory,
            caller=caller,
            event_id=SPRING,
            code="NOPE",
            now=world.clock(),
        ),
    ):
        with pytest.raises(NotFound) as refused:
            call()
        assert refused.value.code == "event_not_found"
    assert world.store.tables == before
    with pytest.raises(NotFound):
        promo_codes.list_promo_codes(uow_factory=world.uow_factory, caller=ADMIN, event_id="nope")


def test_a_second_code_of_the_same_name_is_a_conflict(world: World) -> None:
    create(world, PromoCodeInput(code="dup", percent_off=Decimal(5)))
    with pytest.raises(Conflict) as refused:
        create(world, PromoCodeInput(code=" DUP", amount_off=100))
    assert refused.value.code == "promo_code_exists"
    assert len(world.store.tables.promos.codes) == 1


INVALID = "invalid_promo_code"
MISMATCH = "currency_mismatch"
P5 = Decimal(5)


@pytest.mark.parametrize(
    ("asked", "code", "field"),
    [
        (PromoCodeInput(code="x", percent_off=P5), INVALID, "code"),
        (PromoCodeInput(code="BOTH", percent_off=P5, amount_off=5), INVALID, "percent_off"),
        (PromoCodeInput(code="NONE"), INVALID, "percent_off"),
        (PromoCodeInput(code="BIG", percent_off=Decimal(101)), INVALID, "percent_off"),
        (PromoCodeInput(code="NEG", amount_off=-5), INVALID, "amount_off"),
        (PromoCodeInput(code="EUR", amount_off=5, amount_currency="eur"), MISMATCH, "amount_off"),
        (PromoCodeInput(code="XXX", amount_off=5, amount_currency="xxx"), MISMATCH, "amount_off"),
        (PromoCodeInput(code="ZERO", percent_off=P5, max_uses=0), INVALID, "max_uses"),
        (PromoCodeInput(code="KIND", percent_off=P5, applies_to="fee"), INVALID, "applies_to"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(
    world: World, asked: PromoCodeInput, code: str, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        create(world, asked)
    assert (refused.value.code, refused.value.details["field"]) == (code, field)
    assert world.store.tables.promos.codes == {}
    assert world.store.tables.audit == []


def test_a_window_that_ends_before_it_starts_is_refused(world: World) -> None:
    start = world.clock()
    with pytest.raises(InvalidRequest) as refused:
        create(
            world,
            PromoCodeInput(
                code="BACK", percent_off=Decimal(5), valid_from=start, valid_until=start
            ),
        )
    assert refused.value.details == {"field": "valid_until"}


def test_listing_shows_uses_and_what_remains_and_disabling_hides_the_code(world: World) -> None:
    a = create(world, PromoCodeInput(code="AAA", percent_off=Decimal(5), max_uses=2))
    create(world, PromoCodeInput(code="BBB", amount_off=300))
    promo_id = a.id
    with world.uow_factory() as uow:
        assert (
            uow.promos.claim(
                promo_id, buyer_id="b1", order_id="o1", discount=100, now=world.clock()
            )
            is PromoClaim.CLAIMED
        )
        uow.commit()
    listed = promo_codes.list_promo_codes(
        uow_factory=world.uow_factory, caller=OWNER, event_id=SPRING
    )
    assert listed.currency == "usd"
    assert [(p.code, p.uses, p.remaining) for p in listed.codes] == [
        ("AAA", 1, 1),
        ("BBB", 0, None),
    ]

    done = promo_codes.disable_promo_code(
        uow_factory=world.uow_factory, caller=OWNER, event_id=SPRING, code="aaa", now=world.clock()
    )
    assert (done.promo.disabled_at, done.promo.uses, done.currency) == (world.clock(), 1, "usd")
    again = promo_codes.disable_promo_code(
        uow_factory=world.uow_factory, caller=ADMIN, event_id=SPRING, code="AAA", now=world.clock()
    )
    assert again == done
    actions = [e.action for e in world.store.tables.audit if e.entity_type == "promo_code"]
    assert actions == ["promo_code.created", "promo_code.created", "promo_code.disabled"]
    with world.uow_factory() as uow:
        assert uow.promos.find([SPRING], "AAA") == []
        assert [p.code for p in uow.promos.find([SPRING, "other"], "BBB")] == ["BBB"]
    for missing in ("ZZZ", "no"):
        with pytest.raises(NotFound) as refused:
            promo_codes.disable_promo_code(
                uow_factory=world.uow_factory,
                caller=OWNER,
                event_id=SPRING,
                code=missing,
                now=world.clock(),
            )
        assert refused.value.code == "promo_code_not_found"


def test_the_fake_counts_uses_like_the_database(world: World) -> None:
    promo = create(
        world,
        PromoCodeInput(code="TWO", percent_off=Decimal(5), max_uses=2, max_uses_per_buyer=1),
    )
    now = world.clock()
    with world.uow_factory() as uow:

        def claim(buyer: str, order: str) -> PromoClaim:
            return uow.promos.claim(promo.id, buyer_id=buyer, order_id=order, discount=1, now=now)

        assert claim("b1", "o1") is PromoClaim.CLAIMED
        assert claim("b1", "o1") is PromoClaim.CLAIMED  # the same order: counted once
        assert claim("b1", "o2") is PromoClaim.BUYER_LIMIT
        assert claim("b2", "o3") is PromoClaim.CLAIMED
        assert claim("b3", "o4") is PromoClaim.USED_UP
        assert uow.promos.release_for_order("o1", now=now) == [promo.id]
        assert uow.promos.release_for_order("o1", now=now) == []
        assert claim("b1", "o2") is PromoClaim.CLAIMED
        found = uow.promos.get(promo.id)
        assert found is not None
        assert found.uses == 2
    assert world.store.tables.promos.codes[promo.id].uses == 0  # never committed
