"""Builders for Connect accounts, their bank account and account links, with Stripe's keys.

An Express account starts as Stripe creates one: nothing submitted, charges and payouts
disabled, capabilities `inactive`, the onboarding fields `currently_due`. `onboarded` gives the
fields Stripe changes once the organizer finishes onboarding. Pure: ids and timestamps come in as
arguments; the key sets follow fixtures3.json (checked by a test).
"""

from __future__ import annotations

from typing import Any

from .objects import JSON, list_object

# What Stripe asks a new US Express account for before it may take charges and payouts.
ONBOARDING_DUE = [
    "business_profile.mcc",
    "business_profile.url",
    "external_account",
    "individual.dob.day",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def _requirements(due: list[str]) -> JSON:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _address() -> JSON:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def _business_profile(given: dict[str, Any]) -> JSON:
    return {
        "annual_revenue": {"amount": None, "currency": None, "fiscal_year_end": None},
        "estimated_worker_count": None,
        "mcc": given.get("mcc"),
        "minority_owned_business_designation": None,
        "name": given.get("name"),
        "product_description": given.get("product_description"),
        "support_address": _address(),
        "support_email": given.get("support_email"),
        "support_phone": None,
        "support_url": None,
        "url": given.get("url"),
    }


def _settings(country: str) -> JSON:
    return {
        "bacs_debit_payments": {"display_name": None, "service_user_number": None},
        "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
        "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
        "card_payments": {
            "decline_on": {"avs_failure": False, "cvc_failure": False},
            "statement_descriptor_prefix": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": None},
        "payments": {
            "statement_descriptor": None,
            "statement_descriptor_kana": None,
            "statement_descriptor_kanji": None,
            "statement_descriptor_prefix_kana": None,
            "statement_descriptor_prefix_kanji": None,
        },
        "payouts": {
            "debit_negative_balances": True,
            "schedule": {"delay_days": 2, "interval": "manual"},
            "statement_descriptor": None,
        },
        "sepa_debit_payments": {},
    }


def account(
    *,
    acct_id: str,
    created: int,
    country: str,
    email: str | None,
    business_type: str | None,
    business_profile: dict[str, Any],
    default_currency: str,
    capabilities: list[str],
    metadata: dict[str, str],
) -> JSON:
    """A new Express account that has not been onboarded yet."""
    return {
        "id": acct_id,
        "object": "account",
        "business_profile": _business_profile(business_profile),
        "business_type": business_type,
        "capabilities": dict.fromkeys(capabilities, "inactive"),
        "charges_enabled": False,
        "controller": {
            "fees": {"payer": "application_express"},
            "is_controller": True,
            "losses": {"payments": "application"},
            "requirement_collection": "stripe",
            "stripe_dashboard": {"type": "express"},
            "type": "application",
        },
        "country": country,
        "created": created,
        "default_currency": default_currency,
        "details_submitted": False,
        "email": email,
        "external_accounts": list_object(
            [], has_more=False, url=f"/v1/accounts/{acct_id}/external_accounts"
        ),
        "future_requirements": _requirements([]),
        "metadata": metadata,
        "payouts_enabled": False,
        "requirements": _requirements(ONBOARDING_DUE),
        "settings": _settings(country),
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "express",
    }


def bank_account(*, ba_id: str, acct_id: str, country: str, currency: str) -> JSON:
    """The test bank account onboarding attaches (Stripe's test routing number 110000000)."""
    return {
        "id": ba_id,
        "object": "bank_account",
        "account_holder_name": None,
        "account_holder_type": None,
        "account_type": None,
        "bank_name": "STRIPE TEST BANK",
        "country": country,
        "currency": currency,
        "customer": None,
        "fingerprint": "Sbx" + acct_id[-13:],
        "last4": "6789",
        "metadata": {},
        "routing_number": "110000000",
        "status": "new",
    }


def state_fields(
    *,
    charges_enabled: bool,
    payouts_enabled: bool,
    due: list[str],
    details_submitted: bool,
    capabilities: list[str],
) -> JSON:
    """The fields onboarding (or a test control) changes, for a given outcome."""
    return {
        "capabilities": dict.fromkeys(capabilities, "active" if charges_enabled else "inactive"),
        "charges_enabled": charges_enabled,
        "details_submitted": details_submitted,
        "payouts_enabled": payouts_enabled,
        "requirements": _requirements(due),
    }


def account_link(*, created: int, expires_at: int, url: str) -> JSON:
    return {"object": "account_link", "created": created, "expires_at": expires_at, "url": url}
