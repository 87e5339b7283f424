"""A small world for service tests: fakes wired together, the sample catalog, and shortcuts.

Shortcuts go through the public service functions only (place an order, start a payment,
deliver a signed webhook, run the worker), so a test's setup exercises the same paths a request
would. The Hypothesis property builds a fresh `World` per example; the fixtures in conftest.py
build one per test.

One competitor holds a class of an event once (issue 9): a second order of theirs for it
supersedes the first while that is unpaid, and is refused once it is paid. A test that pays
several orders for one class gives each its own buyer (`World.new_buyer`); `start` and `pay`
act as the order's buyer unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from eventpay import sample_data
from eventpay.domain import FeePolicy, PaymentStatus
from eventpay.ports import (
    AuditEntry,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderRegistry,
    Role,
    WebhookEventRecord,
)
from eventpay.providers.stripe_webhook import StripeWebhookVerifier
from eventpay.services import orders, payments, webhooks
from eventpay.services.orders import OrderView, RegistrationItem
from eventpay.services.payments import PaymentStart
from eventpay.services.webhooks import IngestResult, RetryPolicy

from .fakes import FakeClock, FakeProvider, FakeStore, FakeUnitOfWorkFactory, signed

WEBHOOK_SECRET = "whsec_unit_test_secret"
FEE_POLICY = FeePolicy(percent=Decimal("2.9"), fixed_minor=30)
EXPIRES_IN = timedelta(hours=1)

SPRING = "spring-sound-off"  # open, early bird running for 60 more days
SUMMER = "summer-bass-bash"  # opens in 30 days
WINTER = "winter-warm-up"  # closed yesterday

BUYER = Principal(user_id=sample_data.NON_MEMBER_ID, role=Role.COMPETITOR, ip_address="203.0.113.7")
MEMBER = Principal(user_id=sample_data.MEMBER_ID, role=Role.COMPETITOR)
STRANGER = Principal(user_id="competitor-3003", role=Role.COMPETITOR)
ADMIN = Principal(user_id="admin-1", role=Role.ADMIN)


def competitor(n: int) -> Principal:
    """The `n`th competitor of a test's own, a non-member like `BUYER`, from the same address."""
    return Principal(user_id=f"competitor-t{n}", role=Role.COMPETITOR, ip_address=BUYER.ip_address)


def item(event_id: str = SPRING, *class_ids: str) -> RegistrationItem:
    prefix = event_id.split("-")[0]
    return RegistrationItem(event_id=event_id, class_ids=class_ids or (f"{prefix}-spl",))


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    store: FakeStore = field(default_factory=FakeStore)
    provider: FakeProvider = field(default_factory=FakeProvider)
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=4, jitter=lambda: 0.5)
    )

    def __post_init__(self) -> None:
        self.uow_factory = FakeUnitOfWorkFactory(self.store)
        self.verifier = StripeWebhookVerifier([WEBHOOK_SECRET])
        self.seeded_at = self.clock()
        sample_data.seed(uow_factory=self.uow_factory, now=self.seeded_at)
        self.buyers: dict[str, Principal] = {}
        self._buyer_numbers = count(1)

    def new_buyer(self) -> Principal:
        """A competitor who holds no place yet in this world."""
        return competitor(next(self._buyer_numbers))

    def buyer_of(self, order_id: str) -> Principal:
        return self.buyers.get(order_id, BUYER)

    @property
    def providers(self) -> ProviderRegistry:
        return {ProviderName.STRIPE: self.provider}

    # -- orders and payments

    def place_order(
        self,
        *items: RegistrationItem,
        buyer: Principal = BUYER,
        promo_code: str | None = None,
    ) -> OrderView:
        placed = orders.create_order(
            uow=self.uow_factory(),
            buyer=buyer,
            items=items or (item(),),
            promo_code=promo_code,
            fee_policy=FEE_POLICY,
            now=self.clock(),
            expires_in=EXPIRES_IN,
        )
        self.buyers[placed.order.id] = buyer
        return placed

    def place_paid(self, *items: RegistrationItem) -> tuple[OrderView, PaymentRecord]:
        """An order of a new buyer, paid in full."""
        placed = self.place_order(*items, buyer=self.new_buyer())
        return placed, self.pay(placed.order.id)

    def view(self, order_id: str, *, caller: Principal = ADMIN) -> OrderView:
        return orders.get_order(
            uow=self.uow_factory(), caller=caller, order_id=order_id, now=self.clock()
        )

    def start(
        self,
        order_id: str,
        *,
        buyer: Principal | None = None,
        provider: ProviderName = ProviderName.STRIPE,
    ) -> PaymentStart:
        return payments.start_payment(
            uow_factory=self.uow_factory,
            providers=self.providers,
            caller=buyer or self.buyer_of(order_id),
            order_id=order_id,
            provider=provider,
            return_url=None,
            clock=self.clock,
        )

    def payment(self, payment_id: str) -> PaymentRecord:
        return self.store.tables.payments[payment_id]

    # -- webhooks

    def deliver(self, event: Mapping[str, Any] | bytes) -> IngestResult:
        body, headers = signed(event, secret=WEBHOOK_SECRET, at=self.clock())
        return webhooks.ingest(
            uow_factory=self.uow_factory,
            verifier=self.verifier,
            body=body,
            headers=headers,
            now=self.clock(),
        )

    def process_next(self) -> WebhookEventRecord | None:
        return webhooks.process_next(
            uow_factory=self.uow_factory,
            providers=self.providers,
            clock=self.clock,
            retry=self.retry,
        )

    def process_all(self, *, limit: int = 200) -> list[WebhookEventRecord]:
        handled: list[WebhookEventRecord] = []
        for _ in range(limit):
            event = self.process_next()
            if event is None:
                return handled
            handled.append(event)
        raise AssertionError(f"more than {limit} webhook events were due")

    def event_row(self, event_id: str) -> WebhookEventRecord:
        (row,) = [e for e in self.store.tables.webhooks.values() if e.event_id == event_id]
        return row

    def report(self, ref: str, status: PaymentStatus, **changes: Any) -> dict[str, Any]:
        """Move the provider object to `status` and return the matching Stripe event."""
        intent = self.provider.set_status(ref, status)
        intent.update(changes)
        event_type = {
            PaymentStatus.SUCCEEDED: "payment_intent.succeeded",
            PaymentStatus.FAILED: "payment_intent.payment_failed",
            PaymentStatus.REQUIRES_ACTION: "payment_intent.requires_action",
            PaymentStatus.PROCESSING: "payment_intent.processing",
            PaymentStatus.CANCELED: "payment_intent.canceled",
        }[status]
        return self.provider.event(ref, event_type, **changes)

    def pay(self, order_id: str, *, buyer: Principal | None = None) -> PaymentRecord:
        """Start a payment, let the customer pay, deliver and apply the success webhook."""
        started = self.start(order_id, buyer=buyer)
        ref = started.payment.provider_ref
        assert ref is not None
        self.deliver(self.report(ref, PaymentStatus.SUCCEEDED))
        self.process_all()
        return self.payment(started.payment.id)

    # -- audit

    def audit(self, order_id: str) -> list[AuditEntry]:
        return [e for e in self.store.tables.audit if e.order_id == order_id]

    def actions(self, order_id: str) -> list[str]:
        return [e.action for e in self.audit(order_id)]

    def count(self, order_id: str, action: str) -> int:
        return self.actions(order_id).count(action)


def registration_statuses(view: OrderView) -> Sequence[str]:
    return [reg.status.value for reg in view.order.registrations]
