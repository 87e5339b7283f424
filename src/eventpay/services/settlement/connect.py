"""Stripe Connect in settlement: an account's state, a payment's Connect side, its transfers.

What changes here, always in the caller's unit of work:

- a connected account's state, from `account.updated` or a read (`apply_account_state`),
  audited when anything changed;
- the Connect side of a new Stripe attempt (`plan_charge`), decided once by the domain
  (`domain.connect`) and stored with the attempt: a destination charge (its account and
  application fee also go into the attempt's metadata, so every retried create sends the same
  request) or a separate charge (transfer group = the order id);
- what a succeeded destination charge sent to the organizer (`payment_settled`: the ledger
  transaction `payment:<id>:transfer`, Dr organizer payable / Cr Stripe clearing, no order);
  for a separate charge, the transfers it calls for (`connect_transfers.queue_transfers`);
- what a refund of a destination charge took back (`refund_settled`:
  `refund:<id>:transfer_reversal`, the opposite direction; undone by
  `refund:<id>:transfer_restored` if the refund fails after succeeding); for a separate
  charge, what it takes back from each transfer (`connect_transfers.queue_reversals`).

The amounts are the organizer's net by the ledger's share rule (`domain.connect.net_moved`),
so the organizer's payable for an order goes back to zero once all of it was transferred.
Nothing here calls a provider.
"""

from __future__ import annotations

from datetime import datetime

from eventpay.domain.connect import (
    destination_for,
    net_moved,
    organizers_of,
    separate_charge,
    transfer_posting,
)
from eventpay.domain.ledger import OrderShares
from eventpay.ports import (
    AccountState,
    ChargeKind,
    ConnectCharge,
    ConnectedAccount,
    OrderRecord,
    PaymentRecord,
    Principal,
    ProviderName,
    RefundRecord,
    UnitOfWork,
)
from eventpay.services import audit
from eventpay.services.settlement.connect_transfers import queue_reversals, queue_transfers

DESTINATION = "connect_destination"
APPLICATION_FEE = "connect_application_fee"
TRANSFER_GROUP = "connect_transfer_group"
ORGANIZER = "connect_organizer_id"


def transfer_cause(payment_id: str) -> str:
    return f"payment:{payment_id}:transfer"


def reversal_cause(refund_id: str) -> str:
    return f"refund:{refund_id}:transfer_reversal"


def restored_cause(refund_id: str) -> str:
    return f"refund:{refund_id}:transfer_restored"


def apply_account_state(
    uow: UnitOfWork,
    account: ConnectedAccount,
    state: AccountState,
    *,
    actor: Principal | str,
    now: datetime,
    source: str,
) -> bool:
    """Store what the provider says about `account`; True (and audited) if anything changed."""
    before = account.state()
    if state.as_of is not None:
        account.state_as_of = state.as_of
    if before == state:
        uow.connect.save_account(account)
        return False
    account.charges_enabled = state.charges_enabled
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.requirements_due = list(state.requirements_due)
    account.updated_at = now
    uow.connect.save_account(account)
    audit.record(
        uow,
        entity_type="connected_account",
        entity_id=account.organizer_id,
        action="connected_account.updated",
        actor=actor,
        now=now,
        details={
            "account_id": state.account_id,
            "source": source,
            "charges_enabled": [before.charges_enabled, state.charges_enabled],
            "payouts_enabled": [before.payouts_enabled, state.payouts_enabled],
            "details_submitted": [before.details_submitted, state.details_submitted],
            "requirements_due": list(state.requirements_due),
        },
    )
    return True


