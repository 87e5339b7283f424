"""Membership subscriptions in SQL (`db.membership_models`) and their projection.

`state` is stored as JSON of the merged `domain.memberships.Membership` (ISO instants, null for
what is not known yet), so a row read back merges further facts exactly as the domain would.
The projection is the `memberships` row `sub:<subscription id>`: pricing reads only that table.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from eventpay.db.membership_models import (
    MembershipChargeRow,
    MembershipClaimRow,
    MembershipSubscriptionRow,
)
from eventpay.db.models import MembershipRow
from eventpay.domain.memberships import (
    CancelRequest,
    Dunning,
    Membership,
    PaidPeriod,
    Period,
    PlanWord,
)
from eventpay.ports.identity import ProviderName
from eventpay.ports.memberships import ChargeRecord, SubscriptionRecord


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _at(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _req(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def state_json(m: Membership) -> str:
    """The merged facts as JSON (the `state` column)."""
    paid = None
    if m.paid is not None:
        paid = {
            "start": _iso(m.paid.period.start),
            "end": _iso(m.paid.period.end),
            "tier_code": m.paid.tier_code,
        }
    dunning = None
    if m.dunning is not None:
        d = m.dunning
        dunning = {
            "period_start": _iso(d.period_start),
            "attempts": d.attempts,
            "retry_at": _iso(d.retry_at),
            "exhausted_at": _iso(d.exhausted_at),
        }
    cancel = (
        None if m.cancel is None else {"at": _iso(m.cancel.at), "requested": m.cancel.requested}
    )
    return json.dumps(
        {
            "tier_code": m.tier_code,
            "paid": paid,
            "dunning": dunning,
            "cancel": cancel,
            "cancelled_at": _iso(m.cancelled_at),
            "expired_at": _iso(m.expired_at),
            "plan": None
            if m.plan is None
            else {"at": _iso(m.plan.at), "tier_code": m.plan.tier_code},
        },
        sort_keys=True,
    )


def state_from_json(text: str) -> Membership:
    data = json.loads(text)
    paid = data.get("paid")
    dunning = data.get("dunning")
    cancel = data.get("cancel")
    plan = data.get("plan")
    return Membership(
        tier_code=str(data["tier_code"]),
        paid=None
        if paid is None
        else PaidPeriod(Period(_req(paid["start"]), _req(paid["end"])), str(paid["tier_code"])),
        dunning=None
        if dunning is None
        else Dunning(
            _req(dunning["period_start"]),
            attempts=int(dunning["attempts"]),
            retry_at=_at(dunning["retry_at"]),
            exhausted_at=_at(dunning["exhausted_at"]),
        ),
        cancel=None
        if cancel is None
        else CancelRequest(_req(cancel["at"]), bool(cancel["requested"])),
        cancelled_at=_at(data.get("cancelled_at")),
        expired_at=_at(data.get("expired_at")),
        plan=None if plan is None else PlanWord(_req(plan["at"]), str(plan["tier_code"])),
    )


def _record(row: MembershipSubscriptionRow) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=row.id,
        user_id=row.user_id,
        provider=ProviderName(row.provider),
        provider_subscription_id=row.provider_subscription_id,
        tier_code=row.tier_code,
        state=state_from_json(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _charge(row: MembershipChargeRow) -> ChargeRecord:
    return ChargeRecord(
        id=row.id,
        provider=ProviderName(row.provider),
        ref=row.ref,
        payment_ref=row.payment_ref,
        amount=row.amount,
        currency=row.currency,
        created_at=row.created_at,
        fee=row.fee,
        fee_checks=row.fee_checks or 0,
        fee_check_at=row.fee_check_at,
        refunded=row.refunded or 0,
        dispute_status=row.dispute_status,
    )


def projection_id(subscription_id: str) -> str:
    return f"sub:{subscription_id}"


class SqlMembershipRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _fill(self, row: MembershipSubscriptionRow, record: SubscriptionRecord) -> None:
        row.user_id = record.user_id
        row.provider = record.provider.value
        row.provider_subscription_id = record.provider_subscription_id
        row.tier_code = record.tier_code
        row.state = state_json(record.state)
        row.paid_through = record.state.paid_through
        row.created_at = record.created_at
        row.updated_at = record.updated_at

    def add(self, record: SubscriptionRecord) -> None:
        row = MembershipSubscriptionRow(id=record.id)
        self._fill(row, record)
        self._s.add(row)
        self._s.flush()

    def save(self, record: SubscriptionRecord) -> None:
        row = self._s.get(MembershipSubscriptionRow, record.id)
        if row is None:
            raise LookupError(f"no membership subscription {record.id}")
        self._fill(row, record)
        self._s.flush()

    def get(self, subscription_id: str, *, for_update: bool = False) -> SubscriptionRecord | None:
        stmt = select(MembershipSubscriptionRow).where(
            MembershipSubscriptionRow.id == subscription_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _record(row)

    def by_provider_id(
        self, provider: ProviderName, provider_subscription_id: str, *, for_update: bool = False
    ) -> SubscriptionRecord | None:
        stmt = (
            select(MembershipSubscriptionRow)
            .where(MembershipSubscriptionRow.provider == provider.value)
            .where(MembershipSubscriptionRow.provider_subscription_id == provider_subscription_id)
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _record(row)

    def for_user(self, user_id: str) -> list[SubscriptionRecord]:
        stmt = (
            select(MembershipSubscriptionRow)
            .where(MembershipSubscriptionRow.user_id == user_id)
            .order_by(MembershipSubscriptionRow.created_at.desc(), MembershipSubscriptionRow.id)
        )
        return [_record(row) for row in self._s.scalars(stmt)]

    def claim_subscribe(self, user_id: str, *, until: datetime, now: datetime) -> bool:
        insert = (
            postgresql.insert(MembershipClaimRow)
            if self._s.get_bind().dialect.name == "postgresql"
            else sqlite.insert(MembershipClaimRow)
        )
        stmt = (
            insert.values(user_id=user_id, claimed_until=until)
            .on_conflict_do_update(
                index_elements=[MembershipClaimRow.user_id],
                set_={"claimed_until": until},
                where=MembershipClaimRow.claimed_until <= now,
            )
            .returning(MembershipClaimRow.user_id)
        )
        return self._s.execute(stmt).first() is not None

    def release_subscribe(self, user_id: str) -> None:
        self._s.execute(delete(MembershipClaimRow).where(MembershipClaimRow.user_id == user_id))

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
        known = self._s.scalar(
            select(MembershipChargeRow.id)
            .where(MembershipChargeRow.provider == provider.value)
            .where(MembershipChargeRow.ref == ref)
        )
        if known is not None:
            return False
        self._s.add(
            MembershipChargeRow(
                id=str(uuid.uuid4()),
                provider=provider.value,
                ref=ref,
                payment_ref=payment_ref,
                amount=amount,
                currency=currency,
                created_at=at,
                fee_checks=0,
                fee_check_at=at,
                refunded=0,
            )
        )
        self._s.flush()
        return True

    def charge(
        self, provider: ProviderName, ref: str, *, for_update: bool = False
    ) -> ChargeRecord | None:
        stmt = (
            select(MembershipChargeRow)
            .where(MembershipChargeRow.provider == provider.value)
            .where(or_(MembershipChargeRow.ref == ref, MembershipChargeRow.payment_ref == ref))
            .order_by(MembershipChargeRow.created_at, MembershipChargeRow.id)
            .limit(1)
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalar(stmt)
        return None if row is None else _charge(row)

    def save_charge(self, charge: ChargeRecord) -> None:
        row = self._s.get(MembershipChargeRow, charge.id)
        if row is None:
            raise LookupError(f"no membership charge {charge.id}")
        row.fee = charge.fee
        row.fee_checks = charge.fee_checks
        row.fee_check_at = charge.fee_check_at
        row.refunded = charge.refunded
        row.dispute_status = charge.dispute_status
        self._s.flush()

    def charges_since(self, provider: ProviderName, *, since: datetime) -> list[ChargeRecord]:
        row = MembershipChargeRow
        stmt = (
            select(row)
            .where(row.provider == provider.value, row.created_at >= since)
            .order_by(row.created_at, row.id)
        )
        return [_charge(r) for r in self._s.scalars(stmt)]

    def charges_without_fee(
        self, provider: ProviderName, *, now: datetime, created_after: datetime, limit: int
    ) -> list[ChargeRecord]:
        row = MembershipChargeRow
        stmt = (
            select(row)
            .where(row.provider == provider.value, row.fee.is_(None))
            .where(row.fee_check_at <= now, row.created_at > created_after)
            .order_by(row.fee_check_at, row.id)
            .limit(limit)
        )
        return [_charge(r) for r in self._s.scalars(stmt)]

    def project(
        self, subscription_id: str, *, user_id: str, valid_from: datetime, valid_until: datetime
    ) -> None:
        until = max(valid_from, valid_until)
        sub = self._s.get(MembershipSubscriptionRow, subscription_id)
        if sub is not None:
            sub.member_until = until if until > valid_from else None
        row = self._s.get(MembershipRow, projection_id(subscription_id))
        if row is None:
            self._s.add(
                MembershipRow(
                    id=projection_id(subscription_id),
                    user_id=user_id,
                    valid_from=valid_from,
                    valid_until=until,
                )
            )
        else:
            row.valid_from = valid_from
            row.valid_until = until
        self._s.flush()
