"""Errors the Stripe sandbox answers with, in Stripe's own JSON shape and status codes.

Every failure a route can report is one of these; the gateway renders them as
`{"error": {"type", "code"?, "message", "param"?, "decline_code"?, ...}}`. Nothing here knows
about HTTP frameworks or state.

    StripeError                 base: status, type, code, message, param, extra fields
    ├── InvalidRequestError     400 invalid_request_error (state conflicts, bad combinations)
    │   ├── ParameterError      400, raised before the endpoint runs: idempotency does not keep it
    │   └── ResourceMissing     404 (path) or 400 (parameter) resource_missing, not kept
    ├── AuthenticationError     401 invalid_request_error (missing, invalid or publishable key)
    ├── CardError               402 card_error (declines), kept by idempotency like real Stripe
    ├── IdempotencyError        400 idempotency_error (same key, different parameters)
    ├── IdempotencyKeyInUse     409 invalid_request_error idempotency_key_in_use
    ├── PermissionError_        403 invalid_request_error (a key without the permission)
    ├── RateLimited             429 invalid_request_error rate_limit
    └── ApiError                500 api_error (injected faults)

`for_status` is the error Stripe answers with a given status, for injected `status` faults.
"""

from __future__ import annotations

from typing import Any

DOCS_ERROR_CODES = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An error answer; `stored` says whether an idempotency key remembers it (Stripe's rule)."""

    status = 400
    error_type = "invalid_request_error"
    stored = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON document Stripe sends for this error."""
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOCS_ERROR_CODES + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


class InvalidRequestError(StripeError):
    """The request was understood but cannot be carried out in the object's current state."""


class ParameterError(InvalidRequestError):
    """A parameter is missing, unknown or malformed."""

    # Stripe saves no idempotent result when incoming parameters fail validation.
    stored = False


class ResourceMissing(InvalidRequestError):
    """The id names nothing: 404 when it is in the path, 400 when a parameter carries it."""

    stored = False

    def __init__(self, kind: str, object_id: str, *, param: str | None = None) -> None:
        super().__init__(f"No such {kind}: '{object_id}'", code="resource_missing", param=param)
        self.status = 404 if param is None else 400


class AuthenticationError(StripeError):
    """No key, an unknown key, or a publishable key where a secret key is required."""

    status = 401
    stored = False


class CardError(StripeError):
    """The card was declined; the body carries the PaymentIntent as it is after the decline."""

    status = 402
    error_type = "card_error"


class IdempotencyError(StripeError):
    """An idempotency key was reused with different parameters or on another endpoint."""

    error_type = "idempotency_error"
    stored = False


class IdempotencyKeyInUse(StripeError):
    """A request with the same idempotency key is still being executed."""

    status = 409
    stored = False

    def __init__(self) -> None:
        super().__init__(
            "There is currently another in-progress request using this idempotency key. "
            "Please try again later.",
            code="idempotency_key_in_use",
        )


class ApiError(StripeError):
    """Something went wrong on the (emulated) Stripe side."""

    status = 500
    error_type = "api_error"
    stored = False


def unexpected_state(
    verb: str, participle: str, status: str, allowed: tuple[str, ...]
) -> InvalidRequestError:
    """Stripe's answer when an action is not allowed in the PaymentIntent's current status."""
    if status == "succeeded" and verb == "confirm":
        message = (
            "You cannot confirm this PaymentIntent because it has already succeeded after "
            "being previously confirmed."
        )
    else:
        message = (
            f"You cannot {verb} this PaymentIntent because it has a status of {status}. "
            f"Only a PaymentIntent with one of the following statuses may be {participle}: "
            f"{', '.join(allowed)}."
        )
    return InvalidRequestError(message, code="payment_intent_unexpected_state")


class PermissionError_(StripeError):  # noqa: N801 - the builtin PermissionError is another thing
    """The key is valid but may not do this (a restricted key without the permission)."""

    status = 403
    stored = False


class RateLimited(StripeError):
    """Too many requests; nothing was done."""

    status = 429
    stored = False

    def __init__(self) -> None:
        super().__init__(
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )


def for_status(status: int, masked_key: str) -> StripeError:
    """The error Stripe answers with `status` (an injected fault), naming the key masked."""
    if status == 401:
        return AuthenticationError(
            f"Invalid API Key provided: {masked_key}", code="api_key_invalid"
        )
    if status == 403:
        return PermissionError_(
            f"The provided key '{masked_key}' does not have the required permissions for this "
            "endpoint on account 'acct_sandbox'."
        )
    if status == 409:
        return IdempotencyKeyInUse()
    if status == 429:
        return RateLimited()
    if status >= 500:
        error: StripeError = ApiError("An unknown error occurred (fault injected by the sandbox).")
    else:
        error = InvalidRequestError("The request was refused (fault injected by the sandbox).")
    error.status = status
    return error
