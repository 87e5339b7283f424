"""In-memory sponsor packages, sponsorships and their payments: the same answers as
`db.sponsor_repository`, on the fake unit of work's tables (`sponsorships`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventpay.ports.identity import ProviderName
from eventpay.ports.sponsorships import (
    InvoicePayment,
    SponsorPackage,
    SponsorPaymentRecord,
    Sponsorship,
)


@dataclass
class SponsorTables:
    packages: dict[str, SponsorPackage] = field(default_factory=dict)
    rows: dict[str, Sponsorship] = field(default_factory=dict)
    payments: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    records: dict[tuple[str, str], SponsorPaymentRecord] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> SponsorTables:
        rows = {k: replace(v) for k, v in self.rows.items()}
        records = {k: replace(v) for k, v in self.records.items()}
        return SponsorTables(dict(self.packages), rows, dict(self.payments), records)


class FakeSponsorshipRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _t(self) -> SponsorTables:
        tables: SponsorTables = self._uow.tables.sponsorships
        return tables

    def add_package(self, package: SponsorPackage) -> None:
        assert package.id not in self._t.packages
        self._t.packages[package.id] = package

    def package(self, package_id: str) -> SponsorPackage | None:
        return self._t.packages.get(package_id)

    def packages_for(self, event_id: str) -> Sequence[SponsorPackage]:
        found = [p for p in self._t.packages.values() if p.event_id == event_id]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    def add(self, sponsorship: Sponsorship) -> None:
        assert sponsorship.id not in self._t.rows
        self._t.rows[sponsorship.id] = replace(sponsorship)

    def get(self, sponsorship_id: str, *, for_update: bool = False) -> Sponsorship | None:
        found = self._t.rows.get(sponsorship_id)
        return None if found is None else replace(found)

    def by_invoice(
        self, provider: ProviderName, invoice_id: str, *, for_update: bool = False
    ) -> Sponsorship | None:
        for row in self._t.rows.values():
            if row.provider is provider and row.provider_invoice_id == invoice_id:
                return replace(row)
        return None

    def for_event(self, event_id: str) -> Sequence[Sponsorship]:
        found = [replace(r) for r in self._t.rows.values() if r.event_id == event_id]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def save(self, sponsorship: Sponsorship) -> None:
        if sponsorship.id not in self._t.rows:
            raise LookupError(sponsorship.id)
        self._t.rows[sponsorship.id] = replace(sponsorship)

    def add_payment(
        self, sponsorship_id: str, provider: ProviderName, payment: InvoicePayment, *, at: datetime
    ) -> bool:
        key = (provider.value, payment.payment_ref)
        if key in self._t.payments:
            return False
        self._t.payments[key] = (sponsorship_id, payment.amount.amount)
        self._t.records[key] = SponsorPaymentRecord(
            id=len(self._t.records) + 1,
            sponsorship_id=sponsorship_id,
            provider=provider,
            payment_ref=payment.payment_ref,
            amount=payment.amount,
            received_at=at,
        )
        return True

    def payment(
        self, provider: ProviderName, payment_ref: str, *, for_update: bool = False
    ) -> SponsorPaymentRecord | None:
        found = self._t.records.get((provider.value, payment_ref))
        return None if found is None else replace(found)

    def save_payment(self, payment: SponsorPaymentRecord) -> None:
        key = (payment.provider.value, payment.payment_ref)
        if key not in self._t.records:
            raise LookupError(payment.payment_ref)
        self._t.records[key] = replace(payment)

    def payments_received(
        self, provider: ProviderName, *, since: datetime
    ) -> list[SponsorPaymentRecord]:
        return [
            replace(r)
            for r in self._t.records.values()
            if r.provider is provider and r.received_at >= since
        ]

    def payments_without_fee(
        self, provider: ProviderName, *, now: datetime, received_after: datetime, limit: int
    ) -> list[SponsorPaymentRecord]:
        due = [
            replace(r)
            for r in self._t.records.values()
            if r.provider is provider
            and r.fee is None
            and r.received_at > received_after
            and (r.fee_check_at is None or r.fee_check_at <= now)
        ]
        due.sort(key=lambda r: (r.fee_check_at is not None, r.fee_check_at or now, r.id))
        return due[:limit]
