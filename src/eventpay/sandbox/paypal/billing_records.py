"""What the sandbox keeps about billing (Catalog Products, Plans, Subscriptions) beside the JSON.

Products and plans are stored as the JSON PayPal shows (minus `links`). A subscription is a
`SubscriptionRecord`: its JSON plus the bookkeeping PayPal keeps privately, which is what the
billing engine (billing_cycles.py) runs on: the buyer's return URLs, the subscription's own
clock (how far a test has moved it forward), where it is in its plan's billing cycles, the
outstanding balance in minor units, the retries still planned, and how many of the next
payment attempts a test wants to fail. Also here: ids in PayPal's billing shapes, the billing
APIs' error dialect, and PayPal's billing issue descriptions (they differ from the Orders API's
wording, and the specifications enumerate them). Plain data and pure helpers; no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import identifiers
from .errors import ApiFamily, InvalidRequest, Issue, ResourceNotFound, UnprocessableEntity

JSON = dict[str, Any]

BILLING = ApiFamily("subscriptions/v1")
CATALOG = ApiFamily("catalog-products/v1")

# Issue descriptions as billing_subscriptions_v1's `plans.*` and `subscriptions.*` enumerate them.
BILLING_DESCRIPTIONS: dict[str, str] = {
    "MISSING_REQUIRED_PARAMETER": "A required field is missing.",
    "INVALID_PARAMETER_VALUE": "The value of a field is invalid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_STRING_MAX_LENGTH": "The value of a field is too long.",
    "INVALID_STRING_MIN_LENGTH": "The value of a field is too short.",
    "INVALID_INTEGER_MIN_VALUE": "The integer value of a field is too small.",
    "INVALID_INTEGER_MAX_VALUE": "The integer value of a field is too large.",
}
STATUS_INVALID = {
    "plan-deactivate": "Invalid plan status for deactivate action; plan status should be active.",
    "plan-activate": "Invalid plan status for activate action; plan status should be inactive.",
    "create": "Invalid plan status for subscription creation; plan status should be active.",
    "suspend": (
        "Invalid subscription status for suspend action; subscription status should be active."
    ),
    "cancel": (
        "Invalid subscription status for cancel action; subscription status should be active "
        "or suspended."
    ),
    "activate": (
        "Invalid subscription status for activate action; subscription status should be suspended."
    ),
}
CANNOT_ACTIVATE = "Subscription cannot be activated after payment failure threshold has reached."

# Reason codes of `failed_payment_details.reason_code`.
FAILURE_REASONS = (
    "PAYMENT_DENIED",
    "INTERNAL_SERVER_ERROR",
    "PAYEE_ACCOUNT_RESTRICTED",
    "PAYER_ACCOUNT_RESTRICTED",
    "PAYER_CANNOT_PAY",
    "SENDING_LIMIT_EXCEEDED",
    "TRANSACTION_RECEIVING_LIMIT_EXCEEDED",
    "CURRENCY_MISMATCH",
)
# Days after a failed payment at which PayPal's sandbox retries it (the issue's 1, 3, 7 days).
RETRY_DAYS = (1, 3, 7)


@dataclass
class SubscriptionRecord:
    subscription: JSON
    return_url: str | None
    cancel_url: str | None
    approval_token: str  # the `ba_token` of the approval page
    currency: str
    offset: timedelta = timedelta(0)  # how far a test moved this subscription's clock
    start_at: datetime | None = None  # an approved subscription starts billing then
    cycle_index: int = 0  # position in the plan's billing_cycles (sorted by sequence)
    anchor: datetime | None = None  # billing dates are anchor + n intervals, n = periods
    periods: int = 0
    cycles_done: dict[int, int] = field(default_factory=dict)  # sequence -> cycles completed
    outstanding_minor: int = 0
    failed_count: int = 0  # consecutive failed payments
    retries: list[datetime] = field(default_factory=list)  # planned retries of the balance
    last_payment: JSON | None = None
    last_failed: JSON | None = None
    fail_next: int = 0  # payment attempts still to decline (a test's control)
    fail_reason: str = "PAYMENT_DENIED"
    suspended_by_failures: bool = False
    pending_plan_id: str | None = None  # a revision waiting for the buyer's approval
    transactions: list[JSON] = field(default_factory=list)

    def now(self) -> datetime:
        """This subscription's clock: real time plus what tests advanced it by."""
        return identifiers.now() + self.offset


def billing_issue(issue: str, field: str | None = None, value: Any = None) -> Issue:
    shown = None if value is None else str(value)[:200]
    return Issue(issue, field=field, value=shown, description=BILLING_DESCRIPTIONS.get(issue))


def missing_field(field: str) -> InvalidRequest:
    return InvalidRequest(billing_issue("MISSING_REQUIRED_PARAMETER", field))


def invalid_field(
    field: str, value: Any = None, issue: str = "INVALID_PARAMETER_VALUE"
) -> InvalidRequest:
    return InvalidRequest(billing_issue(issue, field, value))


def status_invalid(action: str) -> UnprocessableEntity:
    issue = (
        "PLAN_STATUS_INVALID"
        if action in ("plan-deactivate", "plan-activate", "create")
        else ("SUBSCRIPTION_STATUS_INVALID")
    )
    return UnprocessableEntity(Issue(issue, location=None, description=STATUS_INVALID[action]))


def found(value: Any, field: str, object_id: str) -> Any:
    if value is None:
        raise ResourceNotFound(field, object_id)
    return value


def product_id() -> str:
    """`PROD-5FD60555F23244316` style."""
    return "PROD-" + identifiers.resource_id()


def plan_id() -> str:
    """`P-5ML4271244454362WXNWU5NQ` style (P- and 24 characters)."""
    return "P-" + identifiers.resource_id() + identifiers.account_id()[:7]


def subscription_id() -> str:
    """`I-BW452GLLEP1G` style (I- and 12 characters)."""
    return "I-" + identifiers.account_id()[:12]


def approval_token() -> str:
    """The `ba_token` of a subscription's approval page, `BA-2M539689T3856352J` style."""
    return "BA-" + identifiers.resource_id()
