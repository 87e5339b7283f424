"""The sandbox's in-memory state: objects, minted PaymentMethods, events and webhook endpoints.

One `Store` per app, guarded by one re-entrant lock: a route holds `store.lock` for the whole of
an operation so concurrent requests see each state change whole. Events are recorded here and
handed to a listener (the webhook dispatcher), which must not block: delivery happens elsewhere,
never inside the request that caused the event. Changes Stripe makes later on its own (a refund
that fails after a while) wait in `store.later` and are forgotten on reset. Idempotency and
faults keep their own state; the lock and listener plumbing is plumbing/state.py's.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eventpay.sandbox.plumbing.state import LockedStore

from . import objects
from .billing_state import BillingState
from .cards import TestCard
from .errors import ResourceMissing
from .objects import JSON
from .timers import Later


@dataclass(frozen=True)
class Origin:
    """The API request an event came from (Stripe's `event.request`); none for the 3DS page."""

    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass
class Authentication:
    """A PaymentIntent waiting at the 3-D Secure challenge."""

    pm_id: str
    card: TestCard
    return_url: str | None


@dataclass
class Endpoint:
    """A webhook endpoint and its signing secret."""

    obj: JSON
    secret: str

    def wants(self, event_type: str) -> bool:
        enabled = self.obj["enabled_events"]
        active = self.obj["status"] == "enabled"
        return active and ("*" in enabled or event_type in enabled)


@dataclass
class AccountLink:
    """An onboarding link: single use, valid until `expires_at`."""

    account: str
    refresh_url: str
    return_url: str
    expires_at: int
    used: bool = False


@dataclass
class _State:
    payment_intents: dict[str, JSON] = field(default_factory=dict)
    authentications: dict[str, Authentication] = field(default_factory=dict)
    charges: dict[str, JSON] = field(default_factory=dict)
    refunds: dict[str, JSON] = field(default_factory=dict)
    payment_methods: dict[str, TestCard] = field(default_factory=dict)
    events: dict[str, JSON] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    delivered: set[tuple[str, str]] = field(default_factory=set)
    # Connect and money movement (balance.py, transfers.py, payouts.py, accounts.py).
    accounts: dict[str, JSON] = field(default_factory=dict)
    account_links: dict[str, AccountLink] = field(default_factory=dict)
    balance_transactions: dict[str, JSON] = field(default_factory=dict)
    # Whose balance a balance transaction or payout moves: a connected account id, or None
    # for the platform.
    owners: dict[str, str | None] = field(default_factory=dict)
    transfers: dict[str, JSON] = field(default_factory=dict)
    transfer_reversals: dict[str, JSON] = field(default_factory=dict)
    application_fees: dict[str, JSON] = field(default_factory=dict)
    fee_refunds: dict[str, JSON] = field(default_factory=dict)
    payouts: dict[str, JSON] = field(default_factory=dict)
    # Products, prices, customers, subscriptions, invoices, test clocks (billing*.py).
    billing: BillingState = field(default_factory=BillingState)


# Called with the lock held after each event is recorded (billing reacts to its intents' events).
Observer = Callable[[str, JSON, "Origin"], None]


class Store(LockedStore[_State]):
    """All sandbox objects; call its methods with `lock` held when several must agree."""

    def __init__(
        self, startup_endpoints: Sequence[tuple[str, str]] = (), *, later_delay_s: float = 1.0
    ) -> None:
        super().__init__(_State)
        self.later = Later(later_delay_s)
        self.observers: list[Observer] = []
        self._startup = [(objects.new_id("we_"), url, secret) for url, secret in startup_endpoints]
        self.reset()

    def reset(self) -> None:
        """Forget everything except the endpoints given at start-up (same ids and secrets)."""
        with self.lock:
            self.later.cancel_all()
            self._start_over()
            for we_id, url, secret in self._startup:
                self.add_endpoint(
                    url=url,
                    secret=secret,
                    enabled_events=["*"],
                    description="configured at start-up",
                    metadata={},
                    api_version=None,
                    we_id=we_id,
                )

    # PaymentIntents, charges, refunds, PaymentMethods

    def intent(self, pi_id: str, *, param: str | None = None) -> JSON:
        found = self._state.payment_intents.get(pi_id)
        if found is None:
            raise ResourceMissing("payment_intent", pi_id, param=param)
        return found

    def charge(self, ch_id: str, *, param: str | None = None) -> JSON:
        found = self._state.charges.get(ch_id)
        if found is None:
            raise ResourceMissing("charge", ch_id, param=param)
        return found

    def refund(self, re_id: str) -> JSON:
        found = self._state.refunds.get(re_id)
        if found is None:
            raise ResourceMissing("refund", re_id)
        return found

    def account(self, acct_id: str, *, param: str | None = None) -> JSON:
        found = self._state.accounts.get(acct_id)
        if found is None:
            raise ResourceMissing("account", acct_id, param=param)
        return found

    def transfer(self, tr_id: str, *, param: str | None = None) -> JSON:
        found = self._state.transfers.get(tr_id)
        if found is None:
            raise ResourceMissing("transfer", tr_id, param=param)
        return found

    def application_fee(self, fee_id: str) -> JSON:
        found = self._state.application_fees.get(fee_id)
        if found is None:
            raise ResourceMissing("application_fee", fee_id)
        return found

    def balance_transaction(self, txn_id: str) -> JSON:
        found = self._state.balance_transactions.get(txn_id)
        if found is None:
            raise ResourceMissing("balance_transaction", txn_id)
        return found

    def payout(self, po_id: str) -> JSON:
        found = self._state.payouts.get(po_id)
        if found is None:
            raise ResourceMissing("payout", po_id)
        return found

    def mint_payment_method(self, card: TestCard) -> str:
        pm_id = objects.new_id("pm_")
        self._state.payment_methods[pm_id] = card
        return pm_id

    # Events

    def emit(
        self, event_type: str, obj: JSON, origin: Origin, *, previous: JSON | None = None
    ) -> JSON:
        """Record an event with a snapshot of `obj` now, and tell the listener who should get it.

        `previous` holds the old values of the fields that changed (`*.updated` events).
        """
        with self.lock:
            targets = [we for we, ep in self._state.endpoints.items() if ep.wants(event_type)]
            evt = objects.event(
                evt_id=objects.new_id("evt_"),
                created=int(time.time()),
                event_type=event_type,
                snapshot=copy.deepcopy(obj),
                pending_webhooks=len(targets),
                request_id=origin.request_id,
                idempotency_key=origin.idempotency_key,
                previous_attributes=copy.deepcopy(previous),
            )
            self._state.events[evt["id"]] = evt
        self._announce(evt["id"], targets)
        if self.observers:
            with self.lock:
                for observer in self.observers:
                    observer(event_type, obj, origin)
        return evt

    def event(self, evt_id: str) -> JSON:
        found = self._state.events.get(evt_id)
        if found is None:
            raise ResourceMissing("event", evt_id)
        return found

    def delivery(self, evt_id: str, we_id: str) -> tuple[bytes, str, str, str] | None:
        """Body, URL, secret and event type for delivering now; None once either is gone."""
        with self.lock:
            evt = self._state.events.get(evt_id)
            endpoint = self._state.endpoints.get(we_id)
            if evt is None or endpoint is None:
                return None
            body = json.dumps(evt, indent=2).encode("utf-8")
            return body, str(endpoint.obj["url"]), endpoint.secret, str(evt["type"])

    def mark_delivered(self, evt_id: str, we_id: str) -> None:
        with self.lock:
            evt = self._state.events.get(evt_id)
            if evt is None or (evt_id, we_id) in self._state.delivered:
                return
            self._state.delivered.add((evt_id, we_id))
            evt["pending_webhooks"] = max(0, int(evt["pending_webhooks"]) - 1)

    # Webhook endpoints

    def add_endpoint(
        self,
        *,
        url: str,
        secret: str,
        enabled_events: Sequence[str],
        description: str | None,
        metadata: dict[str, str],
        api_version: str | None,
        we_id: str | None = None,
    ) -> Endpoint:
        endpoint = Endpoint(
            obj=objects.webhook_endpoint(
                we_id=we_id or objects.new_id("we_"),
                created=int(time.time()),
                url=url,
                enabled_events=enabled_events,
                description=description,
                metadata=metadata,
                api_version=api_version,
            ),
            secret=secret,
        )
        with self.lock:
            self._state.endpoints[endpoint.obj["id"]] = endpoint
        return endpoint

    def endpoint(self, we_id: str) -> Endpoint:
        found = self._state.endpoints.get(we_id)
        if found is None:
            raise ResourceMissing("webhook_endpoint", we_id)
        return found

    def delete_endpoint(self, we_id: str) -> None:
        with self.lock:
            self.endpoint(we_id)
            del self._state.endpoints[we_id]

    def endpoints_for(self, event_type: str) -> list[str]:
        with self.lock:
            return [we for we, ep in self._state.endpoints.items() if ep.wants(event_type)]
