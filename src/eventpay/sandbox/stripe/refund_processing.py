"""Refunding a charge: the Refund, the charge's refunded totals, the events, and later outcomes.

`refund` records a Refund of a succeeded charge and emits Stripe's events. What happens next
depends on the card (`cards.RefundOutcome`): most refunds are final at once; a
`pm_card_pendingRefund` refund succeeds later and a `pm_card_refundFail` refund fails later, both
run from `store.later` with no API request behind them. A charge's `amount_refunded`, `refunded`
and `refunds` are derived from its refunds whenever one of them changes, never counted up by hand.
Callers hold `store.lock`; parameter rules and "may this be refunded?" live in refunds.py.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from . import balance, destinations, objects
from .cards import RefundOutcome
from .objects import JSON
from .store import Origin, Store

# Money in a refund with one of these statuses has left the merchant (or is on its way out).
ACTIVE = ("pending", "requires_action", "succeeded")
# Stripe embeds the newest ten refunds in a charge; the rest are behind `has_more`.
EMBEDDED_REFUNDS = 10
# What Stripe reports for a `pm_card_refundFail` refund.
REFUND_FAILURE_REASON = "expired_or_canceled_card"


def refundable(charge: JSON) -> int:
    """What is left to refund of the charge, in minor units."""
    return int(charge["amount_captured"]) - int(charge["amount_refunded"])


def sync_charge(store: Store, charge: JSON) -> None:
    """Derive the charge's refund fields from its refunds (newest first)."""
    mine = [r for r in store.state.refunds.values() if r["charge"] == charge["id"]][::-1]
    refunded = sum(int(r["amount"]) for r in mine if r["status"] in ACTIVE)
    charge["amount_refunded"] = refunded
    charge["refunded"] = refunded > 0 and refunded == int(charge["amount_captured"])
    charge["refunds"] = objects.list_object(
        mine[:EMBEDDED_REFUNDS],
        has_more=len(mine) > EMBEDDED_REFUNDS,
        url=f"/v1/charges/{charge['id']}/refunds",
    )


def refund(
    store: Store,
    charge: JSON,
    *,
    amount: int,
    reason: str | None,
    metadata: dict[str, str],
    origin: Origin,
    reverse_transfer: bool = False,
    refund_application_fee: bool = False,
) -> JSON:
    """Refund `amount` of a succeeded charge (the caller checked it is refundable).

    `reverse_transfer` and `refund_application_fee` undo a destination charge's Connect side
    (destinations.py); the refund's own balance transaction takes `amount` off the platform.
    """
    card = store.state.payment_methods[charge["payment_method"]]
    pending = card.refund is RefundOutcome.PENDING_THEN_SUCCEED
    created = objects.refund(
        re_id=objects.new_id("re_"),
        created=int(time.time()),
        charge=charge,
        amount=amount,
        status="pending" if pending else "succeeded",
        reason=reason,
        metadata=metadata,
    )
    store.state.refunds[created["id"]] = created
    balance.record(
        store,
        owner=None,
        amount=-amount,
        currency=str(charge["currency"]),
        txn_type="refund",
        reporting_category="refund",
        source=created["id"],
        description=f"REFUND FOR CHARGE ({charge['description'] or charge['id']})",
        txn_id=created["balance_transaction"],
    )
    sync_charge(store, charge)
    connect_events = destinations.on_refund(
        store,
        charge,
        created,
        reverse_transfer=reverse_transfer,
        refund_application_fee=refund_application_fee,
    )
    store.emit("charge.refunded", charge, origin)
    store.emit("refund.created", created, origin)
    for event_type, obj in connect_events:
        store.emit(event_type, obj, origin)
    if card.refund is RefundOutcome.PENDING_THEN_SUCCEED:
        store.later.schedule(_when_still(store, created["id"], "pending", _settle))
    elif card.refund is RefundOutcome.SUCCEED_THEN_FAIL:
        store.later.schedule(_when_still(store, created["id"], "succeeded", _fail))
    return created


Change = Callable[[Store, JSON], None]


def _when_still(store: Store, re_id: str, status: str, change: Change) -> Callable[[], None]:
    """`change` for later, if the refund still exists with `status` then (a reset forgets it)."""

    def action() -> None:
        with store.lock:
            found = store.state.refunds.get(re_id)
            if found is not None and found["status"] == status:
                change(store, found)

    return action


def _changed(store: Store, found: JSON, previous: JSON) -> None:
    charge = store.charge(found["charge"])
    sync_charge(store, charge)
    store.emit("refund.updated", found, Origin(), previous=previous)
    if found["status"] == "failed":
        store.emit("refund.failed", found, Origin())
    # Stripe's older per-charge event for the same change, still sent for card refunds.
    store.emit("charge.refund.updated", found, Origin(), previous=previous)


def _settle(store: Store, found: JSON) -> None:
    previous = {
        "status": found["status"],
        "destination_details": copy.deepcopy(found["destination_details"]),
    }
    found["status"] = "succeeded"
    found["destination_details"]["card"]["type"] = "refund"
    _changed(store, found, previous)


def _fail(store: Store, found: JSON) -> None:
    previous = {"status": found["status"]}
    # The balance transaction that gives the merchant the money back. A destination charge's
    # transfer reversal and fee refund stay as they were: the sandbox does not undo them.
    given_back = balance.record(
        store,
        owner=None,
        amount=int(found["amount"]),
        currency=str(found["currency"]),
        txn_type="refund_failure",
        reporting_category="refund_failure",
        source=found["id"],
        description="REFUND FAILURE",
    )
    found.update(
        status="failed",
        failure_reason=REFUND_FAILURE_REASON,
        failure_balance_transaction=given_back["id"],
    )
    _changed(store, found, previous)
