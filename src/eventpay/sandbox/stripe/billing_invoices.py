"""Invoices: building, finalizing and paying them, and what their PaymentIntents' events do.

An invoice is `draft` until finalized; finalizing numbers it, applies the customer's credit
balance and, when something is due, creates the PaymentIntent that pays it (named by the
invoice's `payments` and `confirmation_secret`, expand them). That PaymentIntent is confirmed
like any other (payment_intents.py, processing.py): `on_event` watches its events and marks the
invoice paid (`invoice.paid`, `invoice.payment_succeeded`), failed (`invoice.payment_failed`)
or waiting for 3-D Secure (`invoice.payment_action_required`), then lets billing_dunning.py
update the subscription. Stripe has no partial payment of an invoice: one PaymentIntent pays
the whole amount due (PayPal's invoices do take partial payments; Stripe's do not).
"""

from __future__ import annotations

import copy

from . import billing_dunning, billing_invoice_objects, billing_objects, processing
from .billing_common import customer, now_for, state, subscription
from .errors import CardError, InvalidRequestError
from .objects import JSON, new_id, payment_intent
from .store import Origin, Store


def new_invoice(
    store: Store,
    *,
    cus: JSON,
    collection_method: str,
    billing_reason: str,
    sub: JSON | None,
    period: tuple[int, int] | None,
    days_until_due: int | None,
    due_date: int | None,
    description: str | None,
    metadata: dict[str, str],
    currency: str,
    origin: Origin,
) -> JSON:
    """A new draft invoice (`invoice.created`)."""
    at = now_for(store, cus["id"])
    if due_date is None and days_until_due is not None:
        due_date = at + days_until_due * billing_objects.DAY_S
    inv = billing_invoice_objects.invoice(
        in_id=new_id("in_"),
        created=at,
        customer_obj=cus,
        currency=currency,
        collection_method=collection_method,
        billing_reason=billing_reason,
        # Stripe advances subscription invoices on its own; one-off invoices only if asked.
        auto_advance=sub is not None,
        days_until_due=days_until_due,
        due_date=due_date,
        description=description,
        metadata=metadata,
        sub_id=None if sub is None else sub["id"],
        sub_metadata=None if sub is None else dict(sub["metadata"]),
        period=period or (at, at),
    )
    state(store).invoices[inv["id"]] = inv
    if cus["currency"] is None:
        # Stripe fixes a customer's currency with its first invoice.
        cus["currency"] = currency
    store.emit("invoice.created", inv, origin)
    return inv


def add_line(inv: JSON, line: JSON) -> None:
    line["invoice"] = inv["id"]
    inv["lines"]["data"].append(line)
    recompute(inv)


def recompute(inv: JSON) -> None:
    """Totals of a draft from its lines (no tax, no discounts in the sandbox)."""
    total = sum(int(line["amount"]) for line in inv["lines"]["data"])
    inv.update(
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
        amount_due=max(0, total),
        amount_remaining=max(0, total),
    )


def attach_item(inv: JSON, item: JSON) -> None:
    """Put an invoice item on a draft invoice as a line."""
    item["invoice"] = inv["id"]
    sub_id = None if item["parent"] is None else item["parent"]["subscription_details"]
    line = billing_invoice_objects.line_item(
        il_id=new_id("il_"),
        invoice_id=inv["id"],
        amount=int(item["amount"]),
        currency=str(item["currency"]),
        description=item["description"],
        period=(int(item["period"]["start"]), int(item["period"]["end"])),
        quantity=int(item["quantity"]),
        unit_amount=(
            None
            if item["pricing"]["unit_amount_decimal"] is None
            else int(item["pricing"]["unit_amount_decimal"])
        ),
        metadata=dict(item["metadata"]),
        sub_id=None if sub_id is None else sub_id["subscription"],
        si_id=None,
        ii_id=item["id"],
        proration=bool(item["proration"]),
    )
    add_line(inv, line)


