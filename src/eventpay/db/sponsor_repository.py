"""Sponsor packages, sponsorships and their payments in SQL (`db.sponsor_models`).

A payment is recorded once: the caller holds the sponsorship's row lock (`for_update`), so the
check for the provider's payment id and the insert cannot interleave with another delivery of
the same event; the unique constraint stays the last word.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from eventpay.db.sponsor_models import SponsorPackageRow, SponsorshipPaymentRow, SponsorshipRow
from eventpay.domain import Money
from eventpay.domain.sponsorships import SponsorKind, SponsorshipStatus
from eventpay.ports.identity import ProviderName
from eventpay.ports.sponsorships import (
    InvoicePayment,
    SponsorPackage,
    SponsorPaymentRecord,
    Sponsorship,
)


def _package(row: SponsorPackageRow) -> SponsorPackage:
    return SponsorPackage(
        id=row.id,
        event_id=row.event_id,
        kind=SponsorKind(row.kind),
        name=row.name,
        price=Money(row.price, row.currency),
        quantity=row.quantity,
        created_at=row.created_at,
    )


def _sponsorship(row: SponsorshipRow) -> Sponsorship:
    return Sponsorship(
        id=row.id,
        event_id=row.event_id,
        package_id=row.package_id,
        sponsor_name=row.sponsor_name,
        sponsor_email=row.sponsor_email,
        status=SponsorshipStatus(row.status),
        provider=ProviderName(row.provider),
        provider_invoice_id=row.provider_invoice_id,
        invoice_url=row.invoice_url,
        amount=Money(row.amount, row.currency),
        platform_fee=row.platform_fee,
        paid=row.paid,
        due_date=row.due_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        activated_at=row.activated_at,
    )


def _fill(row: SponsorshipRow, s: Sponsorship) -> None:
    row.event_id = s.event_id
    row.package_id = s.package_id
    row.sponsor_name = s.sponsor_name
    row.sponsor_email = s.sponsor_email
    row.status = s.status.value
    row.provider = s.provider.value
    row.provider_invoice_id = s.provider_invoice_id
    row.invoice_url = s.invoice_url
    row.amount = s.amount.amount
    row.currency = s.amount.currency
    row.platform_fee = s.platform_fee
    row.paid = s.paid
    row.due_date = s.due_date
    row.created_at = s.created_at
    row.updated_at = s.updated_at
    row.activated_at = s.activated_at


class SqlSponsorshipRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add_package(self, package: SponsorPackage) -> None:
        self._s.add(
            SponsorPackageRow(
                id=package.id,
                event_id=package.event_id,
                kind=package.kind.value,
                name=package.name,
                price=package.price.amount,
                currency=package.price.currency,
                quantity=package.quantity,
                created_at=package.created_at,
            )
        )
        self._s.flush()

    def package(self, package_id: str) -> SponsorPackage | None:
        row = self._s.get(SponsorPackageRow, package_id)
        return None if row is None else _package(row)

    def packages_for(self, event_id: str) -> Sequence[SponsorPackage]:
        rows = self._s.scalars(
            select(SponsorPackageRow)
            .where(SponsorPackageRow.event_id == event_id)
            .order_by(SponsorPackageRow.created_at, SponsorPackageRow.id)
        )
        return [_package(r) for r in rows]

    def add(self, sponsorship: Sponsorship) -> None:
        row = SponsorshipRow(id=sponsorship.id)
        _fill(row, sponsorship)
        self._s.add(row)
        self._s.flush()

    def _row(self, sponsorship_id: str, *, for_update: bool) -> SponsorshipRow | None:
        query = select(SponsorshipRow).where(SponsorshipRow.id == sponsorship_id)
        if for_update:
            query = query.with_for_update()
        return self._s.scalars(query).one_or_none()

    def get(self, sponsorship_id: str, *, for_update: bool = False) -> Sponsorship | None:
        row = self._row(sponsorship_id, for_update=for_update)
        return None if row is None else _sponsorship(row)

    def by_invoice(
        self, provider: ProviderName, invoice_id: str, *, for_update: bool = False
    ) -> Sponsorship | None:
        query = select(SponsorshipRow).where(
            SponsorshipRow.provider == provider.value,
            SponsorshipRow.provider_invoice_id == invoice_id,
        )
        if for_update:
            query = query.with_for_update()
        row = self._s.scalars(query).one_or_none()
        return None if row is None else _sponsorship(row)

    def for_event(self, event_id: str) -> Sequence[Sponsorship]:
        rows = self._s.scalars(
            select(SponsorshipRow)
            .where(SponsorshipRow.event_id == event_id)
            .order_by(SponsorshipRow.created_at, SponsorshipRow.id)
        )
        return [_sponsorship(r) for r in rows]

    def save(self, sponsorship: Sponsorship) -> None:
        row = self._row(sponsorship.id, for_update=False)
        if row is None:
            raise LookupError(f"no sponsorship {sponsorship.id}")
        _fill(row, sponsorship)
        self._s.flush()

    def add_payment(
        self, sponsorship_id: str, provider: ProviderName, payment: InvoicePayment, *, at: datetime
    ) -> bool:
        seen = self._s.scalars(
            select(SponsorshipPaymentRow.id).where(
                SponsorshipPaymentRow.provider == provider.value,
                SponsorshipPaymentRow.payment_ref == payment.payment_ref,
            )
        ).first()
        if seen is not None:
            return False
        self._s.add(
            SponsorshipPaymentRow(
                sponsorship_id=sponsorship_id,
                provider=provider.value,
                payment_ref=payment.payment_ref,
                amount=payment.amount.amount,
                currency=payment.amount.currency,
                received_at=at,
            )
        )
        self._s.flush()
        return True

    def _payment_row(
        self, provider: ProviderName, payment_ref: str, *, for_update: bool
    ) -> SponsorshipPaymentRow | None:
        query = select(SponsorshipPaymentRow).where(
            SponsorshipPaymentRow.provider == provider.value,
            SponsorshipPaymentRow.payment_ref == payment_ref,
        )
        if for_update:
            query = query.with_for_update()
        return self._s.scalars(query).first()

    def payment(
        self, provider: ProviderName, payment_ref: str, *, for_update: bool = False
    ) -> SponsorPaymentRecord | None:
        row = self._payment_row(provider, payment_ref, for_update=for_update)
        return None if row is None else _payment(row)

    def save_payment(self, payment: SponsorPaymentRecord) -> None:
        row = self._payment_row(payment.provider, payment.payment_ref, for_update=False)
        if row is None:
            raise LookupError(f"no sponsorship payment {payment.payment_ref}")
        row.fee = payment.fee
        row.fee_checks = payment.fee_checks
        row.fee_check_at = payment.fee_check_at
        self._s.flush()

    def payments_received(
        self, provider: ProviderName, *, since: datetime
    ) -> list[SponsorPaymentRecord]:
        rows = self._s.scalars(
            select(SponsorshipPaymentRow)
            .where(
                SponsorshipPaymentRow.provider == provider.value,
                SponsorshipPaymentRow.received_at >= since,
            )
            .order_by(SponsorshipPaymentRow.id)
        )
        return [_payment(r) for r in rows]

    def payments_without_fee(
        self, provider: ProviderName, *, now: datetime, received_after: datetime, limit: int
    ) -> list[SponsorPaymentRecord]:
        rows = self._s.scalars(
            select(SponsorshipPaymentRow)
            .where(
                SponsorshipPaymentRow.provider == provider.value,
                SponsorshipPaymentRow.fee.is_(None),
                SponsorshipPaymentRow.received_at > received_after,
                or_(
                    SponsorshipPaymentRow.fee_check_at.is_(None),
                    SponsorshipPaymentRow.fee_check_at <= now,
                ),
            )
            .order_by(SponsorshipPaymentRow.fee_check_at.nulls_first(), SponsorshipPaymentRow.id)
            .limit(limit)
        )
        return [_payment(r) for r in rows]


def _payment(row: SponsorshipPaymentRow) -> SponsorPaymentRecord:
    return SponsorPaymentRecord(
        id=row.id,
        sponsorship_id=row.sponsorship_id,
        provider=ProviderName(row.provider),
        payment_ref=row.payment_ref,
        amount=Money(row.amount, row.currency),
        received_at=row.received_at,
        fee=row.fee,
        fee_checks=row.fee_checks or 0,
        fee_check_at=row.fee_check_at,
    )
