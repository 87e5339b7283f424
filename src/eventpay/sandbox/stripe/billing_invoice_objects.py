"""Builders for invoice JSON: Invoice, its lines, InvoiceItem and InvoicePayment.

Keys as in Stripe's examples (fixtures3.json) for API version 2026-10-28: an invoice names its
PaymentIntent through the InvoicePayments listed in `payments` (and the includable
`confirmation_secret`), not `payment_intent`; its subscription is under `parent`. Pure: ids
and times come in as arguments.
"""

from __future__ import annotations

from .objects import JSON, list_object, new_id


def _pricing(unit_amount: int | None) -> JSON:
    return {
        "type": "price_details",
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    }


def line_item(
    *,
    il_id: str,
    invoice_id: str | None,
    amount: int,
    currency: str,
    description: str | None,
    period: tuple[int, int],
    quantity: int,
    unit_amount: int | None,
    metadata: dict[str, str],
    sub_id: str | None,
    si_id: str | None,
    ii_id: str | None,
    proration: bool,
) -> JSON:
    """An invoice line: from a subscription item (`si_id`) or from an invoice item (`ii_id`)."""
    if si_id is not None:
        parent: JSON = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": ii_id,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
                "subscription_item": si_id,
            },
            "type": "subscription_item_details",
        }
    else:
        parent = {
            "invoice_item_details": {
                "invoice_item": ii_id,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    return {
        "id": il_id,
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": metadata,
        "parent": parent,
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": _pricing(unit_amount),
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "subscription": sub_id,
        "subtotal": amount,
        "taxes": [],
    }


def invoice_item(
    *,
    ii_id: str,
    created: int,
    customer_id: str,
    amount: int,
    currency: str,
    description: str | None,
    quantity: int,
    unit_amount: int | None,
    metadata: dict[str, str],
    period: tuple[int, int],
    proration: bool,
    sub_id: str | None,
    test_clock: str | None,
) -> JSON:
    return {
        "id": ii_id,
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "date": created,
        "description": description,
        "discountable": True,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": metadata,
        "net_amount": amount,
        "parent": (
            None
            if sub_id is None
            else {"subscription_details": {"subscription": sub_id}, "type": "subscription_details"}
        ),
        "period": {"end": period[1], "start": period[0]},
        "pricing": _pricing(unit_amount),
        "proration": proration,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": test_clock,
    }


def invoice(
    *,
    in_id: str,
    created: int,
    customer_obj: JSON,
    currency: str,
    collection_method: str,
    billing_reason: str,
    auto_advance: bool,
    days_until_due: int | None,
    due_date: int | None,
    description: str | None,
    metadata: dict[str, str],
    sub_id: str | None,
    sub_metadata: dict[str, str] | None,
    period: tuple[int, int],
) -> JSON:
    """A new draft Invoice without lines; billing_invoices.py adds lines and totals."""
    del days_until_due
    parent = None
    if sub_id is not None:
        parent = {
            "quote_details": None,
            "subscription_details": {"metadata": sub_metadata or {}, "subscription": sub_id},
            "type": "subscription_details",
        }
    return {
        "id": in_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "EventPay Sandbox",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": auto_advance,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": collection_method,
        "created": created,
        "currency": currency,
        "custom_fields": None,
        "customer": customer_obj["id"],
        "customer_account": None,
        "customer_address": customer_obj["address"],
        "customer_email": customer_obj["email"],
        "customer_name": customer_obj["name"],
        "customer_phone": customer_obj["phone"],
        "customer_shipping": customer_obj["shipping"],
        "customer_tax_exempt": customer_obj["tax_exempt"],
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "due_date": due_date,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object([], has_more=False, url=f"/v1/invoices/{in_id}/lines"),
        "livemode": False,
        "metadata": metadata,
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subscription": None,
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": customer_obj["test_clock"],
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }


def invoice_payment(*, created: int, invoice_obj: JSON, pi_id: str) -> JSON:
    """The InvoicePayment linking an invoice to the PaymentIntent that pays it."""
    return {
        "id": new_id("inpay_"),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": invoice_obj["amount_remaining"],
        "created": created,
        "currency": invoice_obj["currency"],
        "invoice": invoice_obj["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"payment_intent": pi_id, "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
