"""Charging a confirmed PaymentIntent: success, decline, or a 3-D Secure detour.

These functions move a PaymentIntent to its next status, create the Charge and emit the events
real Stripe emits, in Stripe's order (`charge.*` before `payment_intent.*`). Callers hold
`store.lock`. Parameter parsing and the "may this be confirmed now?" rules live in
payment_intents.py; the challenge page lives in challenge.py.
"""

from __future__ import annotations

import copy
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

from . import balance, destinations, objects
from .cards import Decline, Outcome, TestCard, payment_method_object
from .errors import CardError, InvalidRequestError
from .objects import JSON
from .store import Authentication, Origin, Store

AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
    "The bank returned the decline code `authentication_required`.",
)
AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def challenge_url(base_url: str, pi_id: str) -> str:
    return f"{base_url}/sandbox/3ds/{pi_id}"


def charge(
    store: Store,
    intent: JSON,
    pm_id: str,
    origin: Origin,
    *,
    base_url: str,
    return_url: str | None,
    off_session: bool,
) -> None:
    """Attempt payment with the PaymentMethod; raises CardError on a decline (state kept)."""
    card = store.state.payment_methods[pm_id]
    intent["payment_method"] = pm_id
    intent["last_payment_error"] = None
    intent["next_action"] = None
    store.state.authentications.pop(intent["id"], None)
    if card.outcome is Outcome.SUCCEED:
        succeed(store, intent, pm_id, card, origin, three_d_secure=False)
    elif card.outcome is Outcome.AUTHENTICATE and off_session:
        # Nobody is there to authenticate, so Stripe declines instead of asking.
        raise decline(store, intent, pm_id, card, origin, AUTHENTICATION_REQUIRED)
    elif card.outcome is Outcome.AUTHENTICATE:
        url = challenge_url(base_url, intent["id"])
        intent["status"] = "requires_action"
        if return_url:
            intent["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {"url": url, "return_url": return_url},
            }
        else:
            intent["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {
                    "type": "three_d_secure_redirect",
                    "stripe_js": url,
                    "source": objects.new_id("src_"),
                },
            }
        store.state.authentications[intent["id"]] = Authentication(pm_id, card, return_url)
        store.emit("payment_intent.requires_action", intent, origin)
    else:
        assert card.decline is not None
        raise decline(store, intent, pm_id, card, origin, card.decline)


def succeed(
    store: Store, intent: JSON, pm_id: str, card: TestCard, origin: Origin, *, three_d_secure: bool
) -> None:
    ch = objects.charge(
        ch_id=objects.new_id("ch_"),
        created=int(time.time()),
        intent=intent,
        pm_id=pm_id,
        card=card,
        succeeded=True,
        three_d_secure=three_d_secure,
    )
    store.state.charges[ch["id"]] = ch
    balance.record_charge(store, ch)
    destinations.tag_charge(intent, ch)
    connect_events = destinations.settle(store, ch)
    intent.update(
        status="succeeded",
        amount_received=intent["amount"],
        latest_charge=ch["id"],
        payment_method=pm_id,
        next_action=None,
        last_payment_error=None,
    )
    store.emit("charge.succeeded", ch, origin)
    store.emit("payment_intent.succeeded", intent, origin)
    for event_type, obj in connect_events:
        store.emit(event_type, obj, origin)


def decline(
    store: Store, intent: JSON, pm_id: str, card: TestCard, origin: Origin, why: Decline
) -> CardError:
    """Record a declined attempt and return the 402 error to raise."""
    failed_card = TestCard(card.token, card.brand, card.last4, Outcome.DECLINE, decline=why)
    ch = objects.charge(
        ch_id=objects.new_id("ch_"),
        created=int(time.time()),
        intent=intent,
        pm_id=pm_id,
        card=failed_card,
        succeeded=False,
        three_d_secure=False,
    )
    store.state.charges[ch["id"]] = ch
    destinations.tag_charge(intent, ch)
    pm_object = payment_method_object(pm_id, card, int(time.time()))
    error = CardError(
        why.message,
        code=why.code,
        decline_code=why.decline_code,
        charge=ch["id"],
        payment_method=pm_object,
    )
    intent.update(
        status="requires_payment_method",
        latest_charge=ch["id"],
        payment_method=None,
        next_action=None,
        last_payment_error=error.body()["error"],
    )
    store.emit("charge.failed", ch, origin)
    store.emit("payment_intent.payment_failed", intent, origin)
    error.extra["payment_intent"] = copy.deepcopy(intent)
    return error


def _awaiting(store: Store, pi_id: str) -> tuple[JSON, Authentication]:
    intent = store.intent(pi_id)
    pending = store.state.authentications.get(pi_id)
    if intent["status"] != "requires_action" or pending is None:
        raise InvalidRequestError(
            f"This PaymentIntent is not waiting for 3-D Secure authentication: its status is "
            f"{intent['status']}.",
            code="payment_intent_unexpected_state",
        )
    return intent, pending


def complete_authentication(store: Store, pi_id: str) -> tuple[JSON, str | None]:
    """The customer passed the challenge: charge the card. Returns the intent and return_url."""
    intent, pending = _awaiting(store, pi_id)
    del store.state.authentications[pi_id]
    succeed(store, intent, pending.pm_id, pending.card, Origin(), three_d_secure=True)
    return intent, pending.return_url


def fail_authentication(store: Store, pi_id: str) -> tuple[JSON, str | None]:
    """The customer failed the challenge: back to requires_payment_method, no charge."""
    intent, pending = _awaiting(store, pi_id)
    del store.state.authentications[pi_id]
    error = InvalidRequestError(
        AUTHENTICATION_FAILED,
        code="payment_intent_authentication_failure",
        payment_method=payment_method_object(pending.pm_id, pending.card, int(time.time())),
    )
    intent.update(
        status="requires_payment_method",
        payment_method=None,
        next_action=None,
        last_payment_error=error.body()["error"],
    )
    store.emit("payment_intent.payment_failed", intent, Origin())
    return intent, pending.return_url


def return_redirect(return_url: str, intent: JSON, succeeded: bool) -> str:
    """Where Stripe sends the browser after a redirect-based authentication."""
    parts = urlsplit(return_url)
    extra = urlencode(
        {
            "payment_intent": intent["id"],
            "payment_intent_client_secret": intent["client_secret"],
            "redirect_status": "succeeded" if succeeded else "failed",
        }
    )
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
