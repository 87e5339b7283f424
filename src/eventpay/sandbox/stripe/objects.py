"""Builders for the JSON objects the sandbox returns, with exactly the keys Stripe's have.

The key sets follow Stripe's own example objects (fixtures3.json in the provider facts); a test
checks them key for key. Builders are pure: ids and timestamps come in as arguments or from
`new_id`; nothing here reads or writes sandbox state.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence
from typing import Any

from .cards import EXP_MONTH, EXP_YEAR, TestCard

API_VERSION = "2026-10-28.endive"
_ALPHABET = string.ascii_letters + string.digits

JSON = dict[str, Any]


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as `pi_3MtwBwLkdIwHu7ix28a3tqPa`."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def payment_intent(
    *,
    pi_id: str,
    created: int,
    amount: int,
    currency: str,
    automatic_payment_methods: JSON | None,
    description: str | None,
    metadata: dict[str, str],
    receipt_email: str | None,
    transfer_group: str | None,
    statement_descriptor: str | None,
    statement_descriptor_suffix: str | None,
    setup_future_usage: str | None,
    payment_method_types: Sequence[str],
    capture_method: str,
) -> JSON:
    """A new PaymentIntent in `requires_payment_method`."""
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": automatic_payment_methods,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{pi_id}_secret_{new_id('')}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": (
            {"id": "pmc_sandboxdefault", "parent": None} if automatic_payment_methods else None
        ),
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": list(payment_method_types),
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": setup_future_usage,
        "shipping": None,
        "source": None,
        "statement_descriptor": statement_descriptor,
        "statement_descriptor_suffix": statement_descriptor_suffix,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": transfer_group,
    }


def _address() -> JSON:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return dict.fromkeys(keys)


def _card_details(card: TestCard, amount: int, three_d_secure: bool) -> JSON:
    return {
        "amount_authorized": amount,
        "authorization_code": None,
        "brand": card.brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": card.country,
        "exp_month": EXP_MONTH,
        "exp_year": EXP_YEAR,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": "Sbx" + card.last4 + card.brand[:4],
        "funding": card.funding,
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": card.last4,
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": card.brand,
        "network_token": {"used": False},
        "network_transaction_id": new_id("", 15),
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": (
            {
                "authentication_flow": "challenge",
                "electronic_commerce_indicator": "05",
                "exemption_indicator": None,
                "result": "authenticated",
                "result_reason": None,
                "transaction_id": new_id("", 32),
                "version": "2.2.0",
            }
            if three_d_secure
            else None
        ),
        "transaction_link_id": None,
        "wallet": None,
    }


def charge(
    *,
    ch_id: str,
    created: int,
    intent: JSON,
    pm_id: str,
    card: TestCard,
    succeeded: bool,
    three_d_secure: bool,
) -> JSON:
    """The Charge a confirmation attempt created: `succeeded` or `failed` with the decline."""
    amount = int(intent["amount"])
    decline = None if succeeded else card.decline
    outcome = {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network" if succeeded else "declined_by_network",
        "reason": decline.decline_code if decline else None,
        "seller_message": decline.seller_message if decline else "Payment complete.",
        "type": "authorized" if succeeded else "issuer_declined",
    }
    return {
        "id": ch_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": new_id("txn_") if succeeded else None,
        "billing_details": {
            "address": _address(),
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "EVENTPAY SANDBOX",
        "captured": succeeded,
        "created": created,
        "currency": intent["currency"],
        "customer": None,
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": succeeded,
        "payment_intent": intent["id"],
        "payment_method": pm_id,
        "payment_method_details": {
            "card": _card_details(card, amount, three_d_secure),
            "type": "card",
        },
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/charges/{ch_id}/refunds",
        },
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": intent["statement_descriptor"],
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": "succeeded" if succeeded else "failed",
        "transfer_data": None,
        "transfer_group": intent["transfer_group"],
    }


def refund(
    *,
    re_id: str,
    created: int,
    charge: JSON,
    amount: int,
    status: str,
    reason: str | None,
    metadata: dict[str, str],
) -> JSON:
    """A new Refund of `charge`, with exactly the keys of Stripe's example object.

    `failure_reason` and `failure_balance_transaction` are added only if it fails, as in Stripe's
    responses.
    """
    return {
        "id": re_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_"),
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "destination_details": {
            # A card refund right after the charge is a reversal; `pending` while it waits.
            "card": {"type": "pending" if status == "pending" else "reversal"},
            "type": "card",
        },
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "payment_method": None,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def event(
    *,
    evt_id: str,
    created: int,
    event_type: str,
    snapshot: JSON,
    pending_webhooks: int,
    request_id: str | None,
    idempotency_key: str | None,
    previous_attributes: JSON | None = None,
) -> JSON:
    """An Event carrying a snapshot of the object as it was when the event happened.

    Stripe adds `data.previous_attributes` (the changed fields' old values) to `*.updated` events.
    """
    data: JSON = {"object": snapshot}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": evt_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }


def webhook_endpoint(
    *,
    we_id: str,
    created: int,
    url: str,
    enabled_events: Sequence[str],
    description: str | None,
    metadata: dict[str, str],
    api_version: str | None,
) -> JSON:
    """A WebhookEndpoint as retrieve and list return it (the secret is only shown at creation)."""
    return {
        "id": we_id,
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": created,
        "description": description,
        "enabled_events": list(enabled_events),
        "livemode": False,
        "metadata": metadata,
        "status": "enabled",
        "url": url,
    }


def list_object(data: list[JSON], *, has_more: bool, url: str) -> JSON:
    """Stripe's list envelope."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
