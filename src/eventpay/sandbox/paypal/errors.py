"""Errors the PayPal sandbox answers with, in PayPal's JSON shape and with PayPal's statuses.

v2 APIs (orders, payments, invoicing) answer `{"name", "message", "debug_id", "details":
[{"issue", "description", "field"?, "value"?, "location"?}], "links": [information_link]}`;
v1 APIs (payouts, disputes, notifications, reporting) carry `information_link` beside the
details instead.
`name` and `message` are the fixed pairs of PayPal's specifications (`error_400`,
`error_422`, ...), and an issue's description is the text the specification enumerates for it,
so error bodies validate against the official schemas. OAuth failures use the OAuth shape
`{"error", "error_description"}` instead. Nothing here knows about HTTP frameworks or state.

    PayPalError                 base: status, name, message, issues, extra links
    ├── InvalidRequest          400 INVALID_REQUEST (malformed JSON, missing or invalid fields)
    ├── AuthenticationFailure   401 AUTHENTICATION_FAILURE (no Authorization header)
    ├── InvalidToken            401 {"error": "invalid_token"} (unknown or expired token)
    ├── ResourceNotFound        404 RESOURCE_NOT_FOUND / INVALID_RESOURCE_ID
    ├── UnprocessableEntity     422 UNPROCESSABLE_ENTITY (business rules, state conflicts)
    ├── BusinessError           400 with a v1 name (USER_BUSINESS_ERROR, VALIDATION_ERROR)
    ├── InternalServerError     500 INTERNAL_SERVER_ERROR (injected faults, sandbox bugs)
    └── InjectedError           403 NOT_AUTHORIZED, 409 RESOURCE_CONFLICT, 429
                                RATE_LIMIT_REACHED, 503 SERVICE_UNAVAILABLE...: only ever
                                armed as a `status` fault (`error_for_status`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DOCS = "https://developer.paypal.com/docs/api/"

# Descriptions exactly as PayPal's specifications enumerate them for each issue; the last two
# (invoicing) are not enumerated there and follow PayPal's invoicing error reference.
DESCRIPTIONS: dict[str, str] = {
    "MALFORMED_REQUEST_JSON": "The request JSON is not well formed.",
    "MISSING_REQUIRED_PARAMETER": "A required parameter is missing.",
    "INVALID_PARAMETER_VALUE": "A parameter value is not valid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_STRING_LENGTH": "The value of a field is either too short or too long",
    "INVALID_ARRAY_MAX_ITEMS": "The number of items in an array parameter is too large.",
    "INVALID_ARRAY_MIN_ITEMS": "The number of items in an array parameter is too small.",
    "INVALID_RESOURCE_ID": (
        "Specified resource ID does not exist. Please check the resource ID and try again."
    ),
    "AMOUNT_MISMATCH": (
        "Should equal item_total + tax_total + shipping + handling + insurance - "
        "shipping_discount - discount."
    ),
    "CANNOT_BE_NEGATIVE": (
        "Must be greater than or equal to 0. If the currency supports decimals, only two "
        "decimal place precision is supported."
    ),
    "CANNOT_BE_ZERO_OR_NEGATIVE": (
        "Must be greater than zero. If the currency supports decimals, only two decimal place "
        "precision is supported."
    ),
    "DECIMAL_PRECISION": (
        "If the currency supports decimals, only two decimal place precision is supported."
    ),
    "INVALID_CURRENCY_CODE": (
        "Currency code is invalid or is not currently supported. Please refer "
        "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported "
        "currency codes."
    ),
    "ITEM_TOTAL_MISMATCH": (
        "Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit."
    ),
    "ITEM_TOTAL_REQUIRED": (
        "If item details are specified (items.unit_amount and items.quantity) corresponding "
        "amount.breakdown.item_total is required."
    ),
    "MULTI_CURRENCY_ORDER": (
        "Multiple differing values of currency_code are not supported. Entire Order request "
        "must have the same currency_code."
    ),
    "UNSUPPORTED_INTENT": (
        "`intent=AUTHORIZE` is not supported for multiple purchase units. Only `intent=CAPTURE` "
        "is supported."
    ),
    "ORDER_NOT_APPROVED": (
        "Payer has not yet approved the Order for payment. Please redirect the payer to the "
        "'rel':'approve' url returned as part of the HATEOAS links within the Create Order call "
        "or provide a valid `payment_source` in the request."
    ),
    "ORDER_ALREADY_CAPTURED": (
        "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed."
    ),
    "INSTRUMENT_DECLINED": (
        "The instrument presented  was either declined by the processor or bank, or it can't be "
        "used for this payment."
    ),
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "REFUND_AMOUNT_EXCEEDED": (
        "The refund amount must be less than or equal to the capture amount that has not yet "
        "been refunded."
    ),
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture",
    "REFUND_NOT_ALLOWED": "Capture cannot be refunded.",
    "PENDING_CAPTURE": (
        "Cannot initiate a refund as the capture is pending. Capture is typically pending when "
        "the payer has funded the transaction using e-check/bank funded."
    ),
    "CANNOT_CANCEL_DRAFT_INVOICE": "Draft invoice cannot be canceled.",
    "CANNOT_CANCEL_PAID_INVOICE": "Cannot cancel a paid or partially paid invoice.",
    "INVOICE_CANCELED_ALREADY": "Invoice is already cancelled.",
    "DUPLICATE_INVOICE_NUMBER": "Invoice number already exists.",
    "INVOICE_ALREADY_SENT": "Invoice has already been sent.",
    "PERMISSION_DENIED": (
        "You do not have permission to access or perform operations on this resource."
    ),
    "PREVIOUS_REQUEST_IN_PROGRESS": (
        "A previous request on this resource is currently in progress. Please wait for "
        "sometime and try again. It is best to space out the initial and the subsequent "
        "request(s) to avoid receiving this error."
    ),
}

_FIXED = {
    400: (
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
    ),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to missing authorization header, or invalid authentication "
        "credentials.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: (
        "RESOURCE_CONFLICT",
        "The server has detected a conflict while processing this request.",
    ),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
    ),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error occurred."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
}
# The issue PayPal's specifications give each injected status, where they give one.
_INJECTED_ISSUES = {403: "PERMISSION_DENIED", 409: "PREVIOUS_REQUEST_IN_PROGRESS"}


@dataclass(frozen=True)
class ApiFamily:
    """Which PayPal API a route belongs to: decides the error dialect and documentation links."""

    doc_path: str
    v1: bool = False


ORDERS = ApiFamily("orders/v2")
PAYMENTS = ApiFamily("payments/v2")
INVOICING = ApiFamily("invoicing/v2")
PAYOUTS = ApiFamily("payments.payouts-batch/v1", v1=True)
DISPUTES = ApiFamily("customer-disputes/v1", v1=True)
NOTIFICATIONS = ApiFamily("webhooks/v1", v1=True)
REPORTING = ApiFamily("transaction-search/v1", v1=True)


@dataclass(frozen=True)
class Issue:
    """One entry of `details`; the description defaults to the specification's text."""

    issue: str
    field: str | None = None
    value: str | None = None
    location: str | None = "body"
    description: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"issue": self.issue}
        for key in ("field", "value", "location"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        description = self.description or DESCRIPTIONS.get(self.issue)
        if description is not None:
            out["description"] = description
        return out


def link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


class PayPalError(Exception):
    """An error answer; the gateway renders it with a debug id and the route's API family."""

    status = 400

    def __init__(
        self,
        *issues: Issue,
        links: Sequence[dict[str, str]] = (),
        name: str | None = None,
        message: str | None = None,
    ) -> None:
        fixed_name, fixed_message = _FIXED.get(self.status, ("ERROR", "An error occurred."))
        self.name = name or fixed_name
        self.message = message or fixed_message
        super().__init__(f"{self.name}: {', '.join(i.issue for i in issues) or self.message}")
        self.issues = issues
        self.links = list(links)

    def body(self, debug_id: str, family: ApiFamily) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "message": self.message, "debug_id": debug_id}
        if self.issues:
            out["details"] = [issue.to_json() for issue in self.issues]
        if family.v1:
            out["information_link"] = f"{DOCS}{family.doc_path}/#errors"
            out["links"] = list(self.links)
        else:
            anchor = self.issues[0].issue if self.issues else self.name
            info = link(f"{DOCS}{family.doc_path}/#error-{anchor}", "information_link")
            out["links"] = [info, *self.links]
        return out


