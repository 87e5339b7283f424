"""The billing engine: what happens to a subscription as its clock moves on.

Each subscription has its own clock (`SubscriptionRecord.now`: real time plus what a test
advanced it by, `POST /_sandbox/billing/subscriptions/{id}/advance`), like a Stripe test
clock. `run_until` replays, in time order, every moment that has come due:

- the start of an APPROVED subscription whose `start_time` has come: ACTIVE, then as below;
- a billing period (billing_calendar.py): the cycle's price, plus the outstanding balance when
  the plan's `auto_bill_outstanding` is on, is charged: PAYMENT.SALE.COMPLETED with a v1 sale
  whose `billing_agreement_id` is the subscription. A free trial period charges nothing. After
  the last period of the last finite cycle the subscription is EXPIRED
  (BILLING.SUBSCRIPTION.EXPIRED);
- a retry of a failed payment.

A payment fails while the test has armed failures (`fail-next`): the amount joins the
outstanding balance, `failed_payments_count` (consecutive failures) goes up, and
BILLING.SUBSCRIPTION.PAYMENT.FAILED is sent with `last_failed_payment`. The sandbox then
retries the balance 1, 3 and 7 days after the failed billing date (PayPal documents retries
without fixing the days; these are the days the platform's dunning expects). Once the
failures reach the plan's `payment_failure_threshold` (0: never) the subscription is
SUSPENDED (BILLING.SUBSCRIPTION.SUSPENDED) and nothing more is tried; the merchant may collect
the balance (`/capture`) and `/activate` it. A successful payment resets the count; when it
clears the balance the planned retries are dropped. A suspended or cancelled subscription bills
nothing; a reactivated one whose billing date passed while suspended bills from the
reactivation on. The setup fee is charged at activation as its own sale; if it fails,
`setup_fee_failure_action` CANCEL cancels the subscription and CONTINUE owes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import identifiers, money
from .billing_calendar import current_cycle, next_due, price_minor
from .billing_records import JSON, RETRY_DAYS, SubscriptionRecord
from .billing_views import new_sale, render_sale, render_subscription, transaction
from .store import Store

_MAX_STEPS = 10_000


def plan_of(store: Store, record: SubscriptionRecord) -> JSON:
    plan: JSON = store.state.plans[record.subscription["plan_id"]]
    return plan


def emit(store: Store, record: SubscriptionRecord, event: str, summary: str, base: str) -> None:
    resource = render_subscription(record, plan_of(store, record), base, "last_failed_payment")
    store.emit(event, resource, summary=summary, base_url=base)


def set_status(
    record: SubscriptionRecord, status: str, moment: datetime, note: str | None = None
) -> None:
    sub = record.subscription
    when = identifiers.rfc3339(moment)
    sub.update(status=status, status_update_time=when, update_time=when)
    if note is not None:
        sub["status_change_note"] = note


def start(store: Store, record: SubscriptionRecord, base: str) -> None:
    """The buyer approved: ACTIVE now (first payment taken), or APPROVED until start_time."""
    moment = record.now()
    if record.start_at is not None and record.start_at > moment:
        set_status(record, "APPROVED", moment)
        return
    _activate(store, record, record.start_at or moment, base)
    run_until(store, record, moment, base)


def _activate(store: Store, record: SubscriptionRecord, moment: datetime, base: str) -> None:
    set_status(record, "ACTIVE", moment)
    record.subscription["start_time"] = identifiers.rfc3339(moment)
    record.anchor, record.periods, record.cycle_index = moment, 0, 0
    emit(store, record, "BILLING.SUBSCRIPTION.ACTIVATED", "Subscription activated", base)
    prefs = plan_of(store, record)["payment_preferences"]
    if "setup_fee" in prefs:
        fee = money.parse(prefs["setup_fee"]["value"], record.currency)
        paid = attempt(store, record, fee, moment, base, new_debt=fee)["status"] == "COMPLETED"
        if not paid and prefs["setup_fee_failure_action"] == "CANCEL":
            cancel(store, record, moment, "Setup fee payment failed", base)


def cancel(
    store: Store, record: SubscriptionRecord, moment: datetime, note: str, base: str
) -> None:
    set_status(record, "CANCELLED", moment, note)
    record.retries = []
    emit(store, record, "BILLING.SUBSCRIPTION.CANCELLED", "Subscription cancelled", base)


def suspend(
    store: Store, record: SubscriptionRecord, moment: datetime, note: str, base: str
) -> None:
    set_status(record, "SUSPENDED", moment, note)
    record.retries = []
    emit(store, record, "BILLING.SUBSCRIPTION.SUSPENDED", "Subscription suspended", base)


def resume(store: Store, record: SubscriptionRecord, note: str | None, base: str) -> None:
    """The merchant reactivates a SUSPENDED subscription; billing goes on from now."""
    moment = record.now()
    set_status(record, "ACTIVE", moment, note)
    record.suspended_by_failures = False
    due = next_due(record, plan_of(store, record))
    if due is not None and due < moment:
        record.anchor, record.periods = moment, 0
    emit(store, record, "BILLING.SUBSCRIPTION.ACTIVATED", "Subscription activated", base)
    run_until(store, record, moment, base)


def advance(store: Store, record: SubscriptionRecord, days: float, base: str) -> None:
    record.offset += timedelta(days=days)
    run_until(store, record, record.now(), base)


def run_until(store: Store, record: SubscriptionRecord, target: datetime, base: str) -> None:
    plan = plan_of(store, record)
    for _ in range(_MAX_STEPS):
        status = record.subscription["status"]
        if status == "APPROVED" and record.start_at is not None:
            if record.start_at > target:
                return
            _activate(store, record, record.start_at, base)
            continue
        if status != "ACTIVE":
            return
        due = next_due(record, plan)
        retry = record.retries[0] if record.retries else None
        if retry is not None and (due is None or retry < due):
            if retry > target:
                return
            record.retries.pop(0)
            if record.outstanding_minor > 0:
                attempt(store, record, record.outstanding_minor, retry, base, new_debt=0)
            continue
        if due is None or due > target:
            return
        _bill_period(store, record, plan, due, base)


def _bill_period(
    store: Store, record: SubscriptionRecord, plan: JSON, moment: datetime, base: str
) -> None:
    cycle = current_cycle(record, plan)
    if cycle is None:
        return
    total = int(cycle["total_cycles"])
    if total and record.cycles_done.get(int(cycle["sequence"]), 0) >= total:
        record.cycle_index += 1
        record.anchor, record.periods = moment, 0
        cycle = current_cycle(record, plan)
        if cycle is None:
            set_status(record, "EXPIRED", moment)
            record.retries = []
            emit(store, record, "BILLING.SUBSCRIPTION.EXPIRED", "Subscription expired", base)
            return
    sequence = int(cycle["sequence"])
    record.periods += 1
    record.cycles_done[sequence] = record.cycles_done.get(sequence, 0) + 1
    price = price_minor(cycle)
    auto_bill = plan["payment_preferences"]["auto_bill_outstanding"]
    amount = price + (record.outstanding_minor if auto_bill else 0)
    if amount > 0:
        attempt(store, record, amount, moment, base, new_debt=price)


def attempt(
    store: Store,
    record: SubscriptionRecord,
    amount: int,
    moment: datetime,
    base: str,
    *,
    new_debt: int,
) -> JSON:
    """Charge `amount` (of which `new_debt` is newly billed); returns the transaction."""
    record.outstanding_minor += new_debt
    if record.fail_next > 0:
        record.fail_next -= 1
        return _failed(store, record, amount, moment, base, billing=new_debt > 0)
    record.outstanding_minor = max(0, record.outstanding_minor - amount)
    record.failed_count = 0
    if record.outstanding_minor == 0:
        record.retries = []
    sale = new_sale(record, amount, moment)
    store.state.sales[sale["id"]] = sale
    record.last_payment = {
        "amount": money.amount(amount, record.currency),
        "time": identifiers.rfc3339(moment),
    }
    entry = transaction(record, sale["id"], amount, moment, "COMPLETED")
    record.transactions.append(entry)
    summary = f"Payment completed for {sale['amount']['total']} {record.currency}"
    store.emit("PAYMENT.SALE.COMPLETED", render_sale(sale, base), summary=summary, base_url=base)
    return entry


def _failed(
    store: Store,
    record: SubscriptionRecord,
    amount: int,
    moment: datetime,
    base: str,
    *,
    billing: bool,
) -> JSON:
    record.failed_count += 1
    if billing:
        record.retries = [moment + timedelta(days=d) for d in RETRY_DAYS]
    threshold = int(plan_of(store, record)["payment_preferences"]["payment_failure_threshold"])
    suspended = 0 < threshold <= record.failed_count
    if suspended:
        record.retries = []
    record.last_failed = {
        "amount": money.amount(amount, record.currency),
        "time": identifiers.rfc3339(moment),
        "reason_code": record.fail_reason,
    }
    if record.retries:
        record.last_failed["next_payment_retry_time"] = identifiers.rfc3339(record.retries[0])
    entry = transaction(record, identifiers.resource_id(), amount, moment, "DECLINED")
    record.transactions.append(entry)
    emit(store, record, "BILLING.SUBSCRIPTION.PAYMENT.FAILED", "Subscription payment failed", base)
    if suspended and record.subscription["status"] == "ACTIVE":
        record.suspended_by_failures = True
        suspend(store, record, moment, "Payment failure threshold reached", base)
    return entry


def switch_plan(store: Store, record: SubscriptionRecord, new_plan_id: str, base: str) -> None:
    """An approved revision: the new plan bills from the next billing date on."""
    old_plan = plan_of(store, record)
    due = next_due(record, old_plan) or record.now()
    record.subscription["plan_id"] = new_plan_id
    new_plan = plan_of(store, record)
    tenures = [c["tenure_type"] for c in new_plan["billing_cycles"]]
    record.cycle_index = tenures.index("REGULAR")
    record.anchor, record.periods, record.cycles_done = due, 0, {}
    record.pending_plan_id = None
    record.subscription["update_time"] = identifiers.rfc3339(record.now())
    emit(store, record, "BILLING.SUBSCRIPTION.UPDATED", "Subscription updated", base)
