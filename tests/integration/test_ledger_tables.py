"""The ledger in the real databases: posted with the payment, verified, append-only, once.

On SQLite and PostgreSQL: a card payment paid at the Stripe sandbox and read back by the core
posts one balanced transaction in the same commit; `books.verify` is clean; posting the same
cause again stores nothing; the ledger's rows cannot be edited or deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from eventpay.bootstrap import Container
from eventpay.domain import AccountKind
from eventpay.ports import Principal, ProviderName, Role
from eventpay.sample_ids import ORGANIZER_ID
from eventpay.services import books
from support.api import bearer
from support.paid_orders import new_buyer, paid_order

BUYER = Principal(user_id="competitor-ledger", role=Role.COMPETITOR)


def _paid_order(c: Container, sandbox: str) -> str:
    return paid_order(c, sandbox, buyer=new_buyer(BUYER.user_id))


def test_a_payment_posts_one_balanced_transaction_and_the_books_verify(
    container: Container, stripe_sandbox: str
) -> None:
    order_id = _paid_order(container, stripe_sandbox)

    with container.uow_factory() as uow:
        order = uow.orders.get(order_id)
        payable = uow.ledger.balances(kind=AccountKind.ORGANIZER_PAYABLE)
        postings = uow.ledger.postings_for_order(order_id)
        assert uow.ledger.unbalanced() == []
    assert order is not None
    assert sum(payable.values()) == -order.organizer_net
    assert sum(p.amount for p in postings) == 0
    report = books.verify(uow_factory=container.uow_factory)
    assert report.clean, report.problems


def test_a_cause_is_posted_once(container: Container, stripe_sandbox: str) -> None:
    order_id = _paid_order(container, stripe_sandbox)
    with container.engine.connect() as conn:
        (cause,) = conn.execute(
            text(
                "SELECT cause FROM ledger_transactions"
                " WHERE order_id = :o AND kind = 'payment_succeeded'"
            ),
            {"o": order_id},
        ).scalars()
    from eventpay.domain import Account, LedgerTransaction, Posting

    again = LedgerTransaction(
        cause=cause,
        kind="test",
        postings=(
            Posting(Account(AccountKind.PROVIDER_CLEARING, "stripe", "usd"), 1),
            Posting(Account(AccountKind.OVERPAYMENT, "", "usd"), -1),
        ),
        order_id=order_id,
    )
    with container.uow_factory() as uow:
        assert uow.ledger.post(again, at=datetime.now(UTC)) is False
        uow.commit()
    assert books.verify(uow_factory=container.uow_factory).clean


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_postings SET amount = amount + 1",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_transactions SET kind = 'edited'",
        "DELETE FROM ledger_transactions",
    ],
)
def test_ledger_rows_cannot_be_changed(
    container: Container, stripe_sandbox: str, statement: str
) -> None:
    _paid_order(container, stripe_sandbox)
    with pytest.raises(DBAPIError, match="append-only"), container.engine.begin() as conn:
        conn.execute(text(statement))
    assert books.verify(uow_factory=container.uow_factory).clean


def test_an_organizer_reads_only_their_own_balance(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    order_id = _paid_order(container, stripe_sandbox)
    with container.uow_factory() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    url = f"/v1/organizers/{ORGANIZER_ID}/balance"

    own = client.get(url, headers=bearer("org-user", Role.ORGANIZER, organizer_id=ORGANIZER_ID))
    admin = client.get(url, headers=bearer("ops", Role.ADMIN))
    other = client.get(url, headers=bearer("rival", Role.ORGANIZER, organizer_id="org-rival"))
    competitor = client.get(url, headers=bearer(BUYER.user_id))
    unknown = client.get("/v1/organizers/nobody/balance", headers=bearer("ops", Role.ADMIN))

    assert own.status_code == admin.status_code == 200
    assert own.json() == admin.json()
    (usd,) = own.json()["balances"]
    # The event has not happened: what it earned is held until its reserve ends.
    assert usd["held"] == {"amount": order.organizer_net, "currency": "usd"}
    assert usd["available"]["amount"] == usd["pending"]["amount"] == 0
    for refused in (other, competitor, unknown):
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "organizer_not_found"


def test_stripes_fee_is_read_with_the_payment_and_booked_as_an_expense(
    container: Container, stripe_sandbox: str
) -> None:
    order_id = _paid_order(container, stripe_sandbox)  # read back with the balance transaction

    with container.uow_factory() as uow:
        expense = uow.ledger.balances(kind=AccountKind.PROVIDER_FEE_EXPENSE)
        (payment,) = uow.payments.list_for_order(order_id)
    assert payment.provider_ref is not None
    fee = container.providers[ProviderName.STRIPE].retrieve_payment(payment.provider_ref).fee
    assert fee is not None
    assert fee.amount > 0  # the sandbox's documented 2.9 % + 30
    assert expense == {
        next(iter(expense)): fee.amount,
    }
    assert books.verify(uow_factory=container.uow_factory).clean


def test_an_organizers_statement_lists_each_movement_between_its_balances(
    client: TestClient, container: Container, stripe_sandbox: str
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    first = _paid_order(container, stripe_sandbox)
    second = _paid_order(container, stripe_sandbox)
    end = datetime.now(UTC) + timedelta(minutes=1)
    own = bearer("org-user", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
    url = f"/v1/organizers/{ORGANIZER_ID}/statement"
    period = {"from": start.isoformat(), "to": end.isoformat()}

    answer = client.get(url, params=period, headers=own)
    as_csv = client.get(url, params=period, headers={**own, "Accept": "text/csv"})
    rival = client.get(
        url, params=period, headers=bearer("r", Role.ORGANIZER, organizer_id="org-rival")
    )

    assert answer.status_code == 200
    (usd,) = answer.json()["currencies"]
    payments = [e for e in usd["entries"] if e["kind"] == "payment_succeeded"]
    assert [e["order_id"] for e in payments] == [first, second]
    with container.uow_factory() as uow:
        nets = [uow.orders.get(o).organizer_net for o in (first, second)]  # type: ignore[union-attr]
    assert [e["payable"]["amount"] for e in payments] == nets
    assert usd["opening"]["amount"] == 0
    assert usd["closing"]["amount"] == sum(nets)
    assert all(e["platform_fee"]["amount"] > 0 for e in payments)
    rows = as_csv.text.strip().splitlines()
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert rows[0].startswith("at,kind,order_id")
    closing = next(r for r in rows if ",closing," in r)
    assert closing.endswith(f",{sum(nets)}")
    # Then what holds it back now: the open event's reserve, all of it.
    with container.uow_factory() as uow:
        spring = uow.catalog.get_event("spring-sound-off")
    assert spring is not None
    assert rows[-1].startswith(spring.reserve_until.isoformat())
    assert rows[-1].split(",")[1:5] == ["reserve:spring-sound-off", "", "usd", str(sum(nets))]
    held = answer.json()["held_now"]
    assert held["admin_hold"] is None
    assert [(r["event_id"], r["amount"]["amount"]) for r in held["reserves"]] == [
        ("spring-sound-off", sum(nets))
    ]
    assert held["balances"][0]["held"]["amount"] == sum(nets)
    assert rival.status_code == 404
    later = client.get(
        url,
        params={"from": end.isoformat(), "to": (end + timedelta(days=1)).isoformat()},
        headers=own,
    )
    (after,) = later.json()["currencies"]
    assert (after["opening"]["amount"], after["entries"]) == (sum(nets), [])