class InvalidRequest(PayPalError):
    status = 400


class AuthenticationFailure(PayPalError):
    status = 401


class InvalidToken(PayPalError):
    """OAuth's own error shape, as PayPal sends it for an unknown or expired access token."""

    status = 401

    def __init__(self, description: str, error: str = "invalid_token") -> None:
        super().__init__()
        self.error = error
        self.description = description

    def body(self, debug_id: str, family: ApiFamily) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


class ResourceNotFound(PayPalError):
    status = 404

    def __init__(self, field: str, value: str, description: str | None = None) -> None:
        issue = Issue(
            "INVALID_RESOURCE_ID",
            field=field,
            value=value,
            location="path",
            description=description,
        )
        super().__init__(issue)


class UnprocessableEntity(PayPalError):
    status = 422


class BusinessError(PayPalError):
    """A v1-style 400 whose `name` says what went wrong (Payouts' USER_BUSINESS_ERROR...)."""

    status = 400


class InternalServerError(PayPalError):
    status = 500


class InjectedError(PayPalError):
    """PayPal's answer for a status armed as a fault; its status is per instance."""

    def __init__(self, status: int) -> None:
        self.status = status
        issue = _INJECTED_ISSUES.get(status)
        super().__init__(*(() if issue is None else (Issue(issue, location=None),)))


def error_for_status(status: int) -> PayPalError:
    """What PayPal answers with `status` (a `status` fault without a body of its own)."""
    if status == 401:
        return InvalidToken("Token signature verification failed")
    return InjectedError(status)


def missing(field: str) -> InvalidRequest:
    return InvalidRequest(Issue("MISSING_REQUIRED_PARAMETER", field=field))


def invalid(
    field: str, value: Any = None, issue: str = "INVALID_PARAMETER_VALUE"
) -> InvalidRequest:
    shown = None if value is None else str(value)[:200]
    return InvalidRequest(Issue(issue, field=field, value=shown))
