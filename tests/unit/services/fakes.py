"""In-memory fakes of the ports for the service tests: a unit of work, a provider, a clock.

The unit of work has real transaction semantics: entering a block copies the committed tables,
the repositories work on that copy, `commit` publishes it and leaving the block discards
whatever was not committed. Repositories hand out copies of their records, as the SQL ones do,
so a service that changes a record without saving it changes nothing here either.

`FakeProvider` behaves like Stripe where the services rely on it: one object per idempotency
key, and scripted failures for the next calls (an outcome that is unknown to the caller may
still have taken effect at the provider).

Nothing here opens a socket or a database.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from eventpay.domain import Event, Money, Organizer, PaymentStatus, RefundStatus
from eventpay.domain.ledger import (
    Account,
    AccountKind,
    LedgerTransaction,
    Posting,
    StatementEntry,
    sums_by_currency,
)
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.payouts import PayoutStatus
from eventpay.domain.places import class_stock_id
from eventpay.ports import (
    AuditEntry,
    AuditRepository,
    Capabilities,
    CatalogRepository,
    CreatePayment,
    IdempotencyRecord,
    IdempotencyRepository,
    LedgerRepository,
    OrderRecord,
    OrderRepository,
    PaymentRecord,
    PaymentRepository,
    PaymentUpdate,
    ProviderError,
    ProviderName,
    ProviderPayment,
    ProviderRefund,
    ProviderRefundStatus,
    ProviderRejected,
    ReconciliationRepository,
    ReconciliationRun,
    RefundRecord,
    RefundRepository,
    RefundRequest,
    RefundUpdate,
    UnitOfWork,
    WebhookEventRecord,
    WebhookEventRepository,
    WebhookStatus,
)
from eventpay.ports.payouts import (
    PayableFigures,
    PayoutRecord,
    PayoutRepository,
    PayoutSettings,
)
from eventpay.ports.places import PlaceRecord
from eventpay.ports.repositories import (
    BooksClass,
    LedgerCheckRepository,
    OrderBooks,
    OrderClasses,
)
from eventpay.providers.stripe import StripeProvider, stripe_client
from eventpay.providers.stripe_webhook import SIGNATURE_HEADER, sign

from .fake_memberships import FakeMembershipRepository, SubscriptionTables
from .fake_merch import FakeMerchandiseRepository, MerchTables
from .fake_passes import FakePassRepository, PassTables
from .fake_places import FakePlaceRepository
from .fake_promos import FakePromoRepository, PromoTables
from .fake_sponsorships import FakeSponsorshipRepository, SponsorTables
from .fake_teams import FakeTeamRepository, TeamTables

# ---------------------------------------------------------------------------- clock


class FakeClock:
    """A timezone-aware UTC clock that moves only when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
        if self.now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now += delta if delta is not None else timedelta(**kwargs)
        return self.now


# ---------------------------------------------------------------------------- store


class FakeIntegrityError(Exception):
    """A uniqueness or existence rule of the real schema was broken."""


@dataclass
class Membership:
    user_id: str
    valid_from: datetime
    valid_until: datetime


@dataclass
class Tables:
    organizers: dict[str, Organizer] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    stock: dict[str, list[int | None]] = field(default_factory=dict)
    places: dict[str, PlaceRecord] = field(default_factory=dict)
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    payments: dict[str, PaymentRecord] = field(default_factory=dict)
    refunds: dict[str, RefundRecord] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    webhooks: dict[str, WebhookEventRecord] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    ledger: dict[str, LedgerTransaction] = field(default_factory=dict)  # by cause, in order
    reconciliation: list[ReconciliationRun] = field(default_factory=list)
    ledger_at: dict[str, datetime] = field(default_factory=dict)  # when each cause was posted
    payouts: dict[str, PayoutRecord] = field(default_factory=dict)
    payout_holds: dict[str, str | None] = field(default_factory=dict)  # organizer -> reason
    reserves_released: dict[str, datetime] = field(default_factory=dict)  # event -> when
    promos: PromoTables = field(default_factory=PromoTables)
    teams: TeamTables = field(default_factory=TeamTables)
    passes: PassTables = field(default_factory=PassTables)
    merch: MerchTables = field(default_factory=MerchTables)
    subscriptions: SubscriptionTables = field(default_factory=SubscriptionTables)
    sponsorships: SponsorTables = field(default_factory=SponsorTables)


