"""Stripe adapter: PaymentIntents through the official SDK's `StripeClient`.

The API base is configurable so the same code talks to Stripe, the project's sandbox or
localstripe. Every create carries an idempotency key derived from our payment attempt id, so a
retried create after a timeout returns the same PaymentIntent instead of making a second one.
A timeout, connection error, 409 or 5xx is `ProviderOutcomeUnknown`, never a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from eventpay.domain import Money, MoneyError, PaymentStatus
from eventpay.ports import (
    Capabilities,
    CreatePayment,
    PaymentUpdate,
    ProviderName,
    ProviderOutcomeUnknown,
    ProviderPayment,
    ProviderRefund,
    ProviderRefundStatus,
    ProviderRejected,
    RefundRequest,
    RefundUpdate,
)

# Stripe's PaymentIntent statuses mapped to our attempt states. `requires_payment_method` after
# a confirmation is a failed try (last_payment_error set); before any try it is just "created".
_STATUS = {
    "requires_confirmation": PaymentStatus.CREATED,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}

_EVENT_STATUS = {
    "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
    "payment_intent.payment_failed": PaymentStatus.FAILED,
    "payment_intent.requires_action": PaymentStatus.REQUIRES_ACTION,
    "payment_intent.processing": PaymentStatus.PROCESSING,
    "payment_intent.canceled": PaymentStatus.CANCELED,
}


def stripe_client(
    *, secret_key: str, api_base: str, timeout_s: float, max_network_retries: int = 0
) -> stripe.StripeClient:
    base = api_base.rstrip("/")
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": base, "connect": base, "files": base},
        max_network_retries=max_network_retries,
        http_client=stripe.HTTPXClient(timeout=timeout_s, allow_sync_methods=True),
    )


def _status_of(intent: Mapping[str, Any]) -> PaymentStatus:
    status = str(intent.get("status"))
    if status == "requires_payment_method":
        return PaymentStatus.FAILED if intent.get("last_payment_error") else PaymentStatus.CREATED
    return _STATUS.get(status, PaymentStatus.CREATED)


def _to_payment(intent: Mapping[str, Any]) -> ProviderPayment:
    error = intent.get("last_payment_error") or {}
    received = intent.get("amount_received")
    return ProviderPayment(
        provider_ref=str(intent["id"]),
        status=_status_of(intent),
        amount=Money(int(intent["amount"]), str(intent["currency"])),
        amount_received=int(received) if isinstance(received, int) else None,
        client_secret=intent.get("client_secret"),
        failure_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
        metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
        capture_id=_id_of(intent.get("latest_charge")),
    )


def _id_of(reference: Any) -> str | None:
    """The id of a referenced object (`latest_charge`, a refund's `charge`/`payment_intent`).

    Real Stripe sends an id; localstripe (and an expanded read) an object.
    """
    if isinstance(reference, dict):
        return str(reference["id"])
    return None if reference is None else str(reference)


def _refund_amount(refund: Mapping[str, Any]) -> Money | None:
    """The refund's `amount` (minor units) and `currency`; None when they are not usable."""
    amount, currency = refund.get("amount"), refund.get("currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        return None
    try:
        return Money(amount, currency)
    except MoneyError:
        return None


_REFUND_STATUS = {
    "pending": ProviderRefundStatus.PENDING,
    "requires_action": ProviderRefundStatus.PENDING,
    "succeeded": ProviderRefundStatus.SUCCEEDED,
    "failed": ProviderRefundStatus.FAILED,
    "canceled": ProviderRefundStatus.CANCELED,
}


def _translate(exc: stripe.StripeError) -> Exception:
    code = exc.code or type(exc).__name__
    message = exc.user_message or "Stripe refused the request"
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return ProviderOutcomeUnknown("provider_unreachable", "Stripe did not answer in time")
    status = exc.http_status or 0
    # 401/403: our key is wrong or was rotated; nothing happened at Stripe and a fixed
    # configuration will succeed, so it must not turn attempts or refunds into failures.
    if status >= 500 or status in (0, 401, 403, 409):
        return ProviderOutcomeUnknown("provider_error", f"Stripe answered {status}")
    return ProviderRejected(str(code), str(message))


class StripeProvider:
    name = ProviderName.STRIPE
    capabilities = Capabilities(
        partial_refund=True, payouts=True, disputes=True, client_confirmation=True
    )

    def __init__(
        self, client: stripe.StripeClient, *, omit_params: frozenset[str] = frozenset()
    ) -> None:
        # `omit_params` exists for localstripe, which rejects parameters real Stripe requires
        # us to send (automatic_payment_methods, description); production never sets it.
        self._client = client
        self._omit = omit_params

    def create_payment(self, request: CreatePayment) -> ProviderPayment:
        params: dict[str, Any] = {
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "automatic_payment_methods": {"enabled": True},
            "description": request.description,
            "metadata": dict(request.metadata),
        }
        for name in self._omit:
            params.pop(name, None)
        try:
            intent = self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from None
        return _to_payment(intent.to_dict())

    def retrieve_payment(self, provider_ref: str) -> ProviderPayment:
        try:
            intent = self._client.v1.payment_intents.retrieve(provider_ref)
        except stripe.StripeError as exc:
            raise _translate(exc) from None
        return _to_payment(intent.to_dict())

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        try:
            intent = self._client.v1.payment_intents.cancel(
                provider_ref, options={"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from None
        return _to_payment(intent.to_dict())

    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        # Intents are created with automatic capture: the money moved on confirmation.
        return self.retrieve_payment(provider_ref)

    def refund_payment(self, request: RefundRequest) -> ProviderRefund:
        params: dict[str, Any] = {
            "payment_intent": request.payment_provider_ref,
            "amount": request.amount.amount,
            "metadata": {"refund_id": request.refund_id, "reason": request.reason[:500]},
        }
        try:
            refund = self._client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            ).to_dict()
        except stripe.StripeError as exc:
            raise _translate(exc) from None
        return ProviderRefund(
            provider_refund_id=str(refund["id"]),
            status=_REFUND_STATUS.get(str(refund.get("status")), ProviderRefundStatus.PENDING),
            amount=Money(int(refund["amount"]), str(refund["currency"])),
            failure_reason=refund.get("failure_reason"),
        )

    def parse_refund_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> RefundUpdate | None:
        """`refund.created/updated/failed` (data.object is the refund); None for others.

        The refund names its `payment_intent` and `charge` and carries `amount` (minor units)
        and `currency`, whoever made it: ours also carry our id in `metadata.refund_id`.
        """
        if event_type not in ("refund.created", "refund.updated", "refund.failed"):
            return None
        refund = payload["data"]["object"]
        metadata = refund.get("metadata") or {}
        return RefundUpdate(
            provider_refund_id=str(refund["id"]),
            refund_id_hint=metadata.get("refund_id"),
            status=_REFUND_STATUS.get(str(refund.get("status")), ProviderRefundStatus.PENDING),
            failure_reason=refund.get("failure_reason"),
            payment_provider_ref=_id_of(refund.get("payment_intent")),
            capture_id=_id_of(refund.get("charge")),
            amount=_refund_amount(refund),
        )

    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None:
        """Reduce a Stripe event to a payment update; None for events that move no attempt."""
        status = _EVENT_STATUS.get(event_type)
        if status is None:
            return None
        intent = payload["data"]["object"]
        error = intent.get("last_payment_error") or {}
        metadata = intent.get("metadata") or {}
        received = intent.get("amount_received")
        return PaymentUpdate(
            provider_ref=str(intent["id"]),
            status=status,
            payment_id_hint=metadata.get("payment_id"),
            amount=Money(int(intent["amount"]), str(intent["currency"])),
            amount_received=int(received) if isinstance(received, int) else None,
            failure_code=error.get("decline_code") or error.get("code"),
            failure_message=error.get("message"),
            capture_id=_id_of(intent.get("latest_charge")),
        )
