"""`MeteredProvider`: any provider adapter, with every call to the provider timed.

The composition root wraps each adapter once, so every use case's calls are measured alike
without any adapter or service knowing: `observe(provider, operation, outcome, seconds)` gets
the adapter method's name and what the call came to, in the terms of the ports' errors:

    ok             an answer
    rejected       `ProviderRejected`: a definite refusal
    misconfigured  `ProviderMisconfigured`: our credentials, permissions or setup
    unknown        `ProviderOutcomeUnknown` or anything else raised (a malformed answer)

The wrapper keeps `name` and `capabilities` and is otherwise transparent. The optional
protocols (`PayoutProvider`, `DisputeProvider`, `InvoiceProvider`) are reached through
attribute lookup: an adapter that does not implement one still has no such methods when
wrapped, so a check of `capabilities` or `hasattr` answers as it did for the bare adapter.
Methods that ask the provider nothing (`parse_event`, `refusal_for`, `amount_step`) are
delegated untimed.
Only timing lives here: nothing is retried, translated or decided.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from eventpay.domain import Money
from eventpay.ports import (
    CreatePayment,
    PaymentProvider,
    PaymentUpdate,
    ProviderMisconfigured,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    RefundRequest,
    RefundUpdate,
)

__all__ = ["OPTIONAL_CALLS", "MeteredProvider", "Observe", "outcome_of"]

Observe = Callable[[str, str, str, float], None]  # provider, operation, outcome, seconds
T = TypeVar("T")

# The methods of the optional capability protocols (ports.capabilities): each one a call.
OPTIONAL_CALLS = frozenset(
    {
        "create_payout",
        "get_payout",
        "list_disputes",
        "get_dispute",
        "provide_evidence",
        "accept_claim",
        "create_invoice",
        "send_invoice",
        "cancel_invoice",
        "get_invoice",
    }
)


def outcome_of(error: BaseException | None) -> str:
    """The outcome label of a call that raised `error` (None: it answered)."""
    if error is None:
        return "ok"
    if isinstance(error, ProviderMisconfigured):  # before its base class, outcome unknown
        return "misconfigured"
    if isinstance(error, ProviderRejected):
        return "rejected"
    return "unknown"


class MeteredProvider:
    """Delegates to `inner`, recording the duration and outcome of each provider call."""

    def __init__(self, inner: PaymentProvider, observe: Observe) -> None:
        self._inner = inner
        self._observe = observe
        self.name = inner.name
        self.capabilities = inner.capabilities

    def __repr__(self) -> str:
        return f"MeteredProvider({self._inner!r})"

    def _timed(self, operation: str, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            return call()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._observe(
                self.name.value, operation, outcome_of(error), time.perf_counter() - started
            )

    # Calls to the provider -------------------------------------------------------------

    def create_payment(self, request: CreatePayment) -> ProviderPayment:
        return self._timed("create_payment", lambda: self._inner.create_payment(request))

    def retrieve_payment(self, provider_ref: str) -> ProviderPayment:
        return self._timed("retrieve_payment", lambda: self._inner.retrieve_payment(provider_ref))

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        return self._timed(
            "cancel_payment",
            lambda: self._inner.cancel_payment(provider_ref, idempotency_key=idempotency_key),
        )

    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        return self._timed(
            "capture_payment",
            lambda: self._inner.capture_payment(provider_ref, idempotency_key=idempotency_key),
        )

    def refund_payment(self, request: RefundRequest) -> ProviderRefund:
        return self._timed("refund_payment", lambda: self._inner.refund_payment(request))

    def retrieve_refund(self, provider_refund_id: str) -> ProviderRefund:
        return self._timed(
            "retrieve_refund", lambda: self._inner.retrieve_refund(provider_refund_id)
        )

    def find_refunds(
        self, *, payment_provider_ref: str, capture_id: str | None
    ) -> Sequence[ProviderRefund]:
        return self._timed(
            "find_refunds",
            lambda: self._inner.find_refunds(
                payment_provider_ref=payment_provider_ref, capture_id=capture_id
            ),
        )

    def find_payment(self, *, payment_id: str) -> ProviderPayment | None:
        return self._timed("find_payment", lambda: self._inner.find_payment(payment_id=payment_id))

    # Local work: no provider is asked --------------------------------------------------

    def refusal_for(self, amount: Money) -> str | None:
        return self._inner.refusal_for(amount)

    def amount_step(self, currency: str) -> int:
        return self._inner.amount_step(currency)

    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None:
        return self._inner.parse_event(event_type, payload)

    def parse_refund_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> RefundUpdate | None:
        return self._inner.parse_refund_event(event_type, payload)

    # Everything else: optional capabilities timed, the rest (`close`, ...) as it is -------

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not found above. Private names are never forwarded: copy
        # and pickle probe them on an instance whose `_inner` may not be set yet.
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(self._inner, name)
        if name not in OPTIONAL_CALLS or not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def timed(*args: Any, **kwargs: Any) -> Any:
            return self._timed(name, lambda: attribute(*args, **kwargs))

        return timed
