"""The payment attempt state machine: which provider status updates may move an attempt.

A payment attempt (one Stripe PaymentIntent, one PayPal order) learns its status from webhooks
and provider reads that can arrive late, twice or out of order. ``transition`` decides, for the
attempt's current status and a reported one, whether to move:

- ``applied``: the move is forward, take it;
- ``duplicate``: the attempt is already there, nothing to do;
- ``stale``: the report is older than what is known (or impossible), ignore it.

Allowed moves, each one forward in progress::

    created         → unknown | requires_action | processing | succeeded | failed | canceled
    unknown         → requires_action | processing | succeeded | failed | canceled
    requires_action → processing | succeeded | failed | canceled
    processing      → succeeded | failed | canceled
    failed          → succeeded | canceled
    canceled        → succeeded
    succeeded: terminal

``failed → succeeded`` exists because a customer may retry on the same intent after a decline,
and money received must never be ignored. ``canceled → succeeded`` exists for the same reason:
a cancellation can be local (a buyer leaving PayPal's page, an attempt we gave up on) while the
provider still takes the money; a success report always wins, and the core then decides what
the money is for (an over-payment is refunded). ``processing → canceled`` exists because Stripe can
cancel a processing intent, and because without it a ``canceled`` report arriving before the
``failed`` it followed would be lost for good: with every forward move allowed, the status
reached from any set of reports is the most advanced one, however they are ordered or repeated.

What must not live here: amounts (see ``orders``), provider names and I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class PaymentStatus(StrEnum):
    """A payment attempt's status, provider-neutral."""

    CREATED = "created"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"
    """The provider's answer was lost (a timeout on create); a later report settles it."""


class TransitionOutcome(StrEnum):
    """The ``outcome`` values of a ``Transition``."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"


_S = PaymentStatus

_ALLOWED: Mapping[PaymentStatus, frozenset[PaymentStatus]] = MappingProxyType(
    {
        _S.CREATED: frozenset(
            {_S.UNKNOWN, _S.REQUIRES_ACTION, _S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.CANCELED}
        ),
        _S.UNKNOWN: frozenset(
            {_S.REQUIRES_ACTION, _S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.CANCELED}
        ),
        _S.REQUIRES_ACTION: frozenset({_S.PROCESSING, _S.SUCCEEDED, _S.FAILED, _S.CANCELED}),
        _S.PROCESSING: frozenset({_S.SUCCEEDED, _S.FAILED, _S.CANCELED}),
        _S.FAILED: frozenset({_S.SUCCEEDED, _S.CANCELED}),
        _S.SUCCEEDED: frozenset(),
        _S.CANCELED: frozenset({_S.SUCCEEDED}),
    }
)

TERMINAL_STATUSES: frozenset[PaymentStatus] = frozenset(
    status for status, targets in _ALLOWED.items() if not targets
)


@dataclass(frozen=True, slots=True)
class Transition:
    """The decision for one reported status: whether it applies and the status afterwards."""

    applied: bool
    from_status: PaymentStatus
    to_status: PaymentStatus
    outcome: str  # a TransitionOutcome: "applied" | "duplicate" | "stale"


def allowed_targets(status: PaymentStatus) -> frozenset[PaymentStatus]:
    """The statuses an attempt in ``status`` may move to."""
    return _ALLOWED[PaymentStatus(status)]


def is_terminal(status: PaymentStatus) -> bool:
    return PaymentStatus(status) in TERMINAL_STATUSES


def transition(current: PaymentStatus, target: PaymentStatus) -> Transition:
    """Decide whether an attempt in ``current`` moves to the reported ``target``.

    Plain strings are accepted and checked (``ValueError`` for an unknown status), since
    statuses arrive from storage and provider payloads.
    """
    current, target = PaymentStatus(current), PaymentStatus(target)
    if target is current:
        return Transition(False, current, current, TransitionOutcome.DUPLICATE)
    if target in _ALLOWED[current]:
        return Transition(True, current, target, TransitionOutcome.APPLIED)
    return Transition(False, current, current, TransitionOutcome.STALE)


def resolve_observed(current: PaymentStatus, observed: PaymentStatus) -> Transition:
    """Apply what a fresh provider read (not an event) says about an attempt.

    An ``unknown`` attempt takes whatever the provider reports, ``created`` included: the read
    ends the uncertainty, and "the object exists and waits for the buyer" is not a step back
    from "we do not know". For any other current status a read is judged like an event.
    """
    current, observed = PaymentStatus(current), PaymentStatus(observed)
    if current is PaymentStatus.UNKNOWN and observed is not PaymentStatus.UNKNOWN:
        return Transition(True, current, observed, TransitionOutcome.APPLIED)
    return transition(current, observed)
