"""The PayPal sandbox as the self-test reaches it: the test buyer's buttons and PayPal's books.

The buyer's side is the JSON twin of the approval page (`/_sandbox/orders/{token}/approve` or
`/cancel`, answering the URL PayPal sends the browser back to). PayPal's side is read the way
the merchant would read it, through the Orders API with an OAuth token of the service's own
client credentials, and through the sandbox's `/_sandbox/` books of events and deliveries.
Nothing here decides a scenario; the *_scenarios modules do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from eventpay.selftest.checks import ScenarioFailed, expect

Json = dict[str, Any]

APPROVED = "CHECKOUT.ORDER.APPROVED"


def token_of(approve_url: str) -> str:
    """The PayPal order id in an approve link (`/checkoutnow?token=...`)."""
    tokens = parse_qs(urlsplit(approve_url).query).get("token") or []
    if not tokens or not tokens[0]:
        raise ScenarioFailed(f"the approve_url names no PayPal order: {approve_url!r}")
    return tokens[0]


@dataclass
class PayPalSandbox:
    """The sandbox at `client.base_url`; `client_id` and `secret` are the service's own."""

    client: httpx.Client
    client_id: str
    secret: str
    _access_token: str | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return str(self.client.base_url).rstrip("/")

    # The buyer, and the test's hand on the next capture

    def approve(self, token: str) -> str:
        """Approve as the test buyer; returns where PayPal sends the browser back to."""
        return self._redirect(self.client.post(f"/_sandbox/orders/{token}/approve"), "approve")

    def cancel(self, token: str) -> str:
        """Press Cancel on the approval page; returns where PayPal sends the browser."""
        return self._redirect(self.client.post(f"/_sandbox/orders/{token}/cancel"), "cancel")

    def next_capture(self, token: str, status: str) -> None:
        """Make the order's next capture end `status` (DECLINED, PENDING)."""
        answer = self.client.post(
            f"/_sandbox/orders/{token}/capture-outcome", json={"status": status}
        )
        expect(answer, 200)

    def slow_next_capture(self, token: str, delay_s: float) -> None:
        """Hold the order's next capture call at PayPal for `delay_s`, its request id reserved:
        whoever else captures meanwhile waits for its answer, as at PayPal."""
        fault = {
            "path_prefix": f"/v2/checkout/orders/{token}/capture",
            "method": "POST",
            "mode": "delay",
            "delay_s": delay_s,
            "times": 1,
        }
        expect(self.client.post("/_sandbox/faults", json=fault), 201)

    def return_unclaimed(self, provider_item_id: str) -> None:
        """An UNCLAIMED payout item nobody claimed comes back (PayPal: after 30 days)."""
        expect(self.client.post(f"/_sandbox/payouts-item/{provider_item_id}/return"), 200)

    def _redirect(self, answer: httpx.Response, button: str) -> str:
        url = expect(answer, 200).get("redirect_url")
        if not isinstance(url, str) or not url:
            raise ScenarioFailed(f"PayPal's {button} sent the buyer nowhere (no redirect_url)")
        return url

    # PayPal's books, as the merchant reads them

    def order(self, token: str) -> Json:
        """The PayPal order with its captures (`purchase_units[0].payments.captures`)."""
        order: Json = expect(self.api("GET", f"/v2/checkout/orders/{token}"), 200)
        return order

    def captures(self, token: str) -> list[Json]:
        units = self.order(token).get("purchase_units") or [{}]
        captures: list[Json] = (units[0].get("payments") or {}).get("captures") or []
        return captures

    def api(self, method: str, path: str, json: Json | None = None) -> httpx.Response:
        """A call to PayPal's REST API with a bearer token of the service's client id."""
        if self._access_token is None:
            answer = self.client.post(
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self.secret),
            )
            self._access_token = str(expect(answer, 200).get("access_token"))
        headers = {"Authorization": f"Bearer {self._access_token}"}
        return self.client.request(method, path, json=json, headers=headers)

    # The sandbox's own books: events and their deliveries

    def event_about(self, event_type: str, token: str) -> Json | None:
        """The newest event of `event_type` about the PayPal order `token`, if any."""
        for event in expect(self.client.get("/_sandbox/events"), 200).get("data", []):
            resource = event.get("resource") or {}
            related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
            about = resource.get("id") if event_type == APPROVED else related.get("order_id")
            if event.get("event_type") == event_type and about == token:
                found: Json = event
                return found
        return None

    def resend(self, event_id: str, webhook_id: str | None = None) -> httpx.Response:
        body = {} if webhook_id is None else {"webhook_id": webhook_id}
        return self.client.post(f"/_sandbox/events/{event_id}/resend", json=body)

    def delivered(self, event_id: str, webhook_id: str) -> int:
        """How many deliveries of the event to the webhook were answered 2xx."""
        answer = self.client.get(
            "/_sandbox/deliveries", params={"event_id": event_id, "webhook_id": webhook_id}
        )
        return sum(1 for attempt in expect(answer, 200).get("data", []) if attempt["succeeded"])

    def calls_with_request_id(self) -> int:
        """POSTs PayPal has answered under a PayPal-Request-Id: first runs and replays."""
        counts = expect(self.client.get("/_sandbox/idempotency"), 200)
        return int(counts["request_ids"]) + int(counts["replays"])

    def subscribe(self, url: str, event_types: Sequence[str]) -> str:
        """A new webhook subscription at PayPal; returns its id (unsubscribe when done)."""
        body = {"url": url, "event_types": [{"name": name} for name in event_types]}
        hook = expect(self.api("POST", "/v1/notifications/webhooks", body), 201)
        return str(hook["id"])

    def unsubscribe(self, webhook_id: str) -> None:
        answer = self.api("DELETE", f"/v1/notifications/webhooks/{webhook_id}")
        if answer.status_code != 204:
            raise ScenarioFailed(f"could not delete webhook {webhook_id}: {answer.status_code}")