def plan_charge(
    uow: UnitOfWork,
    payment: PaymentRecord,
    shares: OrderShares,
    *,
    net_paid: int,
    now: datetime,
) -> ConnectCharge | None:
    """Decide the Connect side of a new Stripe attempt, before the attempt is stored: its
    metadata gains what the create request needs; the caller stores the returned charge once
    the attempt is added (None: an ordinary charge)."""
    enabled = uow.connect.charge_enabled(organizers_of(shares))
    destination = destination_for(shares, amount=payment.amount, net_paid=net_paid, enabled=enabled)
    if destination is not None:
        payment.metadata = {
            **payment.metadata,
            DESTINATION: destination.account_id,
            APPLICATION_FEE: str(destination.application_fee),
            ORGANIZER: destination.organizer_id,
        }
        return ConnectCharge(
            payment_id=payment.id,
            order_id=payment.order_id,
            kind=ChargeKind.DESTINATION,
            currency=payment.currency,
            created_at=now,
            organizer_id=destination.organizer_id,
            destination=destination.account_id,
            application_fee=destination.application_fee,
        )
    if separate_charge(shares, enabled):
        payment.metadata = {**payment.metadata, TRANSFER_GROUP: payment.order_id}
        return ConnectCharge(
            payment_id=payment.id,
            order_id=payment.order_id,
            kind=ChargeKind.SEPARATE,
            currency=payment.currency,
            created_at=now,
        )
    return None


def payment_settled(
    uow: UnitOfWork,
    order: OrderRecord,
    payment: PaymentRecord,
    shares: OrderShares,
    *,
    net_before: int,
    net_after: int,
    actor: Principal | str,
    now: datetime,
) -> None:
    """A Stripe payment succeeded: book its destination transfer, or queue its transfers."""
    if payment.provider is not ProviderName.STRIPE:
        return
    organizer = payment.metadata.get(ORGANIZER)
    if organizer is not None and DESTINATION in payment.metadata:
        amount = net_moved(shares, organizer, net_before=net_before, net_after=net_after)
        transaction = transfer_posting(
            cause=transfer_cause(payment.id),
            kind="connect_destination_transfer",
            organizer_id=organizer,
            provider=payment.provider.value,
            currency=payment.currency,
            amount=amount,
        )
        if transaction is not None:
            uow.ledger.post(transaction, at=now)
        return
    group = payment.metadata.get(TRANSFER_GROUP)
    if group is not None:
        queue_transfers(uow, order, payment, shares, group, net_before, net_after, actor, now)


def refund_settled(
    uow: UnitOfWork,
    refund: RefundRecord,
    shares: OrderShares,
    *,
    returned: bool,
    net_before: int,
    net_after: int,
    now: datetime,
) -> None:
    """A refund of a destination charge succeeded (`returned`) or failed after succeeding:
    book what it took back from, or gave back to, the organizer's account."""
    if refund.provider is not ProviderName.STRIPE:
        return
    payment = uow.payments.get(refund.payment_id)
    if payment is None:  # pragma: no cover - foreign key guarantees it
        return
    if TRANSFER_GROUP in payment.metadata and returned:
        queue_reversals(uow, refund, payment, shares, net_before, net_after, now)
    if DESTINATION not in payment.metadata:
        return
    organizer = payment.metadata[ORGANIZER]
    # Negative when money returns: Dr Stripe clearing, Cr the organizer's payable.
    amount = net_moved(shares, organizer, net_before=net_before, net_after=net_after)
    cause = reversal_cause(refund.id) if returned else restored_cause(refund.id)
    transaction = transfer_posting(
        cause=cause,
        kind="connect_transfer_reversal" if returned else "connect_transfer_restored",
        organizer_id=organizer,
        provider=refund.provider.value,
        currency=refund.currency,
        amount=amount,
    )
    if transaction is not None:
        uow.ledger.post(transaction, at=now)


def account_event(
    uow: UnitOfWork, state: AccountState, *, actor: Principal | str, now: datetime
) -> bool:
    """`account.updated` from the provider: store the account's new state; False when the
    account is not one of ours (another platform's, or made outside eventpay)."""
    account = uow.connect.by_stripe_account(state.account_id, for_update=True)
    if account is None:
        return False
    if stale(account, state):
        return True  # Stripe described the account since: this older event changes nothing
    apply_account_state(uow, account, state, actor=actor, now=now, source="webhook")
    return True


def stale(account: ConnectedAccount, state: AccountState) -> bool:
    """Whether `state` is older than what is stored (events arrive in any order)."""
    return (
        state.as_of is not None
        and account.state_as_of is not None
        and state.as_of < account.state_as_of
    )
