"""The one classification of what a Stripe call can end in, as the ports' error tree.

    raised by the SDK                          ours (class, code)
    APIConnectionError (timeout, refused)      ProviderOutcomeUnknown   provider_unreachable
    AuthenticationError (401)                  ProviderMisconfigured    provider_misconfigured
    PermissionError (403)                      ProviderMisconfigured    provider_misconfigured
    RateLimitError (429, or 400 rate_limit)    ProviderOutcomeUnknown   provider_busy
    any 409 (idempotency_key_in_use)           ProviderOutcomeUnknown   provider_busy
    IdempotencyError (key, other params)       ProviderOutcomeUnknown   idempotency_key_reused
    any 5xx, or no status at all               ProviderOutcomeUnknown   provider_error
    any 2xx the SDK could not read             ProviderOutcomeUnknown   provider_malformed_answer
    CardError (402, a decline)                 ProviderRejected         Stripe's error code
    InvalidRequestError and other 4xx          ProviderRejected         Stripe's error code

Only a refusal Stripe documents (a decline, `charge_already_refunded`, `amount_too_large`, a
missing object...) is a definite answer; Stripe did nothing and never will for that request.
A wrong or rotated key and a missing permission say nothing about money: the call succeeds
once the configuration is fixed. An idempotency error means this key was first used with other
parameters: what that first request did is unknown here, so it is never a refusal.
Messages never carry key material: Stripe's 401/403 messages echo the (masked) key, so they are
replaced. A 2xx answer without the fields we need is `malformed` (never a KeyError).
"""

from __future__ import annotations

import stripe

from eventpay.ports import (
    ProviderError,
    ProviderMisconfigured,
    ProviderOutcomeUnknown,
    ProviderRejected,
)

MALFORMED = "provider_malformed_answer"


def malformed(what: str) -> ProviderOutcomeUnknown:
    """A 2xx answer we cannot read: the call may well have taken effect."""
    return ProviderOutcomeUnknown(MALFORMED, f"Stripe's answer could not be read: {what}")


def translate(exc: stripe.StripeError) -> ProviderError:
    """Our error for one the SDK raised; see the module's table."""
    status = exc.http_status or 0
    if isinstance(exc, stripe.APIConnectionError):
        return ProviderOutcomeUnknown("provider_unreachable", "Stripe did not answer in time")
    if isinstance(exc, stripe.AuthenticationError) or status == 401:
        return ProviderMisconfigured(
            "provider_misconfigured",
            "Stripe refused our API key (401): check the configured Stripe secret key",
        )
    if isinstance(exc, stripe.PermissionError) or status == 403:
        return ProviderMisconfigured(
            "provider_misconfigured",
            "Stripe says our API key may not make this request (403): check the key's permissions",
        )
    if isinstance(exc, stripe.RateLimitError) or status in (409, 429):
        return ProviderOutcomeUnknown("provider_busy", f"Stripe asked us to retry later ({status})")
    if isinstance(exc, stripe.IdempotencyError):
        return ProviderOutcomeUnknown(
            "idempotency_key_reused",
            "Stripe saw this idempotency key with other parameters; its first use is unknown here",
        )
    if 200 <= status < 300:
        return malformed(f"HTTP {status} with a body the SDK could not parse")
    if status >= 500 or status < 400:
        return ProviderOutcomeUnknown("provider_error", f"Stripe answered {status}")
    code = exc.code or type(exc).__name__
    message = exc.user_message or "Stripe refused the request"
    return ProviderRejected(str(code), str(message))