def pull_pending_items(store: Store, inv: JSON, *, sub_id: str | None) -> None:
    """Pending invoice items of the customer (of this subscription, when given) join the draft."""
    for item in state(store).invoice_items.values():
        if item["invoice"] is not None or item["customer"] != inv["customer"]:
            continue
        if item["currency"] != inv["currency"]:
            continue
        item_sub = None if item["parent"] is None else item["parent"]["subscription_details"]
        if sub_id is not None and (item_sub is None or item_sub["subscription"] != sub_id):
            continue
        attach_item(inv, item)


def finalize(store: Store, inv: JSON, origin: Origin, *, base_url: str) -> None:
    """draft -> open (`invoice.finalized`), with a PaymentIntent for the amount due.

    Nothing due (a zero or credit invoice) is paid at once, as at Stripe.
    """
    if inv["status"] != "draft":
        raise InvalidRequestError(
            f"This invoice is already finalized, you can't re-finalize a non-draft invoice. "
            f"Its status is {inv['status']}.",
            code="invoice_not_editable",
        )
    cus = customer(store, inv["customer"])
    at = now_for(store, cus["id"])
    starting = int(cus["balance"])
    applied = int(inv["total"]) + starting
    inv.update(
        status="open",
        number=f"{cus['invoice_prefix']}-{int(cus['next_invoice_sequence']):04d}",
        effective_at=at,
        starting_balance=starting,
        ending_balance=min(0, applied),
        amount_due=max(0, applied),
        amount_remaining=max(0, applied),
        hosted_invoice_url=f"{base_url}/sandbox/invoices/{inv['id']}",
    )
    inv["status_transitions"]["finalized_at"] = at
    cus["next_invoice_sequence"] = int(cus["next_invoice_sequence"]) + 1
    cus["balance"] = min(0, applied)
    if inv["amount_due"] > 0:
        _create_intent(store, inv, origin)
    store.emit("invoice.finalized", inv, origin)
    if inv["amount_due"] == 0:
        mark_paid(store, inv, origin, pm_id=None)


def _create_intent(store: Store, inv: JSON, origin: Origin) -> JSON:
    at = now_for(store, inv["customer"])
    sub = inv["parent"]["subscription_details"]["subscription"] if inv["parent"] else None
    intent = payment_intent(
        pi_id=new_id("pi_"),
        created=at,
        amount=int(inv["amount_due"]),
        currency=str(inv["currency"]),
        automatic_payment_methods=None,
        description=_intent_description(str(inv["billing_reason"])),
        metadata={},
        receipt_email=None,
        transfer_group=None,
        statement_descriptor=None,
        statement_descriptor_suffix=None,
        setup_future_usage="off_session" if sub else None,
        payment_method_types=["card"],
        capture_method="automatic",
    )
    intent["customer"] = inv["customer"]
    store.state.payment_intents[intent["id"]] = intent
    billing = state(store)
    billing.invoice_of_intent[intent["id"]] = inv["id"]
    billing.invoice_payments.setdefault(inv["id"], []).append(
        billing_invoice_objects.invoice_payment(created=at, invoice_obj=inv, pi_id=intent["id"])
    )
    store.emit("payment_intent.created", intent, origin)
    return intent


def _intent_description(reason: str) -> str | None:
    return {
        "subscription_create": "Subscription creation",
        "subscription_cycle": "Subscription update",
        "subscription_update": "Subscription update",
    }.get(reason)


def intent_of(store: Store, inv: JSON) -> JSON | None:
    payments = state(store).invoice_payments.get(inv["id"], [])
    return store.intent(payments[-1]["payment"]["payment_intent"]) if payments else None


def default_payment_method(store: Store, inv: JSON) -> str | None:
    """What automatic collection charges: the subscription's default, else the customer's."""
    parent = inv["parent"]
    if parent is not None and parent["subscription_details"] is not None:
        sub = subscription(store, parent["subscription_details"]["subscription"])
        if sub["default_payment_method"]:
            return str(sub["default_payment_method"])
    chosen = customer(store, inv["customer"])["invoice_settings"]["default_payment_method"]
    return str(chosen) if chosen else None


def charge(
    store: Store, inv: JSON, pm_id: str, origin: Origin, *, base_url: str, off_session: bool
) -> None:
    """Confirm the invoice's PaymentIntent with `pm_id`; raises CardError on a decline."""
    intent = intent_of(store, inv)
    if intent is None:
        raise InvalidRequestError("This invoice has nothing to pay.", code="invoice_not_editable")
    processing.charge(
        store,
        intent,
        pm_id,
        origin,
        base_url=base_url,
        return_url=None,
        off_session=off_session,
    )


