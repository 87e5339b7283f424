"""Readiness probes: can we talk to a provider, with our credentials, right now?

Each probe makes the cheapest authenticated request the provider has and that our work needs
anyway, with a short timeout and no retries, so `/readyz` stays fast when a provider is down:

    Stripe  GET /v1/payment_intents?limit=1   the secret key and its PaymentIntent permission
    PayPal  POST /v1/oauth2/token              the client id and secret (a fresh token)

and says one of:

    ok             the provider answered 2xx
    misconfigured  the provider answered 401 or 403: our key, secret or permissions are wrong;
                   nothing will work until someone fixes the configuration
    unreachable    no answer in time, or one that is not the API's (5xx, 404, a proxy page)

Probes read nothing from the answer and never log a secret. They do not decide readiness; the
web layer does (the database alone decides it).
"""

from __future__ import annotations

from enum import StrEnum

import httpx

__all__ = ["ProviderStatus", "probe_paypal", "probe_stripe"]


class ProviderStatus(StrEnum):
    OK = "ok"
    UNREACHABLE = "unreachable"
    MISCONFIGURED = "misconfigured"


def _status_of(
    request: httpx.Request, timeout_s: float, auth: httpx.Auth | None = None
) -> ProviderStatus:
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as http:
            response = http.send(request, auth=auth)
    except httpx.HTTPError:
        return ProviderStatus.UNREACHABLE
    if response.is_success:
        return ProviderStatus.OK
    if response.status_code in (401, 403):
        return ProviderStatus.MISCONFIGURED
    return ProviderStatus.UNREACHABLE


def probe_stripe(*, api_base: str, secret_key: str, timeout_s: float) -> ProviderStatus:
    request = httpx.Request(
        "GET",
        api_base.rstrip("/") + "/v1/payment_intents",
        params={"limit": "1"},
        headers={"Authorization": f"Bearer {secret_key}"},
    )
    return _status_of(request, timeout_s)


def probe_paypal(
    *, api_base: str, client_id: str, client_secret: str, timeout_s: float
) -> ProviderStatus:
    request = httpx.Request(
        "POST",
        api_base.rstrip("/") + "/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Accept": "application/json"},
    )
    return _status_of(request, timeout_s, httpx.BasicAuth(client_id, client_secret))
