"""The HTTP contract's bodies (Pydantic, only here at the boundary).

Requests forbid unknown fields: a client-sent `amount` or `price` is a 422, never ignored and
never trusted. Responses are built from service views by the `*_out` functions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from eventpay.domain import Event, Money, combined_refund_status
from eventpay.ports import AuditEntry, PaymentRecord, RefundRecord
from eventpay.services.orders import OrderView
from eventpay.services.organizer_money import CurrencyStatement, OrganizerBalance
from eventpay.services.payable import HeldNow
from eventpay.services.withdrawals import WithdrawalQuote
from eventpay.web.order_items import OrderItemIn


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyOut(BaseModel):
    amount: int = Field(description="Integer amount in the currency's minor unit.")
    currency: str = Field(description="Lowercase ISO 4217 code.")

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency)


class OrderCreate(Strict):
    items: list[OrderItemIn] = Field(min_length=1, max_length=20)
    promo_code: str | None = Field(default=None, min_length=1, max_length=64)


class PaymentCreate(Strict):
    provider: Literal["stripe", "paypal"]
    return_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class MoneyIn(Strict):
    amount: StrictInt = Field(gt=0, description="Integer amount in the currency's minor unit.")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")


class RefundCreate(Strict):
    amount: Annotated[StrictInt, Field(gt=0)] | MoneyIn | None = Field(
        default=None,
        description=(
            "Minor units, or a money object in the order's currency. Omitted: everything the "
            "refund quote allows (a competitor) or everything held (an admin)."
        ),
    )
    reason: str = Field(min_length=1, max_length=500)
    method: Literal["original", "credit"] = "original"


class ClassOut(BaseModel):
    id: str
    code: str
    name: str
    member_price: MoneyOut
    non_member_price: MoneyOut
    additional_class_price: MoneyOut | None
    early_bird_price: MoneyOut | None
    early_bird_deadline: datetime | None
    capacity: int | None = Field(description="How many can enter this class; null: no limit.")
    places_left: int | None = Field(
        description="Places neither paid for nor reserved by an unexpired order; null: no limit."
    )


class RefundPolicyOut(BaseModel):
    refund_cutoff_at: datetime | None
    late_fee_percent: Decimal | None = Field(
        description="Kept of a withdrawal after the cutoff, before the event; null: no refund."
    )
    summary: str


class EventOut(BaseModel):
    id: str
    organizer_id: str
    name: str
    timezone: str
    currency: str
    starts_at: datetime
    ends_at: datetime | None = Field(description="Null: a one-day event, over when it starts.")
    registration_opens_at: datetime
    registration_closes_at: datetime
    registration_status: str
    refund_policy: RefundPolicyOut
    classes: list[ClassOut]


def _opt(money: Money | None) -> MoneyOut | None:
    return None if money is None else MoneyOut.of(money)


def event_out(
    event: Event, *, now: datetime, places_left: Mapping[str, int | None] | None = None
) -> EventOut:
    """The event as buyers see it; `places_left` by class id (absent: no limit)."""
    terms = event.refund_terms
    left = places_left or {}
    return EventOut(
        id=event.id,
        organizer_id=event.organizer_id,
        name=event.name,
        timezone=event.timezone,
        currency=event.currency,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        registration_opens_at=event.registration_opens_at,
        registration_closes_at=event.registration_closes_at,
        registration_status=event.window_state(now).value,
        refund_policy=RefundPolicyOut(
            refund_cutoff_at=terms.cutoff_at,
            late_fee_percent=terms.late_fee_percent,
            summary=terms.summary(),
        ),
        classes=[
            ClassOut(
                id=c.id,
                code=c.code,
                name=c.name,
                member_price=MoneyOut.of(c.member_price),
                non_member_price=MoneyOut.of(c.non_member_price),
                additional_class_price=_opt(c.additional_class_price),
                early_bird_price=_opt(c.early_bird_price),
                early_bird_deadline=c.early_bird_deadline,
                capacity=c.capacity,
                places_left=left.get(c.id, c.capacity),
            )
            for c in event.classes
        ],
    )


class LineOut(BaseModel):
    description: str
    amount: MoneyOut
    kind: str
    event_id: str | None
    class_id: str | None
    price_rule: str | None
    discount: MoneyOut | None = Field(
        default=None, description="This line's share of the order's discount (a promo code)."
    )


class PaymentOut(BaseModel):
    id: str
    provider: str
    status: str
    amount: MoneyOut
    provider_ref: str | None = Field(
        default=None, description="The provider's object: Stripe PaymentIntent or PayPal order."
    )
    failure_code: str | None = None
    created_at: datetime


class RefundOut(BaseModel):
    id: str
    provider: str
    status: str
    amount: MoneyOut
    reason: str
    kind: str = Field(
        description="overpayment (automatic), customer (a withdrawal), operator, external"
    )
    provider_refund_id: str | None = None
    failure_reason: str | None = None
    created_at: datetime


class RegistrationOut(BaseModel):
    id: str
    event_id: str
    competitor_id: str
    class_ids: list[str]
    status: str


class OrderOut(BaseModel):
    id: str
    status: str
    currency: str
    lines: list[LineOut]
    subtotal: MoneyOut
    discount: MoneyOut
    fees: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    amount_paid: MoneyOut
    balance_due: MoneyOut
    payments: list[PaymentOut]
    refunds: list[RefundOut]
    registrations: list[RegistrationOut]
    created_at: datetime
    expires_at: datetime | None


def payment_out(p: PaymentRecord) -> PaymentOut:
    return PaymentOut(
        id=p.id,
        provider=p.provider.value,
        status=p.status.value,
        amount=MoneyOut(amount=p.amount, currency=p.currency),
        provider_ref=p.provider_ref,
        failure_code=p.failure_code,
        created_at=p.created_at,
    )


def _refund_out(r: RefundRecord) -> RefundOut:
    return RefundOut(
        id=r.id,
        provider=r.provider.value,
        status=r.status.value,
        amount=MoneyOut(amount=r.amount, currency=r.currency),
        reason=r.reason,
        kind=r.kind,
        provider_refund_id=r.provider_refund_id,
        failure_reason=r.failure_reason,
        created_at=r.created_at,
    )


def order_out(view: OrderView) -> OrderOut:
    o = view.order

    def m(amount: int) -> MoneyOut:
        return MoneyOut(amount=amount, currency=o.currency)

    return OrderOut(
        id=o.id,
        status=view.status.value,
        currency=o.currency,
        lines=[
            LineOut(
                description=ln.description,
                amount=m(ln.amount),
                kind=ln.kind,
                event_id=ln.event_id,
                class_id=ln.class_id,
                price_rule=ln.price_rule,
                discount=m(ln.discount) if ln.discount else None,
            )
            for ln in o.lines
        ],
        subtotal=m(o.subtotal),
        discount=m(o.discount),
        fees=m(o.fees),
        tax=m(o.tax),
        total=m(o.total),
        amount_paid=MoneyOut.of(view.summary.net_paid),
        balance_due=MoneyOut.of(view.summary.balance_due),
        payments=[payment_out(p) for p in view.payments],
        refunds=[_refund_out(r) for r in view.refunds],
        registrations=[
            RegistrationOut(
                id=r.id,
                event_id=r.event_id,
                competitor_id=r.competitor_id,
                class_ids=list(r.class_ids),
                status=r.status.value,
            )
            for r in o.registrations
        ],
        created_at=o.created_at,
        expires_at=o.expires_at,
    )


class PaymentStartOut(BaseModel):
    id: str
    provider: str
    status: str
    amount: MoneyOut
    client_secret: str | None = None
    approve_url: str | None = None


class StripeConfigOut(BaseModel):
    publishable_key: str
    api_base: str | None = None


class PayPalConfigOut(BaseModel):
    client_id: str
    api_base: str | None = None


class PaymentConfigOut(BaseModel):
    stripe: StripeConfigOut
    paypal: PayPalConfigOut | None = None


class AuditOut(BaseModel):
    action: str
    entity_type: str
    entity_id: str
    actor_id: str
    payment_id: str | None
    ip_address: str | None
    details: dict[str, Any]
    created_at: datetime


def audit_out(entry: AuditEntry) -> AuditOut:
    return AuditOut(
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        actor_id=entry.actor_id,
        payment_id=entry.payment_id,
        ip_address=entry.ip_address,
        details=entry.details,
        created_at=entry.created_at,
    )


class RefundLineOut(BaseModel):
    event_id: str
    share: MoneyOut = Field(description="This event's share of the order total.")
    rule: str
    refundable: MoneyOut
    kept: MoneyOut


class RefundOptionOut(BaseModel):
    option: Literal["refund", "transfer", "credit"]
    method: str | None = Field(description="The `method` to send to POST .../refunds.")
    available: bool
    amount: MoneyOut | None = None
    reason: str | None = None


class RefundQuoteOut(BaseModel):
    order_id: str
    refundable: MoneyOut = Field(description="What a withdrawal requested now returns.")
    kept: MoneyOut = Field(description="What the published terms keep.")
    already_refunded: MoneyOut = Field(
        description="Refunds of the price that succeeded: money the buyer has back."
    )
    refund_pending: MoneyOut = Field(
        description="Refunds of the price still pending at the provider: on their way back, "
        "not counted as returned, and never offered again."
    )
    held: MoneyOut = Field(description="Received and not refunded: the most an admin may refund.")
    rule: str = Field(description="The rule applied, or `mixed` when events differ.")
    explanation: str
    lines: list[RefundLineOut]
    options: list[RefundOptionOut]
    quoted_at: datetime


def refund_quote_out(quoted: WithdrawalQuote, *, now: datetime) -> RefundQuoteOut:
    q = quoted.quote
    rule = q.rule
    refundable = MoneyOut.of(q.refundable)
    return RefundQuoteOut(
        order_id=quoted.order.id,
        refundable=refundable,
        kept=MoneyOut.of(q.kept),
        already_refunded=MoneyOut.of(q.already_returned),
        refund_pending=MoneyOut.of(q.on_its_way),
        held=MoneyOut.of(quoted.held),
        rule="mixed" if rule is None else rule.value,
        explanation=(
            " ".join(sorted({line.rule.description for line in q.lines}))
            if rule is None
            else rule.description
        ),
        lines=[
            RefundLineOut(
                event_id=line.event_id,
                share=MoneyOut.of(line.share),
                rule=line.rule.value,
                refundable=MoneyOut.of(line.refundable),
                kept=MoneyOut.of(line.kept),
            )
            for line in q.lines
        ],
        options=[
            RefundOptionOut(
                option=o.option,
                method=None if o.method is None else o.method.value,
                available=o.available,
                amount=None if o.amount is None else MoneyOut.of(o.amount),
                reason=o.reason,
            )
            for o in quoted.options
        ],
        quoted_at=now,
    )


class RefundRequestOut(BaseModel):
    id: str = Field(description="The refund attempt (the first part when it is split).")
    provider: str
    status: str = Field(description="pending until every part succeeded; failed if any failed.")
    amount: MoneyOut = Field(description="The whole amount requested.")
    reason: str
    kind: str
    method: str
    parts: list[RefundOut] = Field(description="One refund per payment the amount came from.")


def refund_request_out(parts: list[RefundRecord], *, method: str) -> RefundRequestOut:
    first = parts[0]
    status = combined_refund_status(p.status for p in parts).value
    return RefundRequestOut(
        id=first.id,
        provider=first.provider.value,
        status=status,
        amount=MoneyOut(amount=sum(p.amount for p in parts), currency=first.currency),
        reason=first.reason,
        kind=first.kind,
        method=method,
        parts=[_refund_out(p) for p in parts],
    )


class CurrencyBalanceOut(BaseModel):
    currency: str
    available: MoneyOut = Field(description="What the next payout run pays them.")
    held: MoneyOut = Field(
        description="Held back: until days after each event ends, or by an admin's hold."
    )
    pending: MoneyOut = Field(description="Paid out and on its way (payouts, transfers).")


class OrganizerBalanceOut(BaseModel):
    organizer_id: str
    balances: list[CurrencyBalanceOut]


def organizer_balance_out(
    organizer_id: str, balances: Sequence[OrganizerBalance]
) -> OrganizerBalanceOut:
    return OrganizerBalanceOut(
        organizer_id=organizer_id,
        balances=[
            CurrencyBalanceOut(
                currency=b.currency,
                available=MoneyOut.of(b.available),
                held=MoneyOut.of(b.held),
                pending=MoneyOut.of(b.pending),
            )
            for b in balances
        ],
    )


class StatementEntryOut(BaseModel):
    at: datetime
    kind: str = Field(description="payment_succeeded, refund_succeeded, refund_reversed, ...")
    order_id: str | None
    payable: MoneyOut = Field(description="The change in what the organizer is owed.")
    platform_fee: MoneyOut = Field(description="The platform fee this transaction moved.")


class CurrencyStatementOut(BaseModel):
    currency: str
    opening: MoneyOut
    entries: list[StatementEntryOut]
    closing: MoneyOut


class ReserveOut(BaseModel):
    event_id: str
    event_name: str
    until: datetime = Field(description="When this event's reserve ends and its money is paid.")
    amount: MoneyOut


class HeldNowOut(BaseModel):
    admin_hold: str | None = Field(
        description="Why an admin holds every payout of this organizer; null: no such hold."
    )
    reserves: list[ReserveOut] = Field(
        description="Money held until days after each event ends, soonest released first."
    )
    balances: list[CurrencyBalanceOut]


class StatementOut(BaseModel):
    organizer_id: str
    from_: datetime = Field(alias="from")
    to: datetime
    currencies: list[CurrencyStatementOut]
    held_now: HeldNowOut | None = Field(
        default=None, description="What holds the organizer's money back at the time of asking."
    )

    model_config = ConfigDict(populate_by_name=True)


def held_now_out(held: HeldNow) -> HeldNowOut:
    return HeldNowOut(
        admin_hold=held.admin_hold_reason,
        reserves=[
            ReserveOut(
                event_id=r.event_id,
                event_name=r.event_name,
                until=r.until,
                amount=MoneyOut.of(r.amount),
            )
            for r in held.reserves
        ],
        balances=[
            CurrencyBalanceOut(
                currency=p.currency,
                available=MoneyOut.of(p.available),
                held=MoneyOut.of(p.held),
                pending=MoneyOut.of(p.pending),
            )
            for p in held.positions
        ],
    )


def statement_out(
    organizer_id: str,
    since: datetime,
    until: datetime,
    sections: Sequence[CurrencyStatement],
    held: HeldNow | None = None,
) -> StatementOut:
    return StatementOut(
        organizer_id=organizer_id,
        held_now=None if held is None else held_now_out(held),
        from_=since,
        to=until,
        currencies=[
            CurrencyStatementOut(
                currency=s.currency,
                opening=MoneyOut.of(s.opening),
                closing=MoneyOut.of(s.closing),
                entries=[
                    StatementEntryOut(
                        at=e.at,
                        kind=e.kind,
                        order_id=e.order_id,
                        payable=MoneyOut(amount=e.payable, currency=e.currency),
                        platform_fee=MoneyOut(amount=e.platform_fee, currency=e.currency),
                    )
                    for e in s.entries
                ],
            )
            for s in sections
        ],
    )


def statement_csv(sections: Sequence[CurrencyStatement], held: HeldNow | None = None) -> str:
    """One row per entry, plus opening and closing rows per currency; amounts in minor units.
    Then what holds money back now: an `admin_hold` row (its reason in the last column) and one
    `reserve:<event>` row per event (`at`: when it is released, `payable`: the amount)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "kind", "order_id", "currency", "payable", "platform_fee", "balance"])
    for s in sections:
        balance = s.opening.amount
        writer.writerow(["", "opening", "", s.currency, "", "", balance])
        for e in s.entries:
            balance += e.payable
            writer.writerow(
                [
                    e.at.isoformat(),
                    e.kind,
                    e.order_id or "",
                    e.currency,
                    e.payable,
                    e.platform_fee,
                    balance,
                ]
            )
        writer.writerow(["", "closing", "", s.currency, "", "", s.closing.amount])
    if held is not None:  # what holds the money back now: an admin's hold, each reserve
        if held.admin_hold_reason is not None:
            writer.writerow(["", "admin_hold", "", "", "", "", held.admin_hold_reason])
        for r in held.reserves:
            writer.writerow(
                [
                    r.until.isoformat(),
                    f"reserve:{r.event_id}",
                    "",
                    r.amount.currency,
                    r.amount.amount,
                    "",
                    "",
                ]
            )
    return out.getvalue()
