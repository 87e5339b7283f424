"""Ports: the protocols services depend on, and the plain records that cross them.

Services see the database only through `UnitOfWork` and its repositories, and payment providers
only through `PaymentProvider` and `WebhookVerifier`. Adapters (`eventpay.db`,
`eventpay.providers`) implement these; in-memory fakes in the unit tests implement them too.
Records are plain dataclasses: no SQLAlchemy object ever leaves the db package, and no
provider SDK object ever leaves its adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, Self

from eventpay.domain import Event, Money, Organizer, PaymentStatus, RefundStatus
from eventpay.domain.orders import RegistrationStatus

Clock = Callable[[], datetime]


class ProviderName(StrEnum):
    STRIPE = "stripe"
    PAYPAL = "paypal"


class Role(StrEnum):
    COMPETITOR = "competitor"
    ORGANIZER = "organizer"
    ADMIN = "admin"
    SPONSOR = "sponsor"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the authenticated user, and where from (for the audit log)."""

    user_id: str
    role: Role
    organizer_id: str | None = None
    ip_address: str | None = None


SYSTEM_ACTOR = "system"


# ---------------------------------------------------------------------------- records


@dataclass(slots=True)
class OrderLineRecord:
    id: str
    position: int
    kind: str
    description: str
    amount: int
    event_id: str | None = None
    class_id: str | None = None
    price_rule: str | None = None


@dataclass(slots=True)
class RegistrationRecord:
    id: str
    order_id: str
    event_id: str
    competitor_id: str
    class_ids: list[str]
    status: RegistrationStatus
    created_at: datetime
    confirmed_at: datetime | None = None


@dataclass(slots=True)
class OrderRecord:
    id: str
    buyer_id: str
    currency: str
    subtotal: int
    discount: int
    fees: int
    tax: int
    total: int
    platform_fee: int
    organizer_net: int
    created_at: datetime
    expires_at: datetime | None
    cancelled_at: datetime | None = None
    lines: list[OrderLineRecord] = field(default_factory=list)
    registrations: list[RegistrationRecord] = field(default_factory=list)

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


@dataclass(slots=True)
class PaymentRecord:
    id: str
    order_id: str
    provider: ProviderName
    amount: int
    currency: str
    status: PaymentStatus
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    stripe_payment_intent_id: str | None = None
    paypal_order_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    failure_code: str | None = None
    failure_message: str | None = None
    amount_received: int | None = None

    @property
    def provider_ref(self) -> str | None:
        if self.provider is ProviderName.STRIPE:
            return self.stripe_payment_intent_id
        return self.paypal_order_id


@dataclass(slots=True)
class RefundRecord:
    id: str
    order_id: str
    payment_id: str
    provider: ProviderName
    amount: int
    currency: str
    status: RefundStatus
    reason: str
    created_at: datetime


@dataclass(slots=True)
class AuditEntry:
    entity_type: str
    entity_id: str
    action: str
    actor_id: str
    details: dict[str, Any]
    created_at: datetime
    payment_id: str | None = None
    order_id: str | None = None
    ip_address: str | None = None


class WebhookStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    RETRYING = "retrying"
    DEAD = "dead"
    IGNORED = "ignored"


@dataclass(slots=True)
class WebhookEventRecord:
    id: str
    provider: ProviderName
    event_id: str
    type: str
    payload: str
    status: WebhookStatus
    received_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    processed_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class IdempotencyRecord:
    principal: str
    key: str
    fingerprint: str
    created_at: datetime
    locked_until: datetime | None
    response_status: int | None = None
    response_body: str | None = None


# ---------------------------------------------------------------------------- repositories


class CatalogRepository(Protocol):
    def list_events(self) -> Sequence[Event]: ...
    def get_event(self, event_id: str) -> Event | None: ...
    def get_organizer(self, organizer_id: str) -> Organizer | None: ...
    def add_organizer(self, organizer: Organizer, *, created_at: datetime) -> None: ...
    def add_event(self, event: Event, *, created_at: datetime) -> None: ...
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


class PaymentRepository(Protocol):
    def add(self, payment: PaymentRecord) -> None: ...
    def get(self, payment_id: str, *, for_update: bool = False) -> PaymentRecord | None: ...
    def by_provider_ref(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> PaymentRecord | None: ...
    def list_for_order(self, order_id: str) -> Sequence[PaymentRecord]: ...
    def list_by_status(self, status: PaymentStatus, *, limit: int) -> Sequence[PaymentRecord]: ...
    def save(self, payment: PaymentRecord) -> None: ...


class RefundRepository(Protocol):
    def list_for_order(self, order_id: str) -> Sequence[RefundRecord]: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
    def list_for(self, *, order_id: str) -> Sequence[AuditEntry]: ...


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


# ---------------------------------------------------------------------------- providers


@dataclass(frozen=True, slots=True)
class Capabilities:
    partial_refund: bool
    payouts: bool
    disputes: bool
    client_confirmation: bool


@dataclass(frozen=True, slots=True)
class CreatePayment:
    payment_id: str
    order_id: str
    amount: Money
    idempotency_key: str
    description: str
    metadata: Mapping[str, str]
    return_url: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """What a provider says about one payment, already mapped to our states."""

    provider_ref: str
    status: PaymentStatus
    amount: Money
    amount_received: int | None = None
    client_secret: str | None = None
    approve_url: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """A provider event reduced to what the core needs to move one payment attempt."""

    provider_ref: str
    status: PaymentStatus
    payment_id_hint: str | None
    amount: Money | None
    amount_received: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None


class ProviderError(Exception):
    """Base of provider failures; `code` is safe to show and log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ProviderOutcomeUnknown(ProviderError):
    """Timeout, connection loss or 5xx: the call may or may not have taken effect."""


class ProviderRejected(ProviderError):
    """The provider definitely refused the call (4xx); nothing happened there."""


class PaymentProvider(Protocol):
    name: ProviderName
    capabilities: Capabilities

    def create_payment(self, request: CreatePayment) -> ProviderPayment: ...
    def retrieve_payment(self, provider_ref: str) -> ProviderPayment: ...
    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment: ...
    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None: ...


ProviderRegistry = Mapping[ProviderName, PaymentProvider]


@dataclass(frozen=True, slots=True)
class VerifiedWebhook:
    provider: ProviderName
    event_id: str
    type: str
    payload: Mapping[str, Any]


class WebhookRejected(Exception):
    """A webhook that must not be stored; `code` says why (answered with 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class WebhookVerifier(Protocol):
    provider: ProviderName

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: datetime
    ) -> VerifiedWebhook: ...
