"""Promo code counts on SQLite and PostgreSQL: the last use goes to exactly one of two racing
buyers, per-buyer limits hold, and an order gives its use back exactly once.

The races run in threads, each with its own unit of work (its own connection and transaction),
released together by a barrier, so the database and not Python decides who wins.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.ports import OrderRecord
from eventpay.ports.promos import PromoClaim, PromoCodeRecord
from eventpay.sample_ids import LATER_EVENT, OPEN_EVENT
from support.stack import make_settings, seeded_container

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def container(database_url: str, stripe_sandbox: str) -> Iterator[Container]:
    with seeded_container(make_settings(database_url, stripe_sandbox)) as built:
        yield built


def add_code(
    container: Container,
    *,
    code: str = "SPRING",
    event_id: str = OPEN_EVENT,
    max_uses: int | None = None,
    per_buyer: int | None = None,
) -> PromoCodeRecord:
    promo = PromoCodeRecord(
        id=str(uuid.uuid4()),
        event_id=event_id,
        code=code,
        percent_off=Decimal("12.5"),
        amount_off=None,
        applies_to="registration",
        max_uses=max_uses,
        max_uses_per_buyer=per_buyer,
        uses=0,
        valid_from=NOW,
        valid_until=None,
        created_at=NOW,
        created_by="o-1",
    )
    with container.uow_factory() as uow:
        assert uow.promos.add(promo)
        uow.commit()
    return promo


def add_order(container: Container, buyer: str) -> str:
    order_id = str(uuid.uuid4())
    with container.uow_factory() as uow:
        uow.orders.add(
            OrderRecord(
                id=order_id,
                buyer_id=buyer,
                currency="usd",
                subtotal=1000,
                discount=0,
                fees=0,
                tax=0,
                total=1000,
                platform_fee=0,
                organizer_net=1000,
                created_at=NOW,
                expires_at=None,
            )
        )
        uow.commit()
    return order_id


def claim(container: Container, promo_id: str, buyer: str, order_id: str) -> PromoClaim:
    with container.uow_factory() as uow:
        answer = uow.promos.claim(
            promo_id, buyer_id=buyer, order_id=order_id, discount=125, now=NOW
        )
        uow.commit()
    return answer


def release(container: Container, order_id: str) -> list[str]:
    with container.uow_factory() as uow:
        released = list(uow.promos.release_for_order(order_id, now=NOW))
        uow.commit()
    return released


def counts(container: Container, promo_id: str) -> tuple[int, dict[str, int], list[str]]:
    with container.engine.connect() as conn:
        uses = conn.execute(
            text("SELECT uses FROM promo_codes WHERE id = :id"), {"id": promo_id}
        ).scalar_one()
        buyers = dict(
            conn.execute(
                text("SELECT buyer_id, uses FROM promo_buyer_uses WHERE promo_code_id = :id"),
                {"id": promo_id},
            ).all()
        )
        statuses = list(
            conn.execute(
                text(
                    "SELECT status FROM promo_code_uses WHERE promo_code_id = :id ORDER BY status"
                ),
                {"id": promo_id},
            ).scalars()
        )
    return uses, buyers, statuses


def race(*calls: Callable[[], PromoClaim]) -> list[PromoClaim]:
    barrier = threading.Barrier(len(calls))
    answers: list[PromoClaim | BaseException] = [PromoClaim.USED_UP] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = calls[index]()
        except BaseException as exc:  # surfaced below, in the test's thread
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return [a for a in answers if isinstance(a, PromoClaim)]


def test_two_buyers_racing_for_the_last_use_exactly_one_wins(container: Container) -> None:
    promo = add_code(container, max_uses=2)
    first = add_order(container, "buyer-0")
    assert claim(container, promo.id, "buyer-0", first) is PromoClaim.CLAIMED
    orders = {buyer: add_order(container, buyer) for buyer in ("buyer-a", "buyer-b")}

    answers = race(
        *(
            (lambda buyer=buyer, order=order: claim(container, promo.id, buyer, order))
            for buyer, order in orders.items()
        )
    )

    assert sorted(answers) == [PromoClaim.CLAIMED, PromoClaim.USED_UP]
    uses, buyers, statuses = counts(container, promo.id)
    assert uses == 2
    assert statuses == ["active", "active"]
    assert sum(buyers.values()) == 2


def test_many_buyers_racing_never_take_more_than_max_uses(container: Container) -> None:
    promo = add_code(container, max_uses=3)
    orders = {f"buyer-{n}": add_order(container, f"buyer-{n}") for n in range(8)}

    answers = race(
        *(
            (lambda buyer=buyer, order=order: claim(container, promo.id, buyer, order))
            for buyer, order in orders.items()
        )
    )

    assert answers.count(PromoClaim.CLAIMED) == 3
    assert answers.count(PromoClaim.USED_UP) == 5
    assert counts(container, promo.id)[0] == 3


def test_one_buyer_racing_two_orders_against_a_limit_of_one_gets_one(
    container: Container,
) -> None:
    promo = add_code(container, per_buyer=1)
    orders = [add_order(container, "buyer-a") for _ in range(2)]

    answers = race(
        *((lambda order=order: claim(container, promo.id, "buyer-a", order)) for order in orders)
    )

    assert sorted(answers) == [PromoClaim.BUYER_LIMIT, PromoClaim.CLAIMED]
    assert counts(container, promo.id) == (1, {"buyer-a": 1}, ["active"])


def test_the_per_buyer_limit_counts_each_buyer_and_gives_back_the_total(
    container: Container,
) -> None:
    promo = add_code(container, max_uses=10, per_buyer=2)
    a1, a2, a3, b1 = (add_order(container, b) for b in ("a", "a", "a", "b"))

    assert claim(container, promo.id, "a", a1) is PromoClaim.CLAIMED
    assert claim(container, promo.id, "a", a2) is PromoClaim.CLAIMED
    assert claim(container, promo.id, "a", a3) is PromoClaim.BUYER_LIMIT
    assert claim(container, promo.id, "b", b1) is PromoClaim.CLAIMED
    # The refused claim took nothing: the total went back down in the same transaction.
    assert counts(container, promo.id) == (3, {"a": 2, "b": 1}, ["active"] * 3)
    # Claiming again for an order that holds the code counts nothing.
    assert claim(container, promo.id, "a", a1) is PromoClaim.CLAIMED
    assert counts(container, promo.id)[0] == 3


def test_a_release_gives_back_once_and_the_use_can_be_claimed_again(
    container: Container,
) -> None:
    promo = add_code(container, max_uses=1, per_buyer=1)
    other = add_code(container, code="OTHER", event_id=LATER_EVENT)
    first, second = add_order(container, "a"), add_order(container, "b")
    assert claim(container, promo.id, "a", first) is PromoClaim.CLAIMED
    assert claim(container, other.id, "a", first) is PromoClaim.CLAIMED
    assert claim(container, promo.id, "b", second) is PromoClaim.USED_UP

    assert sorted(release(container, first)) == sorted([promo.id, other.id])
    assert release(container, first) == []
    assert counts(container, promo.id) == (0, {"a": 0}, ["released"])
    assert counts(container, other.id)[0] == 0

    assert claim(container, promo.id, "b", second) is PromoClaim.CLAIMED
    # The order that gave its use back may take it again (its use row is reused).
    third = add_order(container, "c")
    assert claim(container, promo.id, "c", third) is PromoClaim.USED_UP
    assert release(container, second) == [promo.id]
    assert claim(container, promo.id, "a", first) is PromoClaim.CLAIMED
    assert counts(container, promo.id) == (1, {"a": 1, "b": 0}, ["active", "released"])


def test_two_releases_of_one_order_racing_give_back_one_use(container: Container) -> None:
    promo = add_code(container, max_uses=5)
    order = add_order(container, "a")
    assert claim(container, promo.id, "a", order) is PromoClaim.CLAIMED
    released: list[list[str]] = []

    def release_once() -> PromoClaim:
        released.append(release(container, order))
        return PromoClaim.CLAIMED

    race(release_once, release_once)

    assert sorted(released) == [[], [promo.id]]
    assert counts(container, promo.id) == (0, {"a": 0}, ["released"])


def test_codes_are_unique_per_event_found_by_event_and_hidden_once_disabled(
    container: Container,
) -> None:
    promo = add_code(container)
    later = add_code(container, event_id=LATER_EVENT)
    with container.uow_factory() as uow:
        again = PromoCodeRecord(
            id=str(uuid.uuid4()),
            event_id=OPEN_EVENT,
            code="SPRING",
            percent_off=None,
            amount_off=500,
            applies_to=None,
            max_uses=None,
            max_uses_per_buyer=None,
            uses=0,
            valid_from=None,
            valid_until=None,
            created_at=NOW,
            created_by="o-1",
        )
        assert uow.promos.add(again) is False
        # The refusal left the transaction usable.
        assert [p.event_id for p in uow.promos.find([OPEN_EVENT, LATER_EVENT], "SPRING")] == sorted(
            [OPEN_EVENT, LATER_EVENT]
        )
        assert uow.promos.get(promo.id) == promo
        assert uow.promos.get_by_code(OPEN_EVENT, "SPRING") == promo
        assert uow.promos.get_by_code(OPEN_EVENT, "NOPE") is None
        assert uow.promos.find([], "SPRING") == []
        assert uow.promos.disable(later.id, now=NOW) is True
        assert uow.promos.disable(later.id, now=NOW) is False
        uow.commit()
    with container.uow_factory() as uow:
        assert [p.id for p in uow.promos.find([OPEN_EVENT, LATER_EVENT], "SPRING")] == [promo.id]
        (listed,) = uow.promos.list_for_event(LATER_EVENT)
        assert listed.disabled_at == NOW
        assert listed.percent_off == Decimal("12.5")
