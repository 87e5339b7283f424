"""The sandbox's two PayPal accounts: the merchant every API caller acts as, and the test buyer.

Every order is paid to the same merchant and approved by the same personal test account
(`sb-buyer@personal.example.com`), as in a PayPal developer sandbox with one business and one
personal account. Builders return fresh JSON for each use; nothing here holds state.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

MERCHANT_ID = "SBXMERCHANT2Z"  # matches PayPal's account id pattern ^[2-9A-HJ-NP-Z]{13}$
MERCHANT_EMAIL = "sb-merchant@business.example.com"
MERCHANT_NAME = "eventpay sandbox merchant"

BUYER_PAYER_ID = "QYR5Z8XDVJNXQ"
BUYER_EMAIL = "sb-buyer@personal.example.com"
BUYER_GIVEN_NAME = "Test"
BUYER_SURNAME = "Buyer"
BUYER_COUNTRY = "US"


def payee() -> JSON:
    return {"email_address": MERCHANT_EMAIL, "merchant_id": MERCHANT_ID}


def payer() -> JSON:
    """The order's `payer` once the test buyer approved it."""
    return {
        "name": {"given_name": BUYER_GIVEN_NAME, "surname": BUYER_SURNAME},
        "email_address": BUYER_EMAIL,
        "payer_id": BUYER_PAYER_ID,
        "address": {"country_code": BUYER_COUNTRY},
    }


def paypal_wallet() -> JSON:
    """`payment_source.paypal` once the test buyer approved the order."""
    return {
        "email_address": BUYER_EMAIL,
        "account_id": BUYER_PAYER_ID,
        "account_status": "VERIFIED",
        "name": {"given_name": BUYER_GIVEN_NAME, "surname": BUYER_SURNAME},
        "address": {"country_code": BUYER_COUNTRY},
    }


def dispute_buyer() -> JSON:
    return {"name": f"{BUYER_GIVEN_NAME} {BUYER_SURNAME}"}


def dispute_seller() -> JSON:
    return {"merchant_id": MERCHANT_ID, "name": MERCHANT_NAME, "email": MERCHANT_EMAIL}
