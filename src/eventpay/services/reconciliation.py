"""Comparing what we recorded with what Stripe or PayPal lists, and storing the differences.

Our side: every succeeded payment of the provider created since `since` (its money movement,
the amount we counted and the fee we booked), every payment a sponsor invoice received (by the
provider's id, on Stripe its charge, on PayPal its transaction; with the fee booked; not one
the merchant recorded on a PayPal invoice, cash or cheque, `EXTR-...`: PayPal never moved that
money and its transaction search does not list it), every charge that paid a membership (a
Stripe invoice's charge, a PayPal subscription's sale: `membership_charges`, its fee not
compared) and every succeeded refund (negative). Their side: the provider's own list
(`MovementSource.movements`), payments and refunds only. A movement the provider lists that
is older on our side (an attempt started before `since`) is looked up by its id, so a window
edge never reports a false "missing".
`domain.reconciliation.compare` names each difference; the run is stored with them, and the
same database gives the same answer.

By default the comparison runs in bulk: the provider's movements go straight into the
database as they are read (`ReconciliationRepository.stage_theirs`), ours are gathered there
too (`stage_ours`), the database pairs them and returns only the movements that do not agree
exactly (`disagreements`), and `compare` names those. Same answers as movement by movement
(pairs that agree exactly can only compare clean; `bulk=False` keeps that path), in bounded
memory and without a query per payment. A provider that can hand over the whole period as one
report (`MovementReport`: Stripe's Reports API) is read that way instead of page by page, and
starts writing it before ours are gathered: a million movements in seconds, not 10,000 pages.

The money that left for organizers is compared too, in both ways alike (a provider that is an
`OrganizerMovementSource`): Stripe's transfers to connected accounts and their reversals
against our separate charges' transfers (`connect_transfers`, `connect_transfer_reversals`)
and payout runs' transfers (`payouts`), by Stripe's ids; PayPal's payout items and returns
against our payouts, by PayPal's transaction id (a return by its payout's, `return_ref`). They
are few, so they are read page by page and compared in memory with the rest. A destination
charge's transfer is made by Stripe itself and we do not store its id: Stripe's transfer names
our charge as its `source_transaction`, and a reversal by a refund (`reverse_transfer`) our
refund as its `source_refund`; `domain.reconciliation.linked` keys ours by those. Stripe
transfers the whole charge and takes the application fee back on its own, so the transfer is
compared with the charge's amount and its fee with the application fee we asked for
(`connect_charges`), and the reversal with the refund's amount (the ledger's
`payment:<id>:transfer`, the organizer's net, is checked against both by `ledger verify`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from eventpay.domain import AccountKind, Money, PaymentStatus, RefundStatus
from eventpay.domain.reconciliation import Movement, MovementRow, compare, linked, row_of
from eventpay.ports import (
    MovementSource,
    PaymentRecord,
    Principal,
    ProviderName,
    ProviderRegistry,
    ReconciliationRun,
    RefundRecord,
    Role,
    UnitOfWork,
    UnitOfWorkFactory,
)
from eventpay.ports.capabilities import MovementReport, OrganizerMovementSource
from eventpay.ports.memberships import ChargeRecord
from eventpay.ports.sponsorships import SponsorPaymentRecord
from eventpay.services.errors import InvalidRequest, NotFound
from eventpay.services.settlement.ledger import fee_cause
from eventpay.services.settlement.sponsorships import fee_cause as sponsor_fee_cause
from eventpay.services.views import counted_amount

Progress = Callable[[int], None]
MAX_API_PERIOD = timedelta(days=31)


def _fee_booked(uow: UnitOfWork, payment: PaymentRecord) -> Money | None:
    """The provider's fee the ledger booked for this payment (not for its whole order: an
    order paid twice has two charges, each with its own fee)."""
    fees = [
        p.amount
        for p in uow.ledger.postings_for_cause(fee_cause(payment.id))
        if p.account.kind is AccountKind.PROVIDER_FEE_EXPENSE
        and p.account.owner == payment.provider.value
    ]
    return Money(sum(fees), payment.currency) if fees else None


def _payment(uow: UnitOfWork, payment: PaymentRecord) -> Movement:
    assert payment.capture_id is not None  # selected with one
    return Movement(
        ref=payment.capture_id,
        kind="payment",
        amount=Money(counted_amount(payment), payment.currency),
        fee=_fee_booked(uow, payment),
        our_id=payment.id,
    )


def _sponsor_payment(uow: UnitOfWork, payment: SponsorPaymentRecord) -> Movement:
    """A payment a sponsor invoice received (on Stripe, its charge), with the fee booked."""
    fees = [
        p.amount
        for p in uow.ledger.postings_for_cause(
            sponsor_fee_cause(payment.provider, payment.payment_ref)
        )
        if p.account.kind is AccountKind.PROVIDER_FEE_EXPENSE
    ]
    currency = payment.amount.currency
    return Movement(
        ref=payment.payment_ref,
        kind="payment",
        amount=payment.amount,
        fee=Money(sum(fees), currency) if fees else None,
        our_id=payment.sponsorship_id,
    )


# PayPal names the payments the merchant records on an invoice (cash, cheque) `EXTR-...`.
_RECORDED_ELSEWHERE = {ProviderName.PAYPAL: "EXTR-"}


def recorded_elsewhere(payment: SponsorPaymentRecord) -> bool:
    """A payment the merchant recorded on the invoice: it never went through the provider,
    which does not list it, so it is not compared (the bulk path's SQL leaves it out too)."""
    prefix = _RECORDED_ELSEWHERE.get(payment.provider)
    return prefix is not None and payment.payment_ref.startswith(prefix)


def _membership_charge(charge: ChargeRecord) -> Movement:
    """A charge that paid a membership invoice (Stripe) or a subscription's sale (PayPal).
    Its fee is left out, as the bulk path's SQL leaves it out (`membership_charges` in
    `db.reconciliation_repository`): comparing it one way only would make the two differ."""
    return Movement(
        ref=charge.ref,
        kind="payment",
        amount=Money(charge.amount, charge.currency),
        our_id=charge.id,
    )


def _refund(refund: RefundRecord) -> Movement:
    assert refund.provider_refund_id is not None  # selected with one
    return Movement(
        ref=refund.provider_refund_id,
        kind="refund",
        amount=Money(-refund.amount, refund.currency),
        our_id=refund.id,
    )


def _ours_for(uow: UnitOfWork, provider: ProviderName, movement: Movement) -> Movement | None:
    """Our record of a movement the provider lists, whatever its age on our side."""
    if movement.kind == "payment":
        payment = uow.payments.by_capture_id(provider, movement.ref)
        if payment is not None and payment.status is PaymentStatus.SUCCEEDED:
            return _payment(uow, payment)
        sponsor = uow.sponsorships.payment(provider, movement.ref)
        if sponsor is not None:
            return _sponsor_payment(uow, sponsor)
        charge = uow.memberships.charge(provider, movement.ref)
        # `charge` also answers by its PaymentIntent; the provider lists the charge itself.
        if charge is not None and charge.ref == movement.ref:
            return _membership_charge(charge)
        return None
    refund = uow.refunds.by_provider_ref(provider, movement.ref)
    if refund is not None and refund.status is RefundStatus.SUCCEEDED:
        return _refund(refund)
    return None


_STRIPE_MADE = frozenset({"transfer", "transfer_reversal"})


def _organizer_listed(source: object, *, since: datetime, until: datetime) -> list[Movement]:
    if not isinstance(source, OrganizerMovementSource):
        return []
    return list(source.organizer_movements(since=since, until=until))


def _organizer_sides(
    uow: UnitOfWork, provider: ProviderName, since: datetime, listed: list[Movement]
) -> tuple[list[Movement], list[Movement]]:
    """Ours and theirs of the money that left for organizers; on Stripe, with the transfers
    it made itself for our destination charges, and their reversals, keyed as it lists them."""
    ours = list(
        uow.reconciliation.organizer_movements(
            provider=provider, since=since, refs=[m.ref for m in listed]
        )
    )
    if provider is ProviderName.STRIPE:
        links = [m.related for m in listed if m.kind in _STRIPE_MADE and m.related is not None]
        ours.extend(
            linked(uow.reconciliation.destination_movements(since=since, links=links), listed)
        )
    return ours, listed


def reconcile(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    provider: ProviderName,
    since: datetime,
    now: datetime,
    progress: Progress | None = None,
    bulk: bool = True,
) -> ReconciliationRun:
    """Compare, store and return the run; `progress` hears how many movements were read.
    `bulk=False` reads the provider movement by movement even when it offers a report."""
    gateway = providers.get(provider)
    if gateway is None or not gateway.capabilities.reconciliation:
        raise InvalidRequest(
            "reconciliation_unavailable",
            f"{provider.value} is not configured or cannot list its movements.",
            {"provider": provider.value},
        )
    source: MovementSource = gateway  # type: ignore[assignment]
    if bulk:
        # The provider starts writing its report now (if it has one); ours are gathered
        # meanwhile.
        rows = (
            gateway.movement_rows(since=since, until=now)
            if isinstance(gateway, MovementReport)
            else map(row_of, source.movements(since=since, until=now))
        )
        return _reconcile_in_bulk(
            uow_factory=uow_factory,
            rows=rows,
            organizer=_organizer_listed(gateway, since=since, until=now),
            provider=provider,
            since=since,
            now=now,
            progress=progress,
        )
    theirs: list[Movement] = []
    for movement in source.movements(since=since, until=now):
        theirs.append(movement)
        if progress is not None and len(theirs) % 100 == 0:
            progress(len(theirs))
    organizer = _organizer_listed(gateway, since=since, until=now)
    with uow_factory() as uow:
        ours = {
            m.ref: m
            for m in [
                *(
                    _payment(uow, p)
                    for p in uow.payments.list_settled(provider=provider, since=since)
                ),
                *(_refund(r) for r in uow.refunds.list_settled(provider=provider, since=since)),
                *(
                    _sponsor_payment(uow, p)
                    for p in uow.sponsorships.payments_received(provider, since=since)
                    if not recorded_elsewhere(p)
                ),
                *(
                    _membership_charge(c)
                    for c in uow.memberships.charges_since(provider, since=since)
                ),
            ]
        }
        for movement in theirs:
            if movement.ref not in ours:
                older = _ours_for(uow, provider, movement)
                if older is not None:
                    ours[older.ref] = older
        ours_paid_out, theirs_paid_out = _organizer_sides(uow, provider, since, organizer)
        run = ReconciliationRun(
            id=str(uuid.uuid4()),
            provider=provider,
            since=since,
            until=now,
            finished_at=now,
            ours=len(ours) + len(ours_paid_out),
            theirs=len(theirs) + len(theirs_paid_out),
            mismatches=compare([*ours.values(), *ours_paid_out], [*theirs, *theirs_paid_out]),
        )
        uow.reconciliation.add(run)
        uow.commit()
    if progress is not None:
        progress(len(theirs))
    return run


def _reconcile_in_bulk(
    *,
    uow_factory: UnitOfWorkFactory,
    rows: Iterator[MovementRow],
    organizer: list[Movement],
    provider: ProviderName,
    since: datetime,
    now: datetime,
    progress: Progress | None,
) -> ReconciliationRun:
    with uow_factory() as uow:
        uow.reconciliation.stage_ours(provider=provider, since=since)
        theirs = uow.reconciliation.stage_theirs(rows, progress=progress)
        ours, odd_ours, odd_theirs = uow.reconciliation.disagreements(
            provider=provider, since=since
        )
        ours_paid_out, theirs_paid_out = _organizer_sides(uow, provider, since, organizer)
        run = ReconciliationRun(
            id=str(uuid.uuid4()),
            provider=provider,
            since=since,
            until=now,
            finished_at=now,
            ours=ours + len(ours_paid_out),
            theirs=theirs + len(theirs_paid_out),
            mismatches=compare([*odd_ours, *ours_paid_out], [*odd_theirs, *theirs_paid_out]),
        )
        uow.reconciliation.add(run)
        uow.commit()
    if progress is not None:
        progress(run.theirs)
    return run


def latest_for(
    *, uow_factory: UnitOfWorkFactory, caller: Principal, provider: ProviderName
) -> ReconciliationRun:
    """The provider's latest stored run, for admins; NotFound otherwise or when none ran."""
    if caller.role is not Role.ADMIN:
        raise NotFound("not_found", "Not found.")
    with uow_factory() as uow:
        run = uow.reconciliation.latest(provider)
    if run is None:
        raise NotFound(
            "reconciliation_not_found",
            f"No reconciliation of {provider.value} has run yet.",
            {"provider": provider.value},
        )
    return run


def reconcile_for(
    *,
    uow_factory: UnitOfWorkFactory,
    providers: ProviderRegistry,
    caller: Principal,
    provider: ProviderName,
    since: datetime,
    now: datetime,
) -> ReconciliationRun:
    """`reconcile` on an admin's request (others: NotFound); `since` at most 31 days back."""
    if caller.role is not Role.ADMIN:
        raise NotFound("not_found", "Not found.")
    if since >= now or now - since > MAX_API_PERIOD:
        raise InvalidRequest(
            "invalid_period",
            "`since` must be in the past, at most 31 days ago; use `eventpay reconcile` for more.",
            {"since": since.isoformat()},
        )
    return reconcile(
        uow_factory=uow_factory, providers=providers, provider=provider, since=since, now=now
    )
