"""Settlement: the one place that changes a payment's, a refund's or an order's money state.

Every other service module that learns something about money (a webhook, a provider answer,
the janitor, a person's request) calls in here; settlement calls no other service module, only
the leaves (`audit`, `views`) and the domain. Split by what changes: `payments` (attempt
status, order paid, over-payment), `refunds` (refund rows and their status), `registrations`
(places held, confirmed, released).
"""

from eventpay.services.settlement.payments import (
    apply_payment_update,
    apply_status,
    end_attempt,
    record_provider_answer,
    reschedule_payment,
)
from eventpay.services.settlement.refunds import (
    UnrecordableRefund,
    apply_refund_update,
    defer_refund,
    record_refund_answer,
    request_refund,
)
from eventpay.services.settlement.registrations import (
    cancel_registrations,
    confirm_registrations,
    release_places,
)

__all__ = [
    "UnrecordableRefund",
    "apply_payment_update",
    "apply_refund_update",
    "apply_status",
    "cancel_registrations",
    "confirm_registrations",
    "defer_refund",
    "end_attempt",
    "record_provider_answer",
    "record_refund_answer",
    "release_places",
    "request_refund",
    "reschedule_payment",
]