def collect(store: Store, inv: JSON, origin: Origin, *, base_url: str) -> None:
    """Automatic collection: charge the default payment method off-session, never raising."""
    if inv["status"] != "open":
        return
    pm_id = default_payment_method(store, inv)
    if pm_id is None:
        inv["attempt_count"] = int(inv["attempt_count"]) + 1
        inv["attempted"] = True
        billing_dunning.after_failure(store, inv, origin)
        store.emit("invoice.payment_failed", inv, origin)
        return
    try:
        charge(store, inv, pm_id, origin, base_url=base_url, off_session=True)
    except CardError:
        return


def mark_paid(store: Store, inv: JSON, origin: Origin, *, pm_id: str | None) -> None:
    at = now_for(store, inv["customer"])
    paid = int(inv["amount_remaining"])
    inv.update(
        status="paid",
        amount_paid=int(inv["amount_paid"]) + paid,
        amount_remaining=0,
        next_payment_attempt=None,
    )
    if pm_id is not None:
        inv.update(attempted=True, attempt_count=int(inv["attempt_count"]) + 1)
    inv["status_transitions"]["paid_at"] = at
    for payment in state(store).invoice_payments.get(inv["id"], []):
        if payment["status"] == "open":
            payment.update(status="paid", amount_paid=paid)
            payment["status_transitions"]["paid_at"] = at
    store.emit("invoice.paid", inv, origin)
    store.emit("invoice.payment_succeeded", inv, origin)
    billing_dunning.after_payment(store, inv, pm_id, origin)


def on_event(store: Store, event_type: str, obj: JSON, origin: Origin) -> None:
    """Store observer: an invoice PaymentIntent moved, so its invoice moves too."""
    if obj.get("object") != "payment_intent":
        return
    in_id = state(store).invoice_of_intent.get(str(obj["id"]))
    if in_id is None or in_id not in state(store).invoices:
        return
    inv = state(store).invoices[in_id]
    charge_id = obj.get("latest_charge")
    if isinstance(charge_id, str) and charge_id in store.state.charges:
        store.state.charges[charge_id]["customer"] = inv["customer"]
    if event_type == "payment_intent.succeeded" and inv["status"] == "open":
        mark_paid(store, inv, origin, pm_id=obj["payment_method"])
    elif event_type == "payment_intent.payment_failed" and inv["status"] == "open":
        inv["attempt_count"] = int(inv["attempt_count"]) + 1
        inv["attempted"] = True
        billing_dunning.after_failure(store, inv, origin)
        store.emit("invoice.payment_failed", inv, origin)
    elif event_type == "payment_intent.requires_action" and inv["status"] == "open":
        store.emit("invoice.payment_action_required", inv, origin)


def void(store: Store, inv: JSON, origin: Origin) -> None:
    """open -> void: the PaymentIntent is canceled and nothing more is collected."""
    if inv["status"] != "open":
        raise InvalidRequestError(
            f"You can only void an open invoice; this one is {inv['status']}.",
            code="invoice_not_editable",
        )
    intent = intent_of(store, inv)
    if intent is not None and intent["status"] != "succeeded":
        intent.update(status="canceled", canceled_at=now_for(store, inv["customer"]))
        store.state.authentications.pop(intent["id"], None)
    inv.update(status="void", next_payment_attempt=None, amount_remaining=0)
    inv["status_transitions"]["voided_at"] = now_for(store, inv["customer"])
    store.emit("invoice.voided", inv, origin)


def check_overdue(store: Store, inv: JSON, at: int, origin: Origin) -> None:
    """`invoice.overdue` once, when an open invoice sent for payment passes its due date."""
    due = inv["due_date"]
    sent = state(store).overdue_sent
    if inv["status"] != "open" or due is None or at < int(due) or inv["id"] in sent:
        return
    sent.add(inv["id"])
    store.emit("invoice.overdue", copy.deepcopy(inv), origin)
