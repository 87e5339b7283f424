"""eventpay's pure domain core: money, catalog, pricing, payment states and order status.

Everything money-critical is decided here, with no I/O: no database, HTTP, environment or clock
reads (time-dependent rules take ``now``). Only the standard library is imported. The public
surface is re-exported here; import from ``eventpay.domain`` rather than from the modules.
"""

from eventpay.domain.catalog import (
    CompetitionClass,
    Event,
    Organizer,
    RegistrationWindow,
)
from eventpay.domain.deadlines import has_passed, has_started, is_before, require_aware
from eventpay.domain.errors import (
    CatalogError,
    CurrencyMismatch,
    DomainError,
    DuplicateClass,
    InvalidAmount,
    MoneyError,
    NoClassesSelected,
    PricingError,
    RegistrationClosed,
    RegistrationClosedReason,
    UnknownClass,
    UnknownCurrency,
)
from eventpay.domain.money import CURRENCY_EXPONENTS, Money, Rounding, sum_money
from eventpay.domain.orders import (
    AttemptAmount,
    OrderStatus,
    PaymentSummary,
    RefundAmount,
    RefundStatus,
    RegistrationStatus,
    collects_approved_payment,
    derive_order_status,
    registration_status_for,
    summarize,
)
from eventpay.domain.payments import (
    TERMINAL_STATUSES,
    PaymentStatus,
    Transition,
    TransitionOutcome,
    allowed_targets,
    is_terminal,
    resolve_observed,
    transition,
)
from eventpay.domain.pricing import (
    FeePayer,
    FeePolicy,
    LineKind,
    PriceRule,
    Quote,
    QuoteLine,
    price_registration,
    quote_order,
    unit_price,
)
from eventpay.domain.refunds import RefundTransition, refund_transition

__all__ = [
    "CURRENCY_EXPONENTS",
    "TERMINAL_STATUSES",
    "AttemptAmount",
    "CatalogError",
    "CompetitionClass",
    "CurrencyMismatch",
    "DomainError",
    "DuplicateClass",
    "Event",
    "FeePayer",
    "FeePolicy",
    "InvalidAmount",
    "LineKind",
    "Money",
    "MoneyError",
    "NoClassesSelected",
    "OrderStatus",
    "Organizer",
    "PaymentStatus",
    "PaymentSummary",
    "PriceRule",
    "PricingError",
    "Quote",
    "QuoteLine",
    "RefundAmount",
    "RefundStatus",
    "RefundTransition",
    "RegistrationClosed",
    "RegistrationClosedReason",
    "RegistrationStatus",
    "RegistrationWindow",
    "Rounding",
    "Transition",
    "TransitionOutcome",
    "UnknownClass",
    "UnknownCurrency",
    "allowed_targets",
    "collects_approved_payment",
    "derive_order_status",
    "has_passed",
    "has_started",
    "is_before",
    "is_terminal",
    "price_registration",
    "quote_order",
    "refund_transition",
    "registration_status_for",
    "require_aware",
    "resolve_observed",
    "sum_money",
    "summarize",
    "transition",
    "unit_price",
]
