"""The sponsorships port: packages, invoiced sponsorships, their payments, and the invoicing
capability a provider exposes for them (`sponsor_invoices_of`).

A provider sells sponsor invoices when its adapter carries a `SponsorInvoiceGateway` under
`SPONSOR_INVOICES` (set by the composition root): PayPal Invoicing v2 or Stripe Invoices with
`collection_method=send_invoice`. The gateway also reads the provider's invoice events into a
`SponsorInvoiceEvent` (every payment the invoice has received so far), so settlement never reads
provider payloads. A gateway that can also say what the provider kept of a payment after the
fact (Stripe: the charge's balance transaction) is an `InvoicePaymentFees` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from eventpay.domain import Money
from eventpay.domain.sponsorships import SponsorKind, SponsorshipStatus
from eventpay.ports.capabilities import Invoice, InvoiceDraft
from eventpay.ports.identity import ProviderName


@dataclass(frozen=True, slots=True)
class SponsorPackage:
    id: str
    event_id: str
    kind: SponsorKind
    name: str
    price: Money
    quantity: int
    created_at: datetime


@dataclass(slots=True)
class Sponsorship:
    id: str
    event_id: str
    package_id: str
    sponsor_name: str
    sponsor_email: str
    status: SponsorshipStatus
    provider: ProviderName
    provider_invoice_id: str | None
    invoice_url: str | None
    amount: Money
    platform_fee: int
    paid: int
    due_date: date
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """One payment an invoice received; ``payment_ref`` is the provider's id, unique there."""

    payment_ref: str
    amount: Money


@dataclass(frozen=True, slots=True)
class SponsorInvoiceEvent:
    provider_invoice_id: str
    payments: tuple[InvoicePayment, ...] = ()
    overdue: bool = False
    sponsorship_id: str | None = None  # ours, as the invoice carries it


class SponsorInvoiceGateway(Protocol):
    def issue_invoice(
        self, draft: InvoiceDraft, *, sponsorship_id: str, net_days: int, idempotency_key: str
    ) -> Invoice:
        """Create the invoice and send it to the recipient (part payments allowed)."""
        ...

    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> None: ...

    def parse_invoice_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> SponsorInvoiceEvent | None:
        """The event's meaning for a sponsor invoice; None for events about none."""
        ...

    def is_invoice_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        """Whether a payment event pays a sponsor invoice (its invoice events settle it)."""
        ...


@runtime_checkable
class InvoicePaymentFees(Protocol):
    def payment_fee(self, payment_ref: str) -> Money | None:
        """What the provider kept of the payment `payment_ref`, in its currency; None while it
        does not say (or settled it in another currency)."""
        ...


@dataclass(slots=True)
class SponsorPaymentRecord:
    """A payment a sponsor invoice received, with what the provider kept of it (`fee`, None
    until read; read again at `fee_check_at`, None: due now)."""

    id: int
    sponsorship_id: str
    provider: ProviderName
    payment_ref: str
    amount: Money
    received_at: datetime
    fee: int | None = None
    fee_checks: int = 0
    fee_check_at: datetime | None = None


SPONSOR_INVOICES = "sponsor_invoices"


def sponsor_invoices_of(provider: object) -> SponsorInvoiceGateway | None:
    found: SponsorInvoiceGateway | None = getattr(provider, SPONSOR_INVOICES, None)
    return found


class SponsorshipRepository(Protocol):
    def add_package(self, package: SponsorPackage) -> None: ...
    def package(self, package_id: str) -> SponsorPackage | None: ...
    def packages_for(self, event_id: str) -> Sequence[SponsorPackage]: ...
    def add(self, sponsorship: Sponsorship) -> None: ...
    def get(self, sponsorship_id: str, *, for_update: bool = False) -> Sponsorship | None: ...
    def by_invoice(
        self, provider: ProviderName, invoice_id: str, *, for_update: bool = False
    ) -> Sponsorship | None: ...
    def for_event(self, event_id: str) -> Sequence[Sponsorship]: ...
    def save(self, sponsorship: Sponsorship) -> None: ...
    def add_payment(
        self, sponsorship_id: str, provider: ProviderName, payment: InvoicePayment, *, at: datetime
    ) -> bool:
        """Record a payment once; False when its provider id is already recorded."""
        ...

    def payment(
        self, provider: ProviderName, payment_ref: str, *, for_update: bool = False
    ) -> SponsorPaymentRecord | None: ...
    def save_payment(self, payment: SponsorPaymentRecord) -> None: ...
    def payments_received(
        self, provider: ProviderName, *, since: datetime
    ) -> list[SponsorPaymentRecord]:
        """The payments of `provider` received since `since` (reconciliation's our side)."""
        ...

    def payments_without_fee(
        self, provider: ProviderName, *, now: datetime, received_after: datetime, limit: int
    ) -> list[SponsorPaymentRecord]:
        """Payments whose fee is still unknown and due to be read, longest due first."""
        ...