class FakeStore:
    """The committed state every unit of work starts from, plus fault injection."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.version = 0
        self.commits = 0
        self._faults: dict[str, Exception] = {}

    def fail_on(self, operation: str, error: Exception) -> None:
        """Make every call of `operation` (e.g. "orders.set_registration_status") raise."""
        self._faults[operation] = error

    def clear_faults(self) -> None:
        self._faults.clear()

    def check_fault(self, operation: str) -> None:
        error = self._faults.get(operation)
        if error is not None:
            raise error

    def snapshot(self) -> Tables:
        """A copy of the committed state, for comparing before and after."""
        return copy.deepcopy(self.tables)

    # Read-only views of committed state for assertions.
    @property
    def payments(self) -> list[PaymentRecord]:
        return sorted(self.tables.payments.values(), key=lambda p: (p.created_at, p.id))

    @property
    def webhook_events(self) -> list[WebhookEventRecord]:
        return sorted(self.tables.webhooks.values(), key=lambda e: e.received_at)


# ---------------------------------------------------------------------------- repositories


class _Repository:
    _name = ""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _t(self) -> Tables:
        return self._uow.tables

    def _fault(self, method: str) -> None:
        self._uow.store.check_fault(f"{self._name}.{method}")


class FakeCatalogRepository(_Repository):
    _name = "catalog"

    def list_events(self) -> Sequence[Event]:
        self._fault("list_events")
        return sorted(self._t.events.values(), key=lambda e: (e.starts_at, e.id))

    def get_event(self, event_id: str) -> Event | None:
        self._fault("get_event")
        return self._t.events.get(event_id)

    def get_organizer(self, organizer_id: str) -> Organizer | None:
        return self._t.organizers.get(organizer_id)

    def add_organizer(self, organizer: Organizer, *, created_at: datetime) -> None:
        if organizer.id in self._t.organizers:
            raise FakeIntegrityError(f"organizer {organizer.id} exists")
        self._t.organizers[organizer.id] = organizer

    def add_event(self, event: Event, *, created_at: datetime) -> None:
        if event.id in self._t.events:
            raise FakeIntegrityError(f"event {event.id} exists")
        if event.organizer_id not in self._t.organizers:
            raise FakeIntegrityError(f"organizer {event.organizer_id} does not exist")
        self._t.events[event.id] = event
        for competition_class in event.classes:
            self._t.stock[class_stock_id(competition_class.id)] = [competition_class.capacity, 0]

    def update_organizer(self, organizer: Organizer) -> None:
        if organizer.id not in self._t.organizers:
            raise LookupError(organizer.id)
        self._t.organizers[organizer.id] = organizer

    def lock_event(self, event_id: str) -> Event | None:
        return self.get_event(event_id)

    def update_event(self, event: Event) -> None:
        old = self._t.events[event.id]
        kept = {c.id for c in event.classes}
        for gone in (c.id for c in old.classes if c.id not in kept):
            self._t.stock.pop(class_stock_id(gone), None)
        self._t.events[event.id] = event

    def delete_event(self, event_id: str) -> None:
        for competition_class in self._t.events.pop(event_id).classes:
            self._t.stock.pop(class_stock_id(competition_class.id), None)

    def event_has_orders(self, event_id: str) -> bool:
        return any(
            line.event_id == event_id for o in self._t.orders.values() for line in o.lines
        ) or any(r.event_id == event_id for o in self._t.orders.values() for r in o.registrations)

    def taken_class_ids(self, class_ids: Sequence[str]) -> set[str]:
        return {c.id for e in self._t.events.values() for c in e.classes} & set(class_ids)

    def classes_with_orders(self, class_ids: Sequence[str]) -> set[str]:
        used = {ln.class_id or "" for o in self._t.orders.values() for ln in o.lines}
        used |= {p.stock_id.removeprefix("class:") for p in self._t.places.values()}
        return used & set(class_ids)

    def is_member(self, user_id: str, *, at: datetime) -> bool:
        return any(
            m.user_id == user_id and m.valid_from <= at < m.valid_until for m in self._t.memberships
        )

    def add_membership(self, *, user_id: str, valid_from: datetime, valid_until: datetime) -> None:
        self._t.memberships.append(Membership(user_id, valid_from, valid_until))


class FakeOrderRepository(_Repository):
    _name = "orders"

    def add(self, order: OrderRecord) -> None:
        self._fault("add")
        if order.id in self._t.orders:
            raise FakeIntegrityError(f"order {order.id} exists")
        self._t.orders[order.id] = copy.deepcopy(order)

    def get(self, order_id: str, *, for_update: bool = False) -> OrderRecord | None:
        self._fault("get")
        order = self._t.orders.get(order_id)
        return None if order is None else copy.deepcopy(order)

    def expire(self, order_id: str, *, at: datetime) -> None:
        self._t.orders[order_id].expires_at = at

    def set_registration_status(
        self, registration_id: str, status: RegistrationStatus, *, at: datetime
    ) -> None:
        self._fault("set_registration_status")
        for order in self._t.orders.values():
            for reg in order.registrations:
                if reg.id == registration_id:
                    reg.status = status
                    if status is RegistrationStatus.CONFIRMED and reg.confirmed_at is None:
                        reg.confirmed_at = at
                    return
        raise LookupError(f"registration {registration_id} does not exist")


class FakePaymentRepository(_Repository):
    _name = "payments"

    def _check_unique(self, payment: PaymentRecord) -> None:
        for other in self._t.payments.values():
            if other.id == payment.id:
                continue
            if other.idempotency_key == payment.idempotency_key:
                raise FakeIntegrityError("payments.idempotency_key must be unique")
            for column in ("stripe_payment_intent_id", "paypal_order_id"):
                value = getattr(payment, column)
                if value is not None and getattr(other, column) == value:
                    raise FakeIntegrityError(f"payments.{column} must be unique")

    def add(self, payment: PaymentRecord) -> None:
        self._fault("add")
        if payment.id in self._t.payments:
            raise FakeIntegrityError(f"payment {payment.id} exists")
        if payment.order_id not in self._t.orders:
            raise FakeIntegrityError(f"order {payment.order_id} does not exist")
        self._check_unique(payment)
        self._t.payments[payment.id] = copy.deepcopy(payment)

    def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRecord | None:
        self._fault("get")
        payment = self._t.payments.get(payment_id)
        return None if payment is None else copy.deepcopy(payment)

    def by_provider_ref(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> PaymentRecord | None:
        for payment in self._t.payments.values():
            stored = (
                payment.stripe_payment_intent_id
                if provider is ProviderName.STRIPE
                else payment.paypal_order_id
            )
            if stored == ref:
                return copy.deepcopy(payment)
        return None

    def by_capture_id(
        self, provider: ProviderName, capture_id: str, *, for_update: bool = False
    ) -> PaymentRecord | None:
        found = [
            p
            for p in self._t.payments.values()
            if p.provider is provider and p.capture_id == capture_id
        ]
        found.sort(key=lambda p: (p.created_at, p.id))
        return copy.deepcopy(found[0]) if found else None

    def list_for_order(self, order_id: str) -> Sequence[PaymentRecord]:
        found = [p for p in self._t.payments.values() if p.order_id == order_id]
        return [copy.deepcopy(p) for p in sorted(found, key=lambda p: (p.created_at, p.id))]

    def list_due(
        self,
        *,
        now: datetime,
        statuses: Sequence[PaymentStatus],
        limit: int,
        provider: ProviderName | None = None,
        linked: bool | None = None,
        captured: bool | None = None,
        created_after: datetime | None = None,
        beside_success: bool = False,
        unchecked_too: bool = False,
        fee_unknown: bool = False,
    ) -> Sequence[PaymentRecord]:
        paid_orders = {
            p.order_id for p in self._t.payments.values() if p.status is PaymentStatus.SUCCEEDED
        }

        def due(p: PaymentRecord) -> bool:
            at = p.next_check_at or p.created_at
            return at <= now or (unchecked_too and p.checks == 0)

        found = sorted(
            (
                p
                for p in self._t.payments.values()
                if p.status in statuses
                and due(p)
                and (provider is None or p.provider is provider)
                and (linked is None or (p.provider_ref is not None) is linked)
                and (captured is None or (p.capture_id is not None) is captured)
                and (created_after is None or p.created_at >= created_after)
                and (not beside_success or p.order_id in paid_orders)
                and (not fee_unknown or f"payment:{p.id}:fee" not in self._t.ledger)
            ),
            key=lambda p: (p.next_check_at or p.created_at, p.id),
        )
        return [copy.deepcopy(p) for p in found[:limit]]

    def list_settled(self, *, provider: ProviderName, since: datetime) -> Sequence[PaymentRecord]:
        found = [
            p
            for p in self._t.payments.values()
            if p.provider is provider
            and p.status is PaymentStatus.SUCCEEDED
            and p.capture_id is not None
            and p.created_at >= since
        ]
        return [copy.deepcopy(p) for p in sorted(found, key=lambda p: (p.created_at, p.id))]

    def order_ids(self, *, status: PaymentStatus) -> Sequence[str]:
        return sorted({p.order_id for p in self._t.payments.values() if p.status is status})

    def save(self, payment: PaymentRecord) -> None:
        self._fault("save")
        if payment.id not in self._t.payments:
            raise LookupError(f"payment {payment.id} does not exist")
        self._check_unique(payment)
        self._t.payments[payment.id] = copy.deepcopy(payment)


class FakeRefundRepository(_Repository):
    _name = "refunds"

    def _check_unique(self, refund: RefundRecord) -> None:
        for other in self._t.refunds.values():
            if other.id == refund.id:
                continue
            if other.idempotency_key == refund.idempotency_key:
                raise FakeIntegrityError("refunds.idempotency_key must be unique")
            if (
                refund.provider_refund_id is not None
                and other.provider is refund.provider
                and other.provider_refund_id == refund.provider_refund_id
            ):
                raise FakeIntegrityError("refunds (provider, provider_refund_id) must be unique")

    def add(self, refund: RefundRecord) -> None:
        self._fault("add")
        if refund.id in self._t.refunds:
            raise FakeIntegrityError(f"refund {refund.id} exists")
        if refund.payment_id not in self._t.payments:
            raise FakeIntegrityError(f"payment {refund.payment_id} does not exist")
        self._check_unique(refund)
        self._t.refunds[refund.id] = copy.deepcopy(refund)

    def get(self, refund_id: str, *, for_update: bool = False) -> RefundRecord | None:
        refund = self._t.refunds.get(refund_id)
        return None if refund is None else copy.deepcopy(refund)

    def by_provider_ref(
        self, provider: ProviderName, provider_refund_id: str, *, for_update: bool = False
    ) -> RefundRecord | None:
        for refund in self._t.refunds.values():
            if refund.provider is provider and refund.provider_refund_id == provider_refund_id:
                return copy.deepcopy(refund)
        return None

    def by_idempotency_key(self, key: str) -> RefundRecord | None:
        for refund in self._t.refunds.values():
            if refund.idempotency_key == key:
                return copy.deepcopy(refund)
        return None

    def list_for_order(self, order_id: str) -> Sequence[RefundRecord]:
        found = [r for r in self._t.refunds.values() if r.order_id == order_id]
        return [copy.deepcopy(r) for r in sorted(found, key=lambda r: r.created_at)]

    def list_settled(self, *, provider: ProviderName, since: datetime) -> Sequence[RefundRecord]:
        found = [
            r
            for r in self._t.refunds.values()
            if r.provider is provider
            and r.status is RefundStatus.SUCCEEDED
            and r.provider_refund_id is not None
            and r.created_at >= since
        ]
        return [copy.deepcopy(r) for r in sorted(found, key=lambda r: (r.created_at, r.id))]

    def list_due(self, *, now: datetime, limit: int) -> Sequence[RefundRecord]:
        found = [
            r
            for r in self._t.refunds.values()
            if r.status is RefundStatus.PENDING and (r.next_check_at or r.created_at) <= now
        ]
        found.sort(key=lambda r: (r.next_check_at or r.created_at, r.id))
        return [copy.deepcopy(r) for r in found[:limit]]

    def save(self, refund: RefundRecord) -> None:
        self._fault("save")
        if refund.id not in self._t.refunds:
            raise LookupError(f"refund {refund.id} does not exist")
        self._check_unique(refund)
        stored = copy.deepcopy(refund)
        # As the SQL repository: a record without a next check keeps the stored one.
        stored.next_check_at = refund.next_check_at or self._t.refunds[refund.id].next_check_at
        self._t.refunds[refund.id] = stored


class FakeLedgerRepository(_Repository):
    """Transactions by cause; the first post of a cause wins, as the unique index makes it."""

    _name = "ledger"

    def post(self, transaction: LedgerTransaction, *, at: datetime) -> bool:
        self._fault("post")
        if transaction.cause in self._t.ledger:
            return False
        self._t.ledger[transaction.cause] = transaction
        self._t.ledger_at[transaction.cause] = at
        return True

    def has_order(self, order_id: str) -> bool:
        return any(t.order_id == order_id for t in self._t.ledger.values())

    def postings_for_order(self, order_id: str) -> Sequence[Posting]:
        return [p for t in self._t.ledger.values() if t.order_id == order_id for p in t.postings]

    def postings_for_cause(self, cause: str) -> Sequence[Posting]:
        found = self._t.ledger.get(cause)
        return [] if found is None else list(found.postings)

    def balances(
        self, *, kind: AccountKind | None = None, owner: str | None = None
    ) -> Mapping[Account, int]:
        totals: dict[Account, int] = {}
        for transaction in self._t.ledger.values():
            for p in transaction.postings:
                if (kind is None or p.account.kind is kind) and (
                    owner is None or p.account.owner == owner
                ):
                    totals[p.account] = totals.get(p.account, 0) + p.amount
        return totals

    def unbalanced(self) -> Sequence[tuple[str, str, int]]:
        return [
            (t.cause, currency, total)
            for t in self._t.ledger.values()
            for currency, total in sums_by_currency(t.postings).items()
            if total
        ]

    def order_ids(self) -> Sequence[str]:
        return sorted({t.order_id for t in self._t.ledger.values() if t.order_id is not None})

    def statement(
        self, *, organizer_id: str, since: datetime, until: datetime
    ) -> Sequence[StatementEntry]:
        entries = []
        for cause, t in self._t.ledger.items():
            at = self._t.ledger_at[cause]
            if not since <= at < until:
                continue
            by_currency: dict[str, list[int]] = {}
            for p in t.postings:
                sums = by_currency.setdefault(p.account.currency, [0, 0, 0])
                if (
                    p.account.kind is AccountKind.ORGANIZER_PAYABLE
                    and p.account.owner == organizer_id
                ):
                    sums[0] -= p.amount
                    sums[2] += 1
                elif p.account.kind is AccountKind.PLATFORM_FEE_REVENUE:
                    sums[1] -= p.amount
            entries.extend(
                StatementEntry(at, cause, t.kind, t.order_id, currency, owed, fee)
                for currency, (owed, fee, mine) in by_currency.items()
                if mine
            )
        return entries

    def payable_before(self, *, organizer_id: str, at: datetime) -> Mapping[str, int]:
        owed: dict[str, int] = {}
        for cause, t in self._t.ledger.items():
            if self._t.ledger_at[cause] >= at:
                continue
            for p in t.postings:
                if (
                    p.account.kind is AccountKind.ORGANIZER_PAYABLE
                    and p.account.owner == organizer_id
                ):
                    owed[p.account.currency] = owed.get(p.account.currency, 0) - p.amount
        return owed


class FakeReconciliationRepository(_Repository):
    _name = "reconciliation"

    def add(self, run: ReconciliationRun) -> None:
        self._t.reconciliation.append(copy.deepcopy(run))

    def latest(self, provider: ProviderName) -> ReconciliationRun | None:
        runs = [r for r in self._t.reconciliation if r.provider is provider]
        return copy.deepcopy(runs[-1]) if runs else None


class FakeAuditRepository(_Repository):
    _name = "audit"

    def add(self, entry: AuditEntry) -> None:
        self._fault("add")
        self._t.audit.append(copy.deepcopy(entry))

    def list_for(self, *, order_id: str) -> Sequence[AuditEntry]:
        found = [e for e in self._t.audit if e.order_id == order_id]
        # sorted() is stable: entries with the same timestamp keep insertion order.
        return [copy.deepcopy(e) for e in sorted(found, key=lambda e: e.created_at)]

    def list_for_entity(self, entity_type: str, entity_id: str) -> Sequence[AuditEntry]:
        found = [
            e for e in self._t.audit if (e.entity_type, e.entity_id) == (entity_type, entity_id)
        ]
        return [copy.deepcopy(e) for e in sorted(found, key=lambda e: e.created_at)]


_DUE = (WebhookStatus.PENDING, WebhookStatus.RETRYING)


class FakeWebhookEventRepository(_Repository):
    _name = "webhooks"

    def insert_if_new(self, event: WebhookEventRecord) -> bool:
        self._fault("insert_if_new")
        for existing in self._t.webhooks.values():
            if existing.provider is event.provider and existing.event_id == event.event_id:
                return False
        if event.id in self._t.webhooks:
            raise FakeIntegrityError(f"webhook row {event.id} exists")
        self._t.webhooks[event.id] = copy.deepcopy(event)
        return True

    def insert_many_if_new(self, events: Sequence[WebhookEventRecord]) -> set[str]:
        self._fault("insert_many_if_new")
        keys = [(e.provider, e.event_id) for e in events]
        if len(set(keys)) != len(keys):
            # The port requires distinct keys; the real INSERT would fail or be ambiguous.
            raise FakeIntegrityError("insert_many_if_new got one (provider, event id) twice")
        return {e.id for e in events if self.insert_if_new(e)}

    def claim_next(self, *, now: datetime) -> WebhookEventRecord | None:
        self._fault("claim_next")
        due = [
            e for e in self._t.webhooks.values() if e.status in _DUE and e.next_attempt_at <= now
        ]
        if not due:
            return None
        first = min(due, key=lambda e: (e.next_attempt_at, e.received_at))
        return copy.deepcopy(first)

    def get(self, event_row_id: str, *, for_update: bool = False) -> WebhookEventRecord | None:
        event = self._t.webhooks.get(event_row_id)
        return None if event is None else copy.deepcopy(event)

    def save(self, event: WebhookEventRecord) -> None:
        self._fault("save")
        stored = self._t.webhooks.get(event.id)
        if stored is None:
            raise LookupError(f"webhook event {event.id} does not exist")
        # Only the mutable columns, as the SQL repository does.
        stored.status = event.status
        stored.attempts = event.attempts
        stored.next_attempt_at = event.next_attempt_at
        stored.processed_at = event.processed_at
        stored.last_error = event.last_error

    def list(self, *, status: WebhookStatus | None, limit: int) -> Sequence[WebhookEventRecord]:
        found = [e for e in self._t.webhooks.values() if status is None or e.status is status]
        found.sort(key=lambda e: e.received_at, reverse=True)
        return [copy.deepcopy(e) for e in found[:limit]]


class FakeIdempotencyRepository(_Repository):
    _name = "idempotency"

    def get(
        self, principal: str, key: str, *, for_update: bool = False
    ) -> IdempotencyRecord | None:
        record = self._t.idempotency.get((principal, key))
        return None if record is None else copy.deepcopy(record)

    def insert_if_new(self, record: IdempotencyRecord) -> bool:
        if (record.principal, record.key) in self._t.idempotency:
            return False
        self._t.idempotency[(record.principal, record.key)] = copy.deepcopy(record)
        return True

    def save(self, record: IdempotencyRecord) -> None:
        if (record.principal, record.key) not in self._t.idempotency:
            raise LookupError("idempotency key does not exist")
        self._t.idempotency[(record.principal, record.key)] = copy.deepcopy(record)

    def finish(self, principal: str, key: str, *, status: int, body: str) -> None:
        record = self._t.idempotency.get((principal, key))
        if record is not None:
            self._t.idempotency[(principal, key)] = replace(
                record, response_status=status, response_body=body, locked_until=None
            )

    def delete(self, principal: str, key: str) -> None:
        self._t.idempotency.pop((principal, key), None)


class FakeLedgerCheckRepository(_Repository):
    """The bulk reads of `ledger verify`, computed from the tables as the SQL does."""

    _name = "ledger_checks"

    def unbalanced(self) -> Sequence[tuple[str, str, int]]:
        return sorted(
            (t.cause, currency, total)
            for t in self._t.ledger.values()
            for currency, total in sums_by_currency(t.postings).items()
            if total
        )

    def orphans(self) -> Sequence[str]:
        named = {t.order_id for t in self._t.ledger.values() if t.order_id is not None}
        return sorted(named - set(self._t.orders))

    grouping = True
    """Whether `order_classes` groups the orders (PostgreSQL's way) or says it cannot (SQLite's:
    then verify reads `order_books` chunk by chunk)."""

    def snapshot(self) -> None:
        pass

    def order_classes(self) -> OrderClasses | None:
        if not self.grouping:
            return None
        by_figures: dict[tuple[object, ...], list[str]] = {}
        for order_id in sorted(self._t.orders):
            books = self._books(order_id)
            if books is not None:
                by_figures.setdefault(_figures(books), []).append(order_id)
        classes = [
            BooksClass(key=repr(figures), orders=len(ids), first=ids[0], last=ids[-1])
            for figures, ids in by_figures.items()
        ]
        return OrderClasses(classes=sorted(classes, key=lambda c: c.first), orphans=self.orphans())

    def books_of(self, order_ids: Sequence[str]) -> Sequence[OrderBooks]:
        found = (self._books(i) for i in sorted(set(order_ids)) if i in self._t.orders)
        return [b for b in found if b is not None]

    def class_members(self, key: str) -> Sequence[str]:
        return [b.order_id for b in self.books_of(list(self._t.orders)) if repr(_figures(b)) == key]

    def order_books(self, *, after: str, limit: int) -> tuple[Sequence[OrderBooks], str | None]:
        self._fault("order_books")
        ids = sorted(i for i in self._t.orders if i > after)[:limit]
        if not ids:
            return [], None
        return [b for b in map(self._books, ids) if b is not None], ids[-1]

    def _books(self, order_id: str) -> OrderBooks | None:
        order = self._t.orders[order_id]
        net: dict[str, int] = {}
        paid = False
        for p in self._t.payments.values():
            if p.order_id == order_id and p.status is PaymentStatus.SUCCEEDED:
                received = p.amount if p.amount_received is None else p.amount_received
                net[p.provider.value] = net.get(p.provider.value, 0) + received
                paid = True
        for r in self._t.refunds.values():
            if r.order_id == order_id and r.status is RefundStatus.SUCCEEDED:
                net[r.provider.value] = net.get(r.provider.value, 0) - r.amount
        held: dict[tuple[str, str, str], int] = {}
        posted = False
        for t in self._t.ledger.values():
            if t.order_id == order_id:
                posted = True
                for p in t.postings:
                    key = (p.account.kind.value, p.account.owner, p.account.currency)
                    held[key] = held.get(key, 0) + p.amount
        if not (paid or posted):
            return None
        events = self._t.events
        return OrderBooks(
            order_id=order_id,
            currency=order.currency,
            total=order.total,
            platform_fee=order.platform_fee,
            shares=tuple(sorted((o, g, f) for o, (g, f) in (order.organizer_shares or {}).items())),
            lines=tuple(
                sorted(
                    (events[line.event_id].organizer_id, line.amount)
                    for line in order.lines
                    if line.event_id is not None and line.event_id in events
                )
            ),
            net_by_provider=tuple(sorted(net.items())),
            held=tuple(sorted((*key, amount) for key, amount in held.items())),
            posted=posted,
        )


def _figures(books: OrderBooks) -> tuple[object, ...]:
    """What an order is judged by, without its id: orders alike in it form one class."""
    return (
        books.currency,
        books.total,
        books.platform_fee,
        books.shares,
        books.lines,
        books.net_by_provider,
        books.held,
        books.posted,
    )


class FakePayoutRepository(_Repository):
    """Payouts in memory, with the planning reads computed from the fake ledger and catalog."""

    _name = "payouts"

    def claim(self, payout: PayoutRecord) -> bool:
        taken = any(
            (p.organizer_id, p.amount.currency, p.period)
            == (payout.organizer_id, payout.amount.currency, payout.period)
            for p in self._t.payouts.values()
        )
        if taken:
            return False
        self._t.payouts[payout.id] = replace(payout)
        return True

    def get(self, payout_id: str, *, for_update: bool = False) -> PayoutRecord | None:
        found = self._t.payouts.get(payout_id)
        return None if found is None else replace(found)

    def find_by_item(self, provider: str, provider_item_id: str) -> PayoutRecord | None:
        for p in self._t.payouts.values():
            if (p.provider, p.provider_item_id) == (provider, provider_item_id):
                return replace(p)
        return None

    def save(self, payout: PayoutRecord) -> None:
        self._t.payouts[payout.id] = replace(payout)

    def list_for_organizer(self, organizer_id: str) -> Sequence[PayoutRecord]:
        mine = [replace(p) for p in self._t.payouts.values() if p.organizer_id == organizer_id]
        return sorted(mine, key=lambda p: (p.created_at, p.id), reverse=True)

    def list_batch(self, batch_id: str) -> Sequence[PayoutRecord]:
        return sorted(
            (replace(p) for p in self._t.payouts.values() if p.batch_id == batch_id),
            key=lambda p: p.id,
        )

    def list_due(
        self, *, now: datetime, statuses: Sequence[PayoutStatus]
    ) -> Sequence[PayoutRecord]:
        due = [
            replace(p)
            for p in self._t.payouts.values()
            if p.status in statuses and p.next_check_at <= now
        ]
        return sorted(due, key=lambda p: (p.next_check_at, p.id))

    def _postings(self) -> list[tuple[str | None, Posting]]:
        return [(t.order_id, p) for t in self._t.ledger.values() for p in t.postings]

    def owed(self, *, organizer_ids: Sequence[str] | None = None) -> Sequence[tuple[str, str]]:
        totals: dict[tuple[str, str, AccountKind], int] = {}
        kinds = (AccountKind.ORGANIZER_PAYABLE, AccountKind.PAYOUTS_IN_TRANSIT)
        for _, p in self._postings():
            if p.account.kind in kinds:
                key = (p.account.owner, p.account.currency, p.account.kind)
                totals[key] = totals.get(key, 0) + p.amount
        pairs = {(owner, cur) for (owner, cur, _), total in totals.items() if total}
        return sorted(pair for pair in pairs if organizer_ids is None or pair[0] in organizer_ids)

    def figures(self, organizer_id: str, *, now: datetime) -> Mapping[str, PayableFigures]:
        def in_reserve(event_id: str | None) -> bool:
            event = self._t.events.get(event_id or "")
            if event is None or event.organizer_id != organizer_id:
                return False
            released = self._t.reserves_released.get(event.id)
            return event.reserve_until > now and (released is None or released > now)

        held = {
            order.id
            for order in self._t.orders.values()
            if any(in_reserve(line.event_id) for line in order.lines)
        }
        out: dict[str, PayableFigures] = {}
        for order_id, p in self._postings():
            if p.account.owner != organizer_id:
                continue
            f = out.get(p.account.currency, PayableFigures())
            if p.account.kind is AccountKind.ORGANIZER_PAYABLE:
                reserved = f.reserved - (p.amount if order_id in held else 0)
                f = replace(f, payable=f.payable - p.amount, reserved=reserved)
            elif p.account.kind is AccountKind.PAYOUTS_IN_TRANSIT:
                f = replace(f, in_transit=f.in_transit + p.amount)
            else:
                continue
            out[p.account.currency] = f
        return out

    def with_postings(self) -> Sequence[tuple[PayoutRecord | None, str, Sequence[Posting]]]:
        postings: dict[str, list[Posting]] = {}
        for t in self._t.ledger.values():
            if t.cause.startswith("payout:"):
                postings.setdefault(t.cause.split(":")[1], []).extend(t.postings)
        ids = sorted({*self._t.payouts, *postings})
        return [(self.get(i), i, postings.get(i, [])) for i in ids]

    def lock_organizer(self, organizer_id: str) -> None:
        return None  # one fake unit of work commits at a time (see FakeUnitOfWork.commit)

    def settings(self, organizer_id: str) -> PayoutSettings | None:
        organizer = self._t.organizers.get(organizer_id)
        if organizer is None:
            return None
        return PayoutSettings(
            organizer_id=organizer_id,
            paypal_email=organizer.paypal_email,
            on_hold=organizer_id in self._t.payout_holds,
            hold_reason=self._t.payout_holds.get(organizer_id),
        )

    def set_hold(self, organizer_id: str, *, on_hold: bool, reason: str | None) -> None:
        if on_hold:
            self._t.payout_holds[organizer_id] = reason
        else:
            self._t.payout_holds.pop(organizer_id, None)

    def release_reserve(self, event_id: str, *, at: datetime) -> bool:
        if event_id in self._t.reserves_released:
            return False
        self._t.reserves_released[event_id] = at
        return True


class FakeConnectRepository(_Repository):
    """No organizer of the fake world has a Stripe connected account."""

    _name = "connect"

    def get_account(self, organizer_id: str, *, for_update: bool = False) -> None:
        return None

    def charge_enabled(self, organizer_ids: Sequence[str]) -> Mapping[str, str]:
        return {}

    def unsent_transfers(self, organizer_id: str) -> Mapping[tuple[Any, str], int]:
        return {}

    def transfers_for_payment(self, payment_id: str, *, for_update: bool = False) -> list[Any]:
        return []

    def destination_charges(self) -> list[Any]:
        return []

    def sent_transfers(self) -> list[Any]:
        return []

    def sent_reversals(self) -> list[Any]:
        return []

    def transfer_amounts(self, causes: Sequence[str]) -> Mapping[str, int]:
        return {}


# ---------------------------------------------------------------------------- unit of work


class FakeUnitOfWork:
    """One transaction over a `FakeStore`: copy on enter, publish on commit, discard on exit."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._tables: Tables | None = None
        self._base_version = -1
        self.catalog: CatalogRepository = FakeCatalogRepository(self)
        self.orders: OrderRepository = FakeOrderRepository(self)
        self.payments: PaymentRepository = FakePaymentRepository(self)
        self.refunds: RefundRepository = FakeRefundRepository(self)
        self.audit: AuditRepository = FakeAuditRepository(self)
        self.webhooks: WebhookEventRepository = FakeWebhookEventRepository(self)
        self.idempotency: IdempotencyRepository = FakeIdempotencyRepository(self)
        self.ledger: LedgerRepository = FakeLedgerRepository(self)
        self.reconciliation: ReconciliationRepository = FakeReconciliationRepository(self)
        self.ledger_checks: LedgerCheckRepository = FakeLedgerCheckRepository(self)
        self.payouts: PayoutRepository = FakePayoutRepository(self)
        self.connect = FakeConnectRepository(self)
        self.places = FakePlaceRepository(self)
        self.promos = FakePromoRepository(self)
        self.teams = FakeTeamRepository(self)
        self.passes = FakePassRepository(self)
        self.merchandise = FakeMerchandiseRepository(self)
        self.memberships = FakeMembershipRepository(self)
        self.sponsorships = FakeSponsorshipRepository(self)

    @property
    def tables(self) -> Tables:
        if self._tables is None:
            raise RuntimeError("repository used outside a `with uow:` block")
        return self._tables

    def _begin(self) -> None:
        self._tables = _snapshot(self.store.tables)
        self._base_version = self.store.version

    def __enter__(self) -> Self:
        if self._tables is not None:
            raise RuntimeError("unit of work entered twice")
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = None

    def commit(self) -> None:
        tables = self.tables
        if self.store.version != self._base_version:
            # Whole-state swap: a commit by another unit of work since this one began would be
            # silently lost. The services never interleave writers; fail loudly if one does.
            raise RuntimeError("concurrent commit: another unit of work committed meanwhile")
        self.store.tables = _snapshot(tables)
        self.store.version += 1
        self.store.commits += 1
        self._base_version = self.store.version

    def rollback(self) -> None:
        self.tables  # noqa: B018 - raises outside a block
        self._begin()


