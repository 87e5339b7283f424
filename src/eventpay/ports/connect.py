"""Stripe Connect across the ports: the provider calls, the records and their repository.

`ConnectProvider` is the optional capability of a payment provider that pays organizers
through connected accounts (`Capabilities.connect`): Express accounts, their onboarding links,
transfers and transfer reversals, and reading `account.updated`. `ConnectRepository` stores
each organizer's connected account as the provider last described it, the Connect side of
each payment (`ConnectCharge`), and the transfers of separate charges (`TransferRecord`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, cast

from eventpay.domain import Money
from eventpay.ports.providers import PaymentProvider


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the provider says about one connected account."""

    account_id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: tuple[str, ...] = ()
    # When the provider described it this way (Unix seconds: an event's `created`); not part
    # of the state itself. An older description must not overwrite a newer one.
    as_of: int | None = field(default=None, compare=False)


@dataclass(slots=True)
class ConnectedAccount:
    """An organizer's connected account as we last stored it."""

    organizer_id: str
    stripe_account_id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str]
    updated_at: datetime
    state_as_of: int | None = None  # `AccountState.as_of` of the state stored

    def state(self) -> AccountState:
        return AccountState(
            account_id=self.stripe_account_id,
            charges_enabled=self.charges_enabled,
            payouts_enabled=self.payouts_enabled,
            details_submitted=self.details_submitted,
            requirements_due=tuple(self.requirements_due),
        )


@dataclass(frozen=True, slots=True)
class AccountLink:
    url: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class ProviderTransfer:
    transfer_id: str
    amount: Money
    destination: str
    reversed_amount: int = 0
    reversal_id: str | None = None  # the reversal just made (`create_transfer_reversal`)


@dataclass(frozen=True, slots=True)
class CreateTransfer:
    amount: Money
    destination: str
    transfer_group: str
    source_transaction: str | None
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)


class ChargeKind(StrEnum):
    DESTINATION = "destination"
    SEPARATE = "separate"


@dataclass(frozen=True, slots=True)
class ConnectCharge:
    """The Connect side of one payment attempt, decided when the attempt is created."""

    payment_id: str
    order_id: str
    kind: ChargeKind
    currency: str
    created_at: datetime
    organizer_id: str | None = None  # destination charges only
    destination: str | None = None
    application_fee: int = 0


class TransferStatus(StrEnum):
    PENDING = "pending"  # due to be sent by the janitor
    SENT = "sent"
    FAILED = "failed"  # refused by the provider; a person decides
    CANCELED = "canceled"  # a refund took all of it back before it was sent


@dataclass(slots=True)
class TransferRecord:
    """One transfer of a separate charge to one organizer's connected account."""

    id: str
    payment_id: str
    order_id: str
    organizer_id: str
    destination: str
    amount: int
    currency: str
    transfer_group: str
    status: TransferStatus
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    next_check_at: datetime
    provider_transfer_id: str | None = None
    reversed_amount: int = 0
    checks: int = 0
    failure_reason: str | None = None


@dataclass(slots=True)
class TransferReversalRecord:
    """Part of a sent transfer taken back because of a refund (`refund_id`)."""

    id: str
    transfer_id: str
    refund_id: str
    amount: int
    status: TransferStatus
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    next_check_at: datetime
    provider_reversal_id: str | None = None
    failure_reason: str | None = None
    checks: int = 0


class ConnectProvider(Protocol):
    def create_account(
        self, *, organizer_id: str, email: str | None, idempotency_key: str
    ) -> AccountState: ...
    def create_account_link(
        self, *, account_id: str, refresh_url: str, return_url: str
    ) -> AccountLink: ...
    def retrieve_account(self, account_id: str) -> AccountState: ...
    def create_transfer(self, request: CreateTransfer) -> ProviderTransfer: ...
    def create_transfer_reversal(
        self, *, transfer_id: str, amount: Money, idempotency_key: str
    ) -> ProviderTransfer: ...
    def parse_account_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> AccountState | None: ...


def connect_of(provider: PaymentProvider | None) -> ConnectProvider | None:
    """The provider's Connect capability, or None when it has none."""
    if provider is None or not provider.capabilities.connect:
        return None
    return cast(ConnectProvider, provider)


class ConnectRepository(Protocol):
    def get_account(
        self, organizer_id: str, *, for_update: bool = False
    ) -> ConnectedAccount | None: ...
    def by_stripe_account(
        self, account_id: str, *, for_update: bool = False
    ) -> ConnectedAccount | None: ...
    def add_account(self, account: ConnectedAccount) -> None: ...
    def save_account(self, account: ConnectedAccount) -> None: ...
    def charge_enabled(self, organizer_ids: Sequence[str]) -> Mapping[str, str]:
        """Organizer id to connected account id, for those of `organizer_ids` whose account
        can take charges."""
        ...

    def add_charge(self, charge: ConnectCharge) -> None: ...
    def charge_for(self, payment_id: str) -> ConnectCharge | None: ...
    def destination_charges(self) -> Sequence[ConnectCharge]:
        """Every destination charge whose payment succeeded, by order."""
        ...

    def add_transfer(self, transfer: TransferRecord) -> None: ...
    def transfers_for_payment(
        self, payment_id: str, *, for_update: bool = False
    ) -> Sequence[TransferRecord]: ...
    def get_transfer(
        self, transfer_id: str, *, for_update: bool = False
    ) -> TransferRecord | None: ...
    def due_transfers(self, *, now: datetime, limit: int) -> Sequence[TransferRecord]:
        """Pending transfers with `next_check_at <= now`, longest due first."""
        ...

    def save_transfer(self, transfer: TransferRecord) -> None: ...
    def sent_transfers(self) -> Sequence[TransferRecord]:
        """Every transfer marked sent, by order and id."""
        ...

    def unsent_transfers(self, organizer_id: str) -> Mapping[tuple[TransferStatus, str], int]:
        """What the organizer's transfers not sent yet hold, by (status, currency): pending
        ones are on their way, failed ones wait for a person; neither may be paid out."""
        ...

    def add_reversal(self, reversal: TransferReversalRecord) -> None: ...
    def reversals_for_transfer(self, transfer_id: str) -> Sequence[TransferReversalRecord]: ...
    def get_reversal(
        self, reversal_id: str, *, for_update: bool = False
    ) -> TransferReversalRecord | None: ...
    def due_reversals(self, *, now: datetime, limit: int) -> Sequence[TransferReversalRecord]:
        """Pending reversals whose transfer was sent, `next_check_at <= now`, longest due
        first."""
        ...

    def save_reversal(self, reversal: TransferReversalRecord) -> None: ...
    def sent_reversals(self) -> Sequence[TransferReversalRecord]: ...
    def transfer_amounts(self, causes: Sequence[str]) -> Mapping[str, int]:
        """Per ledger cause among `causes`, the amount its transaction moved to organizer
        payables (debit positive); causes never posted are absent."""
        ...
