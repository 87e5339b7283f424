"""PayPal adapter: Orders v2 payments, captures and refunds over PayPal's REST API with httpx.

`PayPalProvider` implements `PaymentProvider` and, by delegating to one module per concept,
`PayoutProvider` (paypal_payouts), `DisputeProvider` (paypal_disputes) and `InvoiceProvider`
(paypal_invoicing). The order shapes and the status table live in paypal_orders, event
parsing in paypal_events, tokens in paypal_auth, and error translation in paypal_http.

A PayPal payment is an order the buyer approves at PayPal and we then capture:

- `create_payment` makes an order with PayPal-Request-Id = the attempt's key (a retry after a
  lost answer gets the same order), and returns the link the buyer approves at.
- `capture_payment` captures it with PayPal-Request-Id = the capture key. The service sends
  the SAME key from every caller (the buyer's return, the webhook, the janitor), so PayPal
  makes one capture and replays it to the others. An order captured under another key answers
  ORDER_ALREADY_CAPTURED: that is success, so the order is read and returned. A refused
  instrument is a FAILED attempt, not an error.
- `cancel_payment` cannot cancel: PayPal has no API to void a CAPTURE-intent order. An order
  nobody captures simply expires at PayPal, so "cancel" means "we never capture it", which is
  the core's decision; the adapter only reports the order's current state.
- `refund_payment` refunds (part of) a capture, with our refund id as its `custom_id`;
  `retrieve_refund` reads one; `find_refunds` lists a payment's refunds from its order (PayPal
  has no list per capture) so the core can adopt one made by a request whose key expired.
- `find_payment` finds nothing: PayPal orders cannot be searched by our metadata, and an order
  created again after its key expired moves no money until we capture it, so
  `payment_lookup` is off.
- `refusal_for` says, before any call, which amounts PayPal cannot take (paypal_money's table).

Capabilities say exactly what is implemented (a test calls each). `idempotency_window` is the
shortest PayPal-Request-Id lifetime of what the core re-sends: Orders v2 "stores keys for 6
hours" (create, capture); Payments v2 keeps refund keys 45 days.

No database, no decisions: every method returns what PayPal says, mapped to our values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from eventpay.domain import Money, PaymentStatus
from eventpay.domain.reconciliation import Movement
from eventpay.ports import (
    Capabilities,
    CreatePayment,
    Dispute,
    Invoice,
    InvoiceDraft,
    PaymentUpdate,
    PayoutBatch,
    PayoutItem,
    PayoutItemUpdate,
    ProviderName,
    ProviderPayment,
    ProviderRefund,
    ProviderRejected,
    RefundRequest,
    RefundUpdate,
)
from eventpay.providers.paypal_disputes import PayPalDisputes
from eventpay.providers.paypal_events import (
    capture_id_of_refund,
    parse_event,
    parse_refund_event,
)
from eventpay.providers.paypal_http import PayPalApi, PayPalRejected, reading
from eventpay.providers.paypal_invoicing import PayPalInvoicing
from eventpay.providers.paypal_money import UnsupportedAmount, amount_step, refusal
from eventpay.providers.paypal_orders import order_request, payment_from_order
from eventpay.providers.paypal_payout_events import parse_payout_event
from eventpay.providers.paypal_payouts import PayPalPayouts
from eventpay.providers.paypal_refunds import (
    is_complete,
    refund_from,
    refund_request,
    refunds_of_order,
)
from eventpay.providers.paypal_reporting import PayPalReporting, to_organizer_movement
from eventpay.providers.paypal_reporting import to_movement as reported_movement

__all__ = ["PayPalProvider"]

ORDERS_PATH = "/v2/checkout/orders"
CAPTURES_PATH = "/v2/payments/captures"
REFUNDS_PATH = "/v2/payments/refunds"

# Capture refusals that are the buyer's funding failing: the attempt FAILED (the buyer may pay
# again with a new attempt). Any other 422 means nothing happened and is raised as rejected.
_DECLINES = frozenset(
    {
        "INSTRUMENT_DECLINED",
        "TRANSACTION_REFUSED",
        "PAYER_CANNOT_PAY",
        "PAYER_ACCOUNT_RESTRICTED",
        "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",
        "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED",
        "TRANSACTION_LIMIT_EXCEEDED",
        "DECLINED_DUE_TO_RELATED_TXN",
        "COMPLIANCE_VIOLATION",
    }
)


class PayPalProvider:
    name = ProviderName.PAYPAL
    capabilities = Capabilities(
        partial_refund=True,
        payouts=True,
        disputes=True,
        client_confirmation=False,
        invoicing=True,
        payment_lookup=False,
        reconciliation=True,
        # Orders v2 keeps a PayPal-Request-Id 6 hours (create, capture); refunds 45 days.
        idempotency_window=timedelta(hours=6),
    )

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str,
        timeout_s: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.api = PayPalApi(
            client_id=client_id,
            client_secret=client_secret,
            api_base=api_base,
            timeout_s=timeout_s,
            http=http,
        )
        self._payouts = PayPalPayouts(self.api)
        self._disputes = PayPalDisputes(self.api)
        self._invoicing = PayPalInvoicing(self.api)

    def __repr__(self) -> str:
        return f"PayPalProvider(api_base={self.api.api_base!r})"

    def close(self) -> None:
        self.api.close()

    # Reconciliation ---------------------------------------------------------------------

    def movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        """PayPal's transaction search: captures and refunds in [since, until)."""
        for transaction in PayPalReporting(self.api).transactions(start=since, end=until):
            movement = reported_movement(transaction)
            if movement is not None and transaction.time < until:
                yield movement

    def organizer_movements(self, *, since: datetime, until: datetime) -> Iterator[Movement]:
        """PayPal's transaction search: payout items and their returns in [since, until)."""
        for transaction in PayPalReporting(self.api).transactions(start=since, end=until):
            movement = to_organizer_movement(transaction)
            if movement is not None and transaction.time < until:
                yield movement

    # Payments ---------------------------------------------------------------------------

    def refusal_for(self, amount: Money) -> str | None:
        return refusal(amount)

    def amount_step(self, currency: str) -> int:
        return amount_step(currency)

    def create_payment(self, request: CreatePayment) -> ProviderPayment:
        _refuse_unless_representable(request.amount)
        order = self.api.call(
            "POST",
            ORDERS_PATH,
            json=order_request(request),
            request_id=request.idempotency_key,
            representation=True,
        )
        return self._payment(order)

    def retrieve_payment(self, provider_ref: str) -> ProviderPayment:
        order = self.api.call("GET", f"{ORDERS_PATH}/{provider_ref}")
        with reading("order"):
            return payment_from_order(order)

    def cancel_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        # No void for CAPTURE orders (see the module docstring): report the state as it is.
        return self.retrieve_payment(provider_ref)

    def capture_payment(self, provider_ref: str, *, idempotency_key: str) -> ProviderPayment:
        try:
            order = self.api.call(
                "POST",
                f"{ORDERS_PATH}/{provider_ref}/capture",
                json={},
                request_id=idempotency_key,
                representation=True,
            )
        except PayPalRejected as exc:
            if exc.code == "ORDER_ALREADY_CAPTURED":
                return self.retrieve_payment(provider_ref)
            if exc.code in _DECLINES:
                return _declined(self.retrieve_payment(provider_ref), exc)
            raise
        return self._payment(order)

    def refund_payment(self, request: RefundRequest) -> ProviderRefund:
        _refuse_unless_representable(request.amount)
        capture_id = request.capture_id or self._capture_of(request.payment_provider_ref)
        refund = self.api.call(
            "POST",
            f"{CAPTURES_PATH}/{capture_id}/refund",
            json=refund_request(request),
            request_id=request.idempotency_key,
            representation=True,
        )
        if not is_complete(refund) and isinstance(refund.get("id"), str) and refund["id"]:
            # `Prefer` is a preference: a minimal answer is read again in full.
            return self.retrieve_refund(refund["id"])
        with reading("refund"):
            return refund_from(refund)

    def retrieve_refund(self, provider_refund_id: str) -> ProviderRefund:
        refund = self.api.call("GET", f"{REFUNDS_PATH}/{provider_refund_id}")
        with reading("refund"):
            return refund_from(refund)

    def find_refunds(
        self, *, payment_provider_ref: str, capture_id: str | None
    ) -> Sequence[ProviderRefund]:
        """The refunds the order shows (PayPal lists none per capture); of `capture_id` only,
        when given, for a refund that names its capture."""
        order = self.api.call("GET", f"{ORDERS_PATH}/{payment_provider_ref}")
        with reading("order's refunds"):
            return [
                refund_from(refund)
                for refund in refunds_of_order(order)
                if capture_id is None or capture_id_of_refund(refund) in (None, capture_id)
            ]

    def find_payment(self, *, payment_id: str) -> ProviderPayment | None:
        # Orders cannot be searched (see the module docstring): `payment_lookup` is off.
        return None

    def parse_event(self, event_type: str, payload: Mapping[str, Any]) -> PaymentUpdate | None:
        """Reduce a verified PayPal event to a payment update (see paypal_events)."""
        return parse_event(event_type, payload)

    def parse_refund_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> RefundUpdate | None:
        return parse_refund_event(event_type, payload)

    def _payment(self, order: Mapping[str, Any]) -> ProviderPayment:
        """The answer to a create or capture; read in full when PayPal answered minimally
        (`Prefer` is a preference: a minimal order has no amount to map)."""
        units = order.get("purchase_units")
        complete = isinstance(units, list) and bool(units) and "amount" in units[0]
        if not complete and isinstance(order.get("id"), str):
            return self.retrieve_payment(order["id"])
        with reading("order"):
            return payment_from_order(order)

    def _capture_of(self, provider_ref: str) -> str:
        payment = self.retrieve_payment(provider_ref)
        if payment.capture_id is None:
            raise ProviderRejected("not_captured", "The PayPal order has no capture to refund")
        return payment.capture_id

    # Payouts, disputes, invoices: see their modules ----------------------------------------

    def create_payout(
        self, *, batch_id: str, items: Sequence[PayoutItem], email_subject: str
    ) -> PayoutBatch:
        return self._payouts.create_payout(
            batch_id=batch_id, items=items, email_subject=email_subject
        )

    def get_payout(self, provider_batch_id: str) -> PayoutBatch:
        return self._payouts.get_payout(provider_batch_id)

    # PayPal refuses a second batch with the same sender_batch_id, and replays the first for
    # the same PayPal-Request-Id, for 30 days.
    payout_key_window = timedelta(days=30)

    def get_payout_item(self, provider_item_id: str) -> PayoutItemUpdate:
        return self._payouts.get_payout_item(provider_item_id)

    def parse_payout_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> PayoutItemUpdate | None:
        update = parse_payout_event(event_type, payload)
        return update if isinstance(update, PayoutItemUpdate) else None

    def list_disputes(self) -> Sequence[Dispute]:
        return self._disputes.list_disputes()

    def get_dispute(self, dispute_id: str) -> Dispute:
        return self._disputes.get_dispute(dispute_id)

    def provide_evidence(self, dispute_id: str, *, note: str, idempotency_key: str) -> Dispute:
        return self._disputes.provide_evidence(
            dispute_id, note=note, idempotency_key=idempotency_key
        )

    def accept_claim(self, dispute_id: str, *, note: str, idempotency_key: str) -> Dispute:
        return self._disputes.accept_claim(dispute_id, note=note, idempotency_key=idempotency_key)

    def create_invoice(self, draft: InvoiceDraft, *, idempotency_key: str) -> Invoice:
        return self._invoicing.create_invoice(draft, idempotency_key=idempotency_key)

    def send_invoice(self, invoice_id: str, *, idempotency_key: str) -> Invoice:
        return self._invoicing.send_invoice(invoice_id, idempotency_key=idempotency_key)

    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> Invoice:
        return self._invoicing.cancel_invoice(invoice_id, idempotency_key=idempotency_key)

    def get_invoice(self, invoice_id: str) -> Invoice:
        return self._invoicing.get_invoice(invoice_id)


def _refuse_unless_representable(amount: Money) -> None:
    why = refusal(amount)
    if why is not None:
        raise UnsupportedAmount(amount, why)


def _declined(order: ProviderPayment, refusal: PayPalRejected) -> ProviderPayment:
    """The order as read after PayPal refused the buyer's funding: a failed attempt."""
    if order.status is PaymentStatus.SUCCEEDED:
        return order  # captured meanwhile by another caller: the money is there
    return ProviderPayment(
        provider_ref=order.provider_ref,
        status=PaymentStatus.FAILED,
        amount=order.amount,
        approve_url=order.approve_url,
        failure_code=refusal.code,
        failure_message=refusal.message,
        metadata=order.metadata,
        capture_id=order.capture_id,
    )
