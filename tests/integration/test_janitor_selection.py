"""The janitor's due work is selected in SQL, on SQLite and PostgreSQL, never LIMIT-then-filter.

Each case puts more items that are not due (or not actionable) in front of the one that is
than a batch holds, and checks the repository returns exactly the due item.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from eventpay import sample_data
from eventpay.db import SqlUnitOfWorkFactory, make_engine
from eventpay.domain import FeePolicy, PaymentStatus, RefundStatus
from eventpay.ports import PaymentRecord, Principal, ProviderName, RefundRecord, Role
from eventpay.services import orders

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
BUYER = Principal(user_id="competitor-9", role=Role.COMPETITOR)


@pytest.fixture
def uow_factory(database_url: str) -> SqlUnitOfWorkFactory:
    engine = make_engine(database_url)
    factory = SqlUnitOfWorkFactory(engine)
    sample_data.seed(uow_factory=factory, now=NOW)
    return factory


def _order(uow_factory: SqlUnitOfWorkFactory) -> str:
    view = orders.create_order(
        uow=uow_factory(),
        buyer=BUYER,
        items=[orders.RegistrationItem(event_id="spring-sound-off", class_ids=("spring-spl",))],
        promo_code=None,
        fee_policy=FeePolicy(percent=Decimal("2.9"), fixed_minor=30),
        now=NOW,
        expires_in=timedelta(hours=1),
    )
    return view.order.id


def _payment(
    order_id: str,
    status: PaymentStatus,
    *,
    next_check_at: datetime,
    provider: ProviderName = ProviderName.PAYPAL,
    ref: bool = True,
    capture_id: str | None = None,
    checks: int = 1,
) -> PaymentRecord:
    pid = str(uuid.uuid4())
    payment = PaymentRecord(
        id=pid,
        order_id=order_id,
        provider=provider,
        amount=1000,
        currency="usd",
        status=status,
        idempotency_key=f"k-{pid}",
        created_at=NOW,
        updated_at=NOW,
        capture_id=capture_id,
        next_check_at=next_check_at,
        checks=checks,
    )
    if ref:
        payment.link_provider_ref(f"ref-{pid}")
    return payment


def test_an_uncaptured_approval_is_found_behind_a_batch_of_pending_captures(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    order_id = _order(uow_factory)
    with uow_factory() as uow:
        for n in range(60):  # approved and captured (capture PENDING at PayPal): nothing to do
            uow.payments.add(
                _payment(
                    order_id,
                    PaymentStatus.PROCESSING,
                    next_check_at=NOW - timedelta(hours=1),
                    capture_id=f"cap-{n}",
                )
            )
        wanted = _payment(order_id, PaymentStatus.PROCESSING, next_check_at=NOW)
        uow.payments.add(wanted)
        uow.commit()
    with uow_factory() as uow:
        due = uow.payments.list_due(
            now=LATER,
            statuses=[PaymentStatus.PROCESSING],
            provider=ProviderName.PAYPAL,
            captured=False,
            limit=50,
        )
    assert [p.id for p in due] == [wanted.id]


def test_due_payments_come_longest_due_first_and_backed_off_ones_wait(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    order_id = _order(uow_factory)
    with uow_factory() as uow:
        for _ in range(60):  # checked and backed off beyond LATER
            uow.payments.add(
                _payment(order_id, PaymentStatus.UNKNOWN, next_check_at=LATER + timedelta(hours=1))
            )
        second = _payment(order_id, PaymentStatus.UNKNOWN, next_check_at=NOW)
        first = _payment(order_id, PaymentStatus.UNKNOWN, next_check_at=NOW - timedelta(minutes=1))
        orphan = _payment(
            order_id,
            PaymentStatus.CREATED,
            next_check_at=NOW,
            provider=ProviderName.STRIPE,
            ref=False,
        )
        waiting = _payment(
            order_id, PaymentStatus.CREATED, next_check_at=NOW, provider=ProviderName.STRIPE
        )
        for p in (second, first, orphan, waiting):
            uow.payments.add(p)
        uow.commit()
    with uow_factory() as uow:
        unknown = uow.payments.list_due(now=LATER, statuses=[PaymentStatus.UNKNOWN], limit=2)
        created = uow.payments.list_due(
            now=LATER, statuses=[PaymentStatus.CREATED], linked=False, limit=50
        )
    assert [p.id for p in unknown] == [first.id, second.id]
    assert [p.id for p in created] == [orphan.id]  # an intent waiting for its buyer is not work
    assert (created[0].next_check_at, created[0].checks) == (NOW, 1)


def test_open_attempts_beside_a_success_include_the_never_checked(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    paid_order, open_order = _order(uow_factory), _order(uow_factory)
    with uow_factory() as uow:
        uow.payments.add(_payment(paid_order, PaymentStatus.SUCCEEDED, next_check_at=NOW))
        fresh = _payment(
            paid_order,
            PaymentStatus.REQUIRES_ACTION,
            next_check_at=LATER + timedelta(minutes=1),
            provider=ProviderName.STRIPE,
            checks=0,
        )
        backed_off = _payment(
            paid_order,
            PaymentStatus.FAILED,
            next_check_at=LATER + timedelta(minutes=1),
            provider=ProviderName.STRIPE,
        )
        alone = _payment(
            open_order, PaymentStatus.FAILED, next_check_at=NOW, provider=ProviderName.STRIPE
        )
        for p in (fresh, backed_off, alone):
            uow.payments.add(p)
        uow.commit()
    with uow_factory() as uow:
        due = uow.payments.list_due(
            now=LATER,
            statuses=[PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED],
            provider=ProviderName.STRIPE,
            linked=True,
            created_after=NOW - timedelta(days=7),
            beside_success=True,
            unchecked_too=True,
            limit=50,
        )
    assert [p.id for p in due] == [fresh.id]


def test_an_unsent_refund_is_found_behind_a_batch_of_acknowledged_ones(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    order_id = _order(uow_factory)
    with uow_factory() as uow:
        paid = _payment(order_id, PaymentStatus.SUCCEEDED, next_check_at=NOW)
        uow.payments.add(paid)

        def refund(n: int, *, sent: bool, at: datetime) -> RefundRecord:
            return RefundRecord(
                id=str(uuid.uuid4()),
                order_id=order_id,
                payment_id=paid.id,
                provider=ProviderName.PAYPAL,
                amount=1,
                currency="usd",
                status=RefundStatus.PENDING,
                reason="test",
                created_at=NOW - timedelta(minutes=10),
                idempotency_key=f"r-{n}-{uuid.uuid4()}",
                provider_refund_id=f"re-{n}" if sent else None,
                next_check_at=at,
            )

        for n in range(25):
            uow.refunds.add(refund(n, sent=True, at=LATER + timedelta(minutes=1)))
        unsent = refund(99, sent=False, at=NOW)
        uow.refunds.add(unsent)
        uow.commit()
    with uow_factory() as uow:
        due = uow.refunds.list_due(now=LATER, limit=20)
    assert [r.id for r in due] == [unsent.id]
