"""Builders for Billing's JSON objects, with exactly the keys of Stripe's examples (fixtures3.json).

Product, Price (and the legacy Plan a subscription item carries), Customer, Subscription and its
items and TestClock, shaped like the API version the SDK pins (2026-10-28): a subscription's
periods live on its items. Invoices and their parts are in billing_invoice_objects.py.
Builders are pure: ids and times come in as arguments; nothing here reads sandbox state.
"""

from __future__ import annotations

import secrets
from typing import Any

from .objects import JSON, list_object

DAY_S = 24 * 60 * 60


def product(
    *,
    prod_id: str,
    created: int,
    name: str,
    description: str | None,
    metadata: dict[str, str],
    active: bool,
) -> JSON:
    return {
        "id": prod_id,
        "object": "product",
        "active": active,
        "created": created,
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata,
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def price(
    *,
    price_id: str,
    created: int,
    product_id: str,
    currency: str,
    unit_amount: int,
    recurring: JSON | None,
    nickname: str | None,
    lookup_key: str | None,
    metadata: dict[str, str],
    active: bool,
) -> JSON:
    """A per-unit Price; `recurring` is `{"interval", "interval_count"}` or None (one-time)."""
    return {
        "id": price_id,
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "nickname": nickname,
        "product": product_id,
        "recurring": (
            None
            if recurring is None
            else {
                "interval": recurring["interval"],
                "interval_count": recurring["interval_count"],
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
        ),
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time" if recurring is None else "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan(price_obj: JSON) -> JSON:
    """The legacy Plan view of a recurring Price (subscription items still carry it)."""
    recurring = price_obj["recurring"] or {"interval": "month", "interval_count": 1}
    return {
        "id": price_obj["id"],
        "object": "plan",
        "active": price_obj["active"],
        "amount": price_obj["unit_amount"],
        "amount_decimal": price_obj["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price_obj["metadata"]),
        "meter": None,
        "nickname": price_obj["nickname"],
        "product": price_obj["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def customer(
    *,
    cus_id: str,
    created: int,
    email: str | None,
    name: str | None,
    description: str | None,
    phone: str | None,
    metadata: dict[str, str],
    test_clock: str | None,
) -> JSON:
    return {
        "id": cus_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": test_clock,
    }


def subscription_item(
    *, si_id: str, created: int, sub_id: str, price_obj: JSON, quantity: int, start: int, end: int
) -> JSON:
    return {
        "id": si_id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": end,
        "current_period_start": start,
        "discounts": [],
        "metadata": {},
        "plan": plan(price_obj),
        "price": dict(price_obj),
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def subscription(
    *,
    sub_id: str,
    created: int,
    customer_id: str,
    currency: str,
    items: list[JSON],
    collection_method: str,
    days_until_due: int | None,
    default_payment_method: str | None,
    description: str | None,
    metadata: dict[str, str],
    save_default_payment_method: str | None,
    test_clock: str | None,
) -> JSON:
    """A new Subscription in `incomplete`; the caller sets items' periods and latest_invoice."""
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": collection_method,
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": days_until_due,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": list_object(
            items, has_more=False, url=f"/v1/subscription_items?subscription={sub_id}"
        ),
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": save_default_payment_method or "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": "incomplete",
        "test_clock": test_clock,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def test_clock(*, clock_id: str, created: int, frozen_time: int, name: str | None) -> JSON:
    return {
        "id": clock_id,
        "object": "test_helpers.test_clock",
        "created": created,
        "deletes_after": created + 30 * DAY_S,
        "frozen_time": frozen_time,
        "livemode": False,
        "name": name,
        "status": "ready",
        "status_details": {},
    }


def deleted(obj_id: str, kind: str) -> dict[str, Any]:
    return {"id": obj_id, "object": kind, "deleted": True}
