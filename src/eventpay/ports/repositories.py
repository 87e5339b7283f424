"""Repository protocols and the unit of work: the only way services reach storage."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from eventpay.domain import Event, Organizer, PaymentStatus
from eventpay.domain.ledger import (
    Account,
    AccountKind,
    LedgerTransaction,
    Posting,
    StatementEntry,
)
from eventpay.domain.orders import RegistrationStatus
from eventpay.domain.reconciliation import Movement, MovementRow
from eventpay.ports.connect import ConnectRepository
from eventpay.ports.identity import ProviderName
from eventpay.ports.memberships import MembershipRepository
from eventpay.ports.merchandise import MerchandiseRepository
from eventpay.ports.passes import PassRepository
from eventpay.ports.payouts import PayoutRepository
from eventpay.ports.places import PlaceRepository
from eventpay.ports.promos import PromoRepository
from eventpay.ports.records import (
    AuditEntry,
    IdempotencyRecord,
    OrderRecord,
    PaymentRecord,
    ReconciliationRun,
    RefundRecord,
    WebhookEventRecord,
    WebhookStatus,
)
from eventpay.ports.sponsorships import SponsorshipRepository
from eventpay.ports.teams import TeamRepository


class CatalogRepository(Protocol):
    def list_events(self) -> Sequence[Event]: ...
    def get_event(self, event_id: str) -> Event | None: ...
    def get_organizer(self, organizer_id: str) -> Organizer | None: ...
    def add_organizer(self, organizer: Organizer, *, created_at: datetime) -> None: ...
    def add_event(self, event: Event, *, created_at: datetime) -> None: ...
    def update_organizer(self, organizer: Organizer) -> None: ...
    def lock_event(self, event_id: str) -> Event | None:
        """The event, its row locked until the transaction ends (edits queue behind it)."""
        ...

    def update_event(self, event: Event) -> None:
        """Store the event's fields and classes as given (added, changed, removed classes);
        capacities are the places port's (`ensure_stock`), not this method's."""
        ...

    def delete_event(self, event_id: str) -> None:
        """Remove the event with its classes, stock items and promo codes."""
        ...

    def event_has_orders(self, event_id: str) -> bool: ...
    def taken_class_ids(self, class_ids: Sequence[str]) -> set[str]:
        """Those of `class_ids` some event (any organizer's) already has."""
        ...

    def classes_with_orders(self, class_ids: Sequence[str]) -> set[str]:
        """Those of `class_ids` that an order line or a place references."""
        ...

    def is_member(self, user_id: str, *, at: datetime) -> bool: ...
    def add_membership(
        self, *, user_id: str, valid_from: datetime, valid_until: datetime
    ) -> None: ...


class OrderRepository(Protocol):
    def add(self, order: OrderRecord) -> None: ...
    def get(self, order_id: str, *, for_update: bool = False) -> OrderRecord | None: ...
    def set_registration_status(
        self, registration_id: str, status: RegistrationStatus, *, at: datetime
    ) -> None: ...
    def expire(self, order_id: str, *, at: datetime) -> None:
        """Bring the order's expiry forward to `at` (sandbox control: a test clock)."""
        ...


class PaymentRepository(Protocol):
    def add(self, payment: PaymentRecord) -> None: ...
    def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRecord | None: ...
    def by_provider_ref(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> PaymentRecord | None: ...
    def by_capture_id(
        self, provider: ProviderName, capture_id: str, *, for_update: bool = False
    ) -> PaymentRecord | None:
        """The attempt whose money movement (Stripe charge, PayPal capture) is `capture_id`."""
        ...

    def list_for_order(self, order_id: str) -> Sequence[PaymentRecord]: ...
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
        """Attempts in `statuses` due for the janitor (`next_check_at <= now`), the longest due
        first: exactly the due work, selected in the database.

        Narrowed to a `provider`; to attempts with (`linked`) or without a provider object; with
        or without a `captured` money movement; created after `created_after`; whose order has a
        succeeded attempt (`beside_success`); whose provider fee is not in the ledger yet
        (`fee_unknown`: no transaction `payment:<id>:fee`). `unchecked_too` also selects
        attempts never checked since their last status change, whatever their `next_check_at`.
        """
        ...

    def order_ids(self, *, status: PaymentStatus) -> Sequence[str]:
        """The orders with at least one attempt in `status`, in order."""
        ...

    def list_settled(self, *, provider: ProviderName, since: datetime) -> Sequence[PaymentRecord]:
        """`provider`'s succeeded attempts with a money movement, created at or after `since`."""
        ...

    def save(self, payment: PaymentRecord) -> None: ...


class RefundRepository(Protocol):
    def add(self, refund: RefundRecord) -> None: ...
    def get(self, refund_id: str, *, for_update: bool = False) -> RefundRecord | None: ...
    def by_provider_ref(
        self, provider: ProviderName, provider_refund_id: str, *, for_update: bool = False
    ) -> RefundRecord | None: ...
    def by_idempotency_key(self, key: str) -> RefundRecord | None: ...
    def list_for_order(self, order_id: str) -> Sequence[RefundRecord]: ...
    def list_settled(self, *, provider: ProviderName, since: datetime) -> Sequence[RefundRecord]:
        """`provider`'s succeeded refunds with its id, created at or after `since`."""
        ...

    def list_due(self, *, now: datetime, limit: int) -> Sequence[RefundRecord]:
        """Pending refunds due to be sent or read (`next_check_at <= now`), longest due first."""
        ...

    def save(self, refund: RefundRecord) -> None: ...


class LedgerRepository(Protocol):
    """The ledger's append-only tables: transactions keyed by cause, and their postings."""

    def post(self, transaction: LedgerTransaction, *, at: datetime) -> bool:
        """Store `transaction` unless one with its cause exists; False when it did."""
        ...

    def has_order(self, order_id: str) -> bool:
        """Whether any transaction of `order_id` was posted (backfill skips those orders)."""
        ...

    def postings_for_order(self, order_id: str) -> Sequence[Posting]: ...
    def postings_for_cause(self, cause: str) -> Sequence[Posting]:
        """The postings of the transaction with this cause; empty when none was posted."""
        ...

    def balances(
        self, *, kind: AccountKind | None = None, owner: str | None = None
    ) -> Mapping[Account, int]:
        """Every account's balance (sum of its postings), optionally narrowed."""
        ...

    def unbalanced(self) -> Sequence[tuple[str, str, int]]:
        """(cause, currency, sum) of every transaction whose postings do not sum to zero."""
        ...

    def order_ids(self) -> Sequence[str]:
        """The orders that have postings, in order."""
        ...

    def statement(
        self, *, organizer_id: str, since: datetime, until: datetime
    ) -> Sequence[StatementEntry]:
        """The transactions in [since, until) that changed what `organizer_id` is owed, oldest
        first."""
        ...

    def payable_before(self, *, organizer_id: str, at: datetime) -> Mapping[str, int]:
        """What the platform owed `organizer_id` just before `at`, per currency (positive)."""
        ...


class ReconciliationRepository(Protocol):
    def add(self, run: ReconciliationRun) -> None: ...
    def latest(self, provider: ProviderName) -> ReconciliationRun | None:
        """The provider's most recent run, with its mismatches in order."""
        ...

    def stage_ours(self, *, provider: ProviderName, since: datetime) -> None:
        """Hold our movements of the provider since `since` in this unit of work (a temporary
        table) for `disagreements`: its succeeded payments and refunds, with the fees booked."""
        ...

    def stage_theirs(
        self, rows: Iterable[MovementRow], *, progress: Callable[[int], None] | None = None
    ) -> int:
        """Hold the provider's movements in this unit of work (a temporary table) for
        `disagreements`; how many rows there were. `progress` hears the count now and then."""
        ...

    def disagreements(
        self, *, provider: ProviderName, since: datetime
    ) -> tuple[int, Sequence[Movement], Sequence[Movement]]:
        """Our staged movements (`stage_ours`, plus older ones the staged rows name) against
        the staged rows, in the database: how many ours there are, and those of each side that
        do not agree with the other exactly (missing there, or a different currency, amount or
        fee)."""
        ...

    def organizer_movements(
        self, *, provider: ProviderName, since: datetime, refs: Iterable[str]
    ) -> Sequence[Movement]:
        """The money that left for organizers through `provider` (transfers and their
        reversals, payouts and their returns), created since `since` or named in `refs`."""
        ...

    def destination_movements(
        self, *, since: datetime, links: Iterable[str]
    ) -> Sequence[tuple[str, Movement]]:
        """What Stripe moves by itself for our destination charges (their transfers, and the
        reversals their refunds make), each with the id Stripe links it by (our charge's, our
        refund's), created since `since` or linked by one of `links`."""
        ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def list_for(self, *, order_id: str) -> Sequence[AuditEntry]: ...
    def list_for_entity(self, entity_type: str, entity_id: str) -> Sequence[AuditEntry]:
        """Every entry about one thing (a payout, an organizer), oldest first."""
        ...


class WebhookEventRepository(Protocol):
    def insert_if_new(self, event: WebhookEventRecord) -> bool: ...
    def insert_many_if_new(self, events: Sequence[WebhookEventRecord]) -> set[str]:
        """Insert the events whose (provider, event id) is not stored yet; the new rows' ids.

        The events must have distinct (provider, event id) keys.
        """
        ...

    def claim_next(self, *, now: datetime) -> WebhookEventRecord | None:
        """Lock and return one due event; the lock lasts until the unit of work ends."""
        ...

    def get(self, event_row_id: str, *, for_update: bool = False) -> WebhookEventRecord | None: ...
    def save(self, event: WebhookEventRecord) -> None: ...
    def list(self, *, status: WebhookStatus | None, limit: int) -> Sequence[WebhookEventRecord]: ...


class IdempotencyRepository(Protocol):
    def get(
        self, principal: str, key: str, *, for_update: bool = False
    ) -> IdempotencyRecord | None: ...
    def insert_if_new(self, record: IdempotencyRecord) -> bool: ...
    def save(self, record: IdempotencyRecord) -> None: ...
    def finish(self, principal: str, key: str, *, status: int, body: str) -> None:
        """Store the answer and end the lease, in one statement (no-op for a missing key)."""
        ...

    def delete(self, principal: str, key: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Only `commit` makes changes durable; leaving the block rolls back."""

    catalog: CatalogRepository
    orders: OrderRepository
    payments: PaymentRepository
    refunds: RefundRepository
    audit: AuditRepository
    webhooks: WebhookEventRepository
    idempotency: IdempotencyRepository
    ledger: LedgerRepository
    reconciliation: ReconciliationRepository
    ledger_checks: LedgerCheckRepository
    # Stripe Connect; only reached when a provider has the capability (`Capabilities.connect`).
    connect: ConnectRepository
    payouts: PayoutRepository
    places: PlaceRepository
    promos: PromoRepository
    teams: TeamRepository
    passes: PassRepository
    merchandise: MerchandiseRepository
    memberships: MembershipRepository
    sponsorships: SponsorshipRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


# ---------------------------------------------------------------------------- ledger checks


@dataclass(frozen=True, slots=True)
class OrderBooks:
    """One order's figures as `eventpay ledger verify` compares them, read in bulk.

    `shares` are (organizer id, gross, platform fee) as the order stored them when it was
    priced, empty for an order priced before it did (its `lines` decide then): `lines` are
    (organizer id, amount) of the order's lines whose event exists; `net_by_provider`
    is what its succeeded payments brought through each provider less its succeeded refunds
    there (a provider with either appears, even at zero); `held` is the sum of its postings per
    account as (account kind, owner, currency, sum); `posted` says whether any ledger
    transaction names the order.
    """

    order_id: str
    currency: str
    total: int
    platform_fee: int
    shares: tuple[tuple[str, int, int], ...]
    lines: tuple[tuple[str, int], ...]
    net_by_provider: tuple[tuple[str, int], ...]
    held: tuple[tuple[str, str, str, int], ...]
    posted: bool


@dataclass(frozen=True, slots=True)
class BooksClass:
    """Orders whose figures the database found alike (`LedgerCheckRepository.order_classes`):
    the same order fields, lines, succeeded attempts and account sums. `key` is opaque; `first`
    and `last` are the smallest and largest order id in it."""

    key: str
    orders: int
    first: str
    last: str


@dataclass(frozen=True, slots=True)
class OrderClasses:
    """Every order with money or postings, grouped into `classes`, and the `orphans`: order ids
    named by ledger transactions that have no order, in order."""

    classes: Sequence[BooksClass]
    orphans: Sequence[str]


class LedgerCheckRepository(Protocol):
    """Set-based reads for checking the whole ledger: a few grouped queries per chunk of
    orders, never a query per order."""

    def snapshot(self) -> None:
        """Read everything that follows in this unit of work from one snapshot (call first)."""
        ...

    def order_classes(self) -> OrderClasses | None:
        """The orders grouped by their figures in the database, or None when this database
        cannot (then `order_books` reads them chunk by chunk)."""
        ...

    def books_of(self, order_ids: Sequence[str]) -> Sequence[OrderBooks]:
        """The books of these orders (those with a succeeded payment or a ledger transaction)."""
        ...

    def class_members(self, key: str) -> Sequence[str]:
        """The order ids of the class with this `key` (`order_classes`), in order."""
        ...

    def unbalanced(self) -> Sequence[tuple[str, str, int]]:
        """(cause, currency, sum) of every transaction whose postings do not sum to zero, by
        cause."""
        ...

    def orphans(self) -> Sequence[str]:
        """Order ids named by ledger transactions that have no order, in order."""
        ...

    def order_books(self, *, after: str, limit: int) -> tuple[Sequence[OrderBooks], str | None]:
        """Scan the next `limit` orders by id after `after` (use "" to start); the books of
        those with a succeeded payment or a ledger transaction, and the last id scanned (None
        when no order was left to scan)."""
        ...