def _snapshot(tables: Tables) -> Tables:
    """A copy of `tables` that shares what is never changed in place (frozen catalog values,
    audit rows, which are only ever appended): copying those on every unit of work made long
    Hypothesis runs quadratic in the audit log's length."""
    memo: dict[int, Any] = {}
    for shared in (*tables.events.values(), *tables.organizers.values(), *tables.audit):
        memo[id(shared)] = shared
    return copy.deepcopy(tables, memo)


class FakeUnitOfWorkFactory:
    """`UnitOfWorkFactory` over one shared store."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()

    @property
    def commits(self) -> int:
        return self.store.commits

    def __call__(self) -> UnitOfWork:
        return FakeUnitOfWork(self.store)


# ---------------------------------------------------------------------------- provider

# The real adapter's event mapping; parse_event never touches the client, and the client points
# at a closed local port, so nothing could leave the machine even if it did.
_STRIPE_EVENTS = StripeProvider(
    stripe_client(secret_key="sk_test_unit", api_base="http://127.0.0.1:9", timeout_s=0.01)
)

_STATUS_TO_STRIPE = {
    PaymentStatus.CREATED: "requires_payment_method",
    PaymentStatus.REQUIRES_ACTION: "requires_action",
    PaymentStatus.PROCESSING: "processing",
    PaymentStatus.SUCCEEDED: "succeeded",
    PaymentStatus.FAILED: "requires_payment_method",
    PaymentStatus.CANCELED: "canceled",
}


@dataclass
class _ScriptedFailure:
    error: ProviderError
    took_effect: bool


def _to_our_status(intent: Mapping[str, Any]) -> PaymentStatus:
    status = intent["status"]
    if status == "requires_payment_method":
        return PaymentStatus.FAILED if intent.get("last_payment_error") else PaymentStatus.CREATED
    for ours, theirs in _STATUS_TO_STRIPE.items():
        if theirs == status:
            return ours
    raise ValueError(status)


class FakeProvider:
    """An in-memory Stripe: PaymentIntent-shaped dicts keyed by id, idempotent creates."""

    name = ProviderName.STRIPE
    capabilities = Capabilities(
        partial_refund=True,
        payouts=False,
        disputes=False,
        client_confirmation=True,
        payment_lookup=True,
        idempotency_window=timedelta(hours=24),
    )

    def __init__(self) -> None:
        self.intents: dict[str, dict[str, Any]] = {}
        # Refunds by the idempotency key that made them (`forget_keys` moves them to `_old`).
        self.refunds: dict[str, ProviderRefund] = {}
        self._forgotten_refunds: list[ProviderRefund] = []
        self.refund_status = ProviderRefundStatus.SUCCEEDED
        self.currencies: frozenset[str] | None = None  # None: every currency is taken
        self.steps: dict[str, int] = {}  # currency -> amount step in minor units (default 1)
        self.create_requests: list[CreatePayment] = []
        self.on_create: Callable[[CreatePayment], None] | None = None
        self._by_key: dict[str, tuple[str, CreatePayment]] = {}
        self._failures: list[_ScriptedFailure] = []
        self._ids = itertools.count(1)

    # -- scripting

    def forget_keys(self) -> None:
        """As Stripe does after about 24 hours: a repeated key now makes a new object."""
        self._by_key.clear()
        self._forgotten_refunds.extend(self.refunds.values())
        self.refunds.clear()

    def all_refunds(self) -> list[ProviderRefund]:
        return [*self._forgotten_refunds, *self.refunds.values()]

    def settle_refund(self, provider_refund_id: str, status: ProviderRefundStatus) -> None:
        """The provider finishes a pending refund (its webhook may never arrive)."""
        for key, refund in self.refunds.items():
            if refund.provider_refund_id == provider_refund_id:
                self.refunds[key] = replace(refund, status=status)
                return
        for index, refund in enumerate(self._forgotten_refunds):
            if refund.provider_refund_id == provider_refund_id:
                self._forgotten_refunds[index] = replace(refund, status=status)
                return
        raise KeyError(provider_refund_id)

    def fail_next(self, error: ProviderError, *, times: int = 1, took_effect: bool = False) -> None:
        """The next `times` calls raise `error`; `took_effect`: the call happened, answer lost."""
        self._failures.extend(_ScriptedFailure(error, took_effect) for _ in range(times))

    def _scripted(self) -> _ScriptedFailure | None:
        return self._failures.pop(0) if self._failures else None

    def set_status(
        self,
        ref: str,
        status: PaymentStatus,
        *,
        decline_code: str = "card_declined",
        amount: int | None = None,
    ) -> dict[str, Any]:
        """Move an intent as the customer or Stripe would; returns the intent."""
        intent = self.intents[ref]
        intent["status"] = _STATUS_TO_STRIPE[status]
        intent["last_payment_error"] = (
            {"code": "card_declined", "decline_code": decline_code, "message": "Declined."}
            if status is PaymentStatus.FAILED
            else None
        )
        if amount is not None:
            intent["amount"] = amount
        intent["amount_received"] = intent["amount"] if status is PaymentStatus.SUCCEEDED else 0
        return copy.deepcopy(intent)

    # -- PaymentProvider

    def create_payment(self, request: CreatePayment) -> ProviderPayment:
        if self.on_create is not None:
            self.on_create(request)
        failure = self._scripted()
        if failure is not None and not failure.took_effect:
            raise failure.error
        existing = self._by_key.get(request.idempotency_key)
        if existing is not None:
            ref, first = existing
            if (first.amount, dict(first.metadata)) != (request.amount, dict(request.metadata)):
                raise ProviderRejected("idempotency_error", "Keys are for one request only.")
        else:
            ref = f"pi_fake{next(self._ids):04d}"
            self.intents[ref] = {
                "id": ref,
                "object": "payment_intent",
                "amount": request.amount.amount,
                "currency": request.amount.currency,
                "status": "requires_payment_method",
                "client_secret": f"{ref}_secret_fake",
                "metadata": dict(request.metadata),
                "description": request.description,
                "last_payment_error": None,
                "amount_received": 0,
            }
            self._by_key[request.idempotency_key] = (ref, request)
        self.create_requests.append(request)
        if failure is not None:
            raise failure.error
        return self._payment(self.intents[ref])

    def retrieve_payment(self, provider_ref: str) -> ProviderPayment:
        failure = self._scripted()
        if failure is not None:
            raise failure.error
        return self._payment(self.intents[provider_ref])

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        failure = self._scripted()
        if failure is not None and not failure.took_effect:
            raise failure.error
        self.set_status(provider_ref, PaymentStatus.CANCELED)
        if failure is not None:
            raise failure.error
        return self._payment(self.intents[provider_ref])

    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        # Like Stripe with automatic capture: the money moved on confirmation.
        return self.retrieve_payment(provider_ref)

    def refund_payment(self, request: RefundRequest) -> ProviderRefund:
        failure = self._scripted()
        if failure is not None and not failure.took_effect:
            raise failure.error
        existing = self.refunds.get(request.idempotency_key)
        if existing is None:
            intent = self.intents[request.payment_provider_ref]
            already = sum(
                r.amount.amount
                for r in self.all_refunds()
                if r.provider_refund_id.startswith(intent["id"])
            )
            if (
                intent["status"] != "succeeded"
                or already + request.amount.amount > intent["amount_received"]
            ):
                raise ProviderRejected("charge_not_refundable", "Nothing left to refund.")
            existing = ProviderRefund(
                provider_refund_id=f"{intent['id']}_re{len(self.all_refunds()) + 1}",
                status=self.refund_status,
                amount=request.amount,
                refund_id_hint=request.refund_id,
            )
            self.refunds[request.idempotency_key] = existing
        if failure is not None:
            raise failure.error
        return existing

    def retrieve_refund(self, provider_refund_id: str) -> ProviderRefund:
        failure = self._scripted()
        if failure is not None:
            raise failure.error
        for refund in self.all_refunds():
            if refund.provider_refund_id == provider_refund_id:
                return refund
        raise ProviderRejected("resource_missing", f"No such refund: {provider_refund_id}")

    def find_refunds(
        self, *, payment_provider_ref: str, capture_id: str | None
    ) -> Sequence[ProviderRefund]:
        failure = self._scripted()
        if failure is not None:
            raise failure.error
        return [
            r for r in self.all_refunds() if r.provider_refund_id.startswith(payment_provider_ref)
        ]

    def find_payment(self, *, payment_id: str) -> ProviderPayment | None:
        failure = self._scripted()
        if failure is not None:
            raise failure.error
        for intent in self.intents.values():
            if intent["metadata"].get("payment_id") == payment_id:
                return self._payment(intent)
        return None

    def amount_step(self, currency: str) -> int:
        return self.steps.get(currency, 1)

    def refusal_for(self, amount: Money) -> str | None:
        if amount.amount % self.amount_step(amount.currency):
            return f"only steps of {self.amount_step(amount.currency)}"
        if self.currencies is None or amount.currency in self.currencies:
            return None
        return f"Stripe does not take {amount.currency.upper()}."

    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None:
        return _STRIPE_EVENTS.parse_event(event_type, payload)

    def parse_refund_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> RefundUpdate | None:
        return _STRIPE_EVENTS.parse_refund_event(event_type, payload)

    @staticmethod
    def _payment(intent: Mapping[str, Any]) -> ProviderPayment:
        error = intent.get("last_payment_error") or {}
        return ProviderPayment(
            provider_ref=intent["id"],
            status=_to_our_status(intent),
            amount=Money(intent["amount"], intent["currency"]),
            amount_received=intent.get("amount_received"),
            client_secret=intent["client_secret"],
            failure_code=error.get("decline_code") or error.get("code"),
            failure_message=error.get("message"),
            metadata=dict(intent["metadata"]),
            fee=None if intent.get("fee") is None else Money(intent["fee"], intent["currency"]),
        )

    # -- webhooks

    def event(
        self, ref: str, event_type: str, *, event_id: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """A Stripe event carrying the intent as it is now (with `changes` applied to the copy)."""
        intent = copy.deepcopy(self.intents[ref])
        intent.update(changes)
        return stripe_event(event_type, intent, event_id=event_id)


_event_ids = itertools.count(1)


def stripe_event(
    event_type: str, intent: Mapping[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_fake{next(_event_ids):06d}",
        "object": "event",
        "type": event_type,
        "api_version": "2024-06-20",
        "data": {"object": dict(intent)},
    }


def signed(
    event: Mapping[str, Any] | bytes, *, secret: str, at: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Stripe would deliver for `event` at instant `at`."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return body, {SIGNATURE_HEADER: sign(body, secret, int(at.timestamp()))}
