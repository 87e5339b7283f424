"""In-memory membership subscriptions: the same answers as `db.membership_repository`, on the
fake unit of work's tables (`subscriptions`), projecting into the fake catalog's memberships."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from eventpay.ports.identity import ProviderName
from eventpay.ports.memberships import ChargeRecord, SubscriptionRecord


@dataclass
class SubscriptionTables:
    rows: dict[str, SubscriptionRecord] = field(default_factory=dict)
    windows: dict[str, tuple[str, datetime, datetime]] = field(default_factory=dict)
    charges: dict[tuple[str, str], ChargeRecord] = field(default_factory=dict)
    claims: dict[str, datetime] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> SubscriptionTables:
        rows = {k: replace(v) for k, v in self.rows.items()}
        charges = {k: replace(v) for k, v in self.charges.items()}
        return SubscriptionTables(rows, dict(self.windows), charges, dict(self.claims))


class FakeMembershipRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _t(self) -> SubscriptionTables:
        tables: SubscriptionTables = self._uow.tables.subscriptions
        return tables

    def add(self, record: SubscriptionRecord) -> None:
        assert record.id not in self._t.rows
        key = (record.provider, record.provider_subscription_id)
        assert all((r.provider, r.provider_subscription_id) != key for r in self._t.rows.values())
        self._t.rows[record.id] = replace(record)

    def save(self, record: SubscriptionRecord) -> None:
        if record.id not in self._t.rows:
            raise LookupError(record.id)
        self._t.rows[record.id] = replace(record)

    def get(self, subscription_id: str, *, for_update: bool = False) -> SubscriptionRecord | None:
        found = self._t.rows.get(subscription_id)
        return None if found is None else replace(found)

    def by_provider_id(
        self, provider: ProviderName, provider_subscription_id: str, *, for_update: bool = False
    ) -> SubscriptionRecord | None:
        for row in self._t.rows.values():
            if (
                row.provider is provider
                and row.provider_subscription_id == provider_subscription_id
            ):
                return replace(row)
        return None

    def for_user(self, user_id: str) -> list[SubscriptionRecord]:
        rows = [replace(r) for r in self._t.rows.values() if r.user_id == user_id]
        return sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)

    def claim_subscribe(self, user_id: str, *, until: datetime, now: datetime) -> bool:
        held = self._t.claims.get(user_id)
        if held is not None and held > now:
            return False
        self._t.claims[user_id] = until
        return True

    def release_subscribe(self, user_id: str) -> None:
        self._t.claims.pop(user_id, None)

    def record_charge(
        self,
        provider: ProviderName,
        *,
        ref: str,
        payment_ref: str,
        amount: int,
        currency: str,
        at: datetime,
    ) -> bool:
        key = (provider.value, ref)
        if key in self._t.charges:
            return False
        self._t.charges[key] = ChargeRecord(
            id=f"mc_{len(self._t.charges) + 1}",
            provider=provider,
            ref=ref,
            payment_ref=payment_ref,
            amount=amount,
            currency=currency,
            created_at=at,
            fee_check_at=at,
        )
        return True

    def charge(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> ChargeRecord | None:
        found = [
            c
            for (name, _), c in self._t.charges.items()
            if name == provider.value and ref in (c.ref, c.payment_ref)
        ]
        return replace(min(found, key=lambda c: (c.created_at, c.id))) if found else None

    def save_charge(self, charge: ChargeRecord) -> None:
        key = (charge.provider.value, charge.ref)
        if key not in self._t.charges:
            raise LookupError(charge.id)
        self._t.charges[key] = replace(charge)

    def charges_since(self, provider: ProviderName, *, since: datetime) -> list[ChargeRecord]:
        found = [
            replace(c)
            for c in self._t.charges.values()
            if c.provider is provider and c.created_at >= since
        ]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def charges_without_fee(
        self, provider: ProviderName, *, now: datetime, created_after: datetime, limit: int
    ) -> list[ChargeRecord]:
        due = [
            replace(c)
            for c in self._t.charges.values()
            if c.provider is provider
            and c.fee is None
            and c.fee_check_at is not None
            and c.fee_check_at <= now
            and c.created_at > created_after
        ]
        return sorted(due, key=lambda c: (c.fee_check_at or now, c.id))[:limit]

    def project(
        self, subscription_id: str, *, user_id: str, valid_from: datetime, valid_until: datetime
    ) -> None:
        from .fakes import Membership

        tables = self._uow.tables
        old = self._t.windows.get(subscription_id)
        if old is not None:
            stale = Membership(*old)
            tables.memberships = [m for m in tables.memberships if m != stale]
        window = (user_id, valid_from, max(valid_from, valid_until))
        self._t.windows[subscription_id] = window
        tables.memberships.append(Membership(*window))
