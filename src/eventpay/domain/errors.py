"""Errors the domain raises when a business rule refuses a request.

The hierarchy (each class carries a stable snake_case ``code`` that the web layer maps to an
HTTP status; codes are a contract, messages are for humans and may change)::

    DomainError                      domain_error
    ├── MoneyError                   money_error
    │   ├── UnknownCurrency          unknown_currency
    │   ├── CurrencyMismatch         currency_mismatch
    │   └── InvalidAmount            invalid_amount
    ├── CatalogError                 catalog_error
    │   ├── UnknownClass             unknown_class        (.class_id)
    │   ├── DuplicateClass           duplicate_class      (.class_id)
    │   ├── NoClassesSelected        no_classes_selected
    │   └── RegistrationClosed       registration_not_open | registration_closed  (.reason)
    ├── MembershipError              membership_error     (in membership_tiers: a tier not sold,
    │                                                      a free tier renewed, a change across
    │                                                      billing intervals)
    ├── PricingError                 pricing_error
    └── PromoError                   promo_error
        ├── InvalidPromoCode         invalid_promo_code   (.field: the input refused)
        └── PromoRefused             promo_refused        (.promo_code, normalized)
            ├── UnknownPromoCode         unknown_promo_code
            ├── PromoCodeNotYetValid     promo_code_not_yet_valid
            ├── PromoCodeExpired         promo_code_expired
            ├── PromoCodeNotApplicable   promo_code_not_applicable
            ├── PromoCodeUsedUp          promo_code_used_up
            └── PromoCodeLimitReached    promo_code_limit_reached   (this buyer's uses)

Only business refusals live here. A caller's programming mistake (a naive datetime, a ratio
list that is empty, an unknown time zone in catalog data) raises the built-in ``ValueError`` or
``TypeError`` instead, so that it surfaces as a bug rather than as a polite 4xx answer.
"""

# The class names are a published contract (other layers import them), so they keep their
# domain names instead of taking pep8-naming's "Error" suffix.

from __future__ import annotations

from typing import Literal

RegistrationClosedReason = Literal["not_yet_open", "closed"]

_REASON_CODES: dict[str, str] = {
    "not_yet_open": "registration_not_open",
    "closed": "registration_closed",
}


class DomainError(Exception):
    """Base of every business-rule refusal raised by ``eventpay.domain``."""

    code: str = "domain_error"

    @property
    def details(self) -> dict[str, str]:
        """Machine-readable context for the error body; empty unless a subclass adds some."""
        return {}


class MoneyError(DomainError):
    """A money value or money arithmetic was refused."""

    code = "money_error"


class UnknownCurrency(MoneyError):
    """The currency is not one of the ISO 4217 codes the platform supports."""

    code = "unknown_currency"

    def __init__(self, currency: object) -> None:
        self.currency = currency
        super().__init__(f"unknown currency: {currency!r}")

    @property
    def details(self) -> dict[str, str]:
        return {"currency": str(self.currency)}


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies met in one operation."""

    code = "currency_mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"currency mismatch: expected {expected}, got {actual}")

    @property
    def details(self) -> dict[str, str]:
        return {"expected": self.expected, "actual": self.actual}


class InvalidAmount(MoneyError):
    """An amount is of the wrong type, not exact in minor units, or out of range."""

    code = "invalid_amount"


class CatalogError(DomainError):
    """The buyer's selection does not fit the event catalog."""

    code = "catalog_error"


class UnknownClass(CatalogError):
    """The competition class id is not part of the event."""

    code = "unknown_class"

    def __init__(self, class_id: str) -> None:
        self.class_id = class_id
        super().__init__(f"unknown competition class: {class_id!r}")

    @property
    def details(self) -> dict[str, str]:
        return {"class_id": self.class_id}


class DuplicateClass(CatalogError):
    """The same competition class id appears twice where ids must be unique."""

    code = "duplicate_class"

    def __init__(self, class_id: str) -> None:
        self.class_id = class_id
        super().__init__(f"competition class given more than once: {class_id!r}")

    @property
    def details(self) -> dict[str, str]:
        return {"class_id": self.class_id}


class NoClassesSelected(CatalogError):
    """A registration must enter at least one competition class."""

    code = "no_classes_selected"

    def __init__(self, message: str = "select at least one competition class") -> None:
        super().__init__(message)


class RegistrationClosed(CatalogError):
    """Registration is refused outside the event's registration window.

    The code depends on the reason (``registration_not_open`` before the window,
    ``registration_closed`` after it), so it is set per instance; the class attribute is the
    code of the more common case.
    """

    code = "registration_closed"

    def __init__(self, reason: RegistrationClosedReason, event_id: str | None = None) -> None:
        if reason not in _REASON_CODES:
            raise ValueError(f"unknown registration-closed reason: {reason!r}")
        self.reason: RegistrationClosedReason = reason
        self.event_id = event_id
        self.code = _REASON_CODES[reason]
        when = "is not open yet" if reason == "not_yet_open" else "has closed"
        super().__init__(f"registration {when}")

    @property
    def details(self) -> dict[str, str]:
        found: dict[str, str] = {"reason": self.reason}
        if self.event_id is not None:
            found["event_id"] = self.event_id
        return found


class PricingError(DomainError):
    """An order could not be priced (for example, it has no lines)."""

    code = "pricing_error"


class PromoError(DomainError):
    """A promo code was refused: its terms when created, or its use on an order."""

    code = "promo_error"


class InvalidPromoCode(PromoError):
    """A promo code's text or terms are not acceptable; ``field`` names the input refused."""

    code = "invalid_promo_code"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)

    @property
    def details(self) -> dict[str, str]:
        return {"field": self.field}


class PromoRefused(PromoError):
    """A buyer's code cannot be used on this order; ``promo_code`` (normalized) names it."""

    code = "promo_refused"
    message = "promo code refused"

    def __init__(self, promo_code: str) -> None:
        self.promo_code = promo_code
        super().__init__(f"{self.message}: {promo_code!r}")

    @property
    def details(self) -> dict[str, str]:
        return {"promo_code": self.promo_code}


class UnknownPromoCode(PromoRefused):
    """No event of the order has this code (or its organizer disabled it)."""

    code = "unknown_promo_code"
    message = "unknown promo code"


class PromoCodeNotYetValid(PromoRefused):
    """The code's validity window has not started."""

    code = "promo_code_not_yet_valid"
    message = "promo code not valid yet"


class PromoCodeExpired(PromoRefused):
    """The code's validity window has ended."""

    code = "promo_code_expired"
    message = "promo code expired"


class PromoCodeNotApplicable(PromoRefused):
    """No line of the order is one the code discounts."""

    code = "promo_code_not_applicable"
    message = "promo code does not apply to this order"


class PromoCodeUsedUp(PromoRefused):
    """Every use of the code is taken (``max_uses``)."""

    code = "promo_code_used_up"
    message = "promo code used up"


class PromoCodeLimitReached(PromoRefused):
    """This buyer holds as many uses of the code as it allows (``max_uses_per_buyer``)."""

    code = "promo_code_limit_reached"
    message = "promo code limit reached for this buyer"
