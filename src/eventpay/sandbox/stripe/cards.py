"""Stripe's documented test payment methods and what charging and refunding each of them does.

`pm_card_visa` and friends are shortcuts in real Stripe test mode: each use mints a new
`pm_...` PaymentMethod with that card's details. This module only describes the cards and the
outcome of charging and refunding them; minting and remembering PaymentMethods is the store's
job, carrying refunds out is refund_processing.py's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Outcome(enum.Enum):
    """What happens when a PaymentIntent is confirmed with the card."""

    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"


class RefundOutcome(enum.Enum):
    """What happens to a refund of a charge made with the card (Stripe's refund test cards)."""

    SUCCEED = "succeed"
    # `pm_card_pendingRefund`: the refund starts `pending` and succeeds some time later.
    PENDING_THEN_SUCCEED = "pending_then_succeed"
    # `pm_card_refundFail`: the refund starts `succeeded` and fails some time later.
    SUCCEED_THEN_FAIL = "succeed_then_fail"


@dataclass(frozen=True)
class Decline:
    """The card_error fields of a decline, as Stripe reports them."""

    code: str
    decline_code: str
    message: str
    seller_message: str


@dataclass(frozen=True)
class TestCard:
    """One test payment method token and the card behind it."""

    token: str
    brand: str
    last4: str
    outcome: Outcome
    funding: str = "credit"
    country: str = "US"
    decline: Decline | None = None
    note: str = ""
    refund: RefundOutcome = RefundOutcome.SUCCEED


_GENERIC = Decline(
    "card_declined",
    "generic_decline",
    "Your card was declined.",
    "The bank did not return any further details with this decline.",
)

TEST_CARDS: dict[str, TestCard] = {
    card.token: card
    for card in (
        TestCard("pm_card_visa", "visa", "4242", Outcome.SUCCEED, note="succeeds"),
        TestCard("pm_card_mastercard", "mastercard", "4444", Outcome.SUCCEED, note="succeeds"),
        TestCard(
            "pm_card_visa_debit", "visa", "5556", Outcome.SUCCEED, "debit", note="succeeds (debit)"
        ),
        TestCard(
            "pm_card_createDispute",
            "visa",
            "0259",
            Outcome.SUCCEED,
            note="succeeds (real Stripe disputes it later; the sandbox does not)",
        ),
        TestCard(
            "pm_card_pendingRefund",
            "visa",
            "7726",
            Outcome.SUCCEED,
            note="succeeds; a refund starts pending and succeeds shortly after",
            refund=RefundOutcome.PENDING_THEN_SUCCEED,
        ),
        TestCard(
            "pm_card_refundFail",
            "visa",
            "5126",
            Outcome.SUCCEED,
            note="succeeds; a refund starts succeeded and fails shortly after "
            "(expired_or_canceled_card)",
            refund=RefundOutcome.SUCCEED_THEN_FAIL,
        ),
        TestCard(
            "pm_card_authenticationRequired",
            "visa",
            "3184",
            Outcome.AUTHENTICATE,
            note="requires 3-D Secure, then succeeds or fails at the challenge page",
        ),
        TestCard(
            "pm_card_chargeDeclined",
            "visa",
            "0002",
            Outcome.DECLINE,
            decline=_GENERIC,
            note="declined: card_declined / generic_decline",
        ),
        TestCard(
            "pm_card_chargeCustomerFail",
            "visa",
            "0341",
            Outcome.DECLINE,
            decline=_GENERIC,
            note="declined: card_declined / generic_decline",
        ),
        TestCard(
            "pm_card_chargeDeclinedInsufficientFunds",
            "visa",
            "9995",
            Outcome.DECLINE,
            decline=Decline(
                "card_declined",
                "insufficient_funds",
                "Your card has insufficient funds.",
                "The bank returned the decline code `insufficient_funds`.",
            ),
            note="declined: card_declined / insufficient_funds",
        ),
        TestCard(
            "pm_card_chargeDeclinedFraudulent",
            "visa",
            "0019",
            Outcome.DECLINE,
            decline=Decline(
                "card_declined",
                "fraudulent",
                "Your card was declined.",
                "Stripe blocked this payment as too risky.",
            ),
            note="declined: card_declined / fraudulent",
        ),
        TestCard(
            "pm_card_chargeDeclinedExpiredCard",
            "visa",
            "0069",
            Outcome.DECLINE,
            decline=Decline(
                "expired_card",
                "expired_card",
                "Your card has expired.",
                "The bank returned the decline code `expired_card`.",
            ),
            note="declined: expired_card",
        ),
        TestCard(
            "pm_card_chargeDeclinedProcessingError",
            "visa",
            "0119",
            Outcome.DECLINE,
            decline=Decline(
                "processing_error",
                "processing_error",
                "An error occurred while processing your card. Try again in a little bit.",
                "The bank returned the decline code `processing_error`.",
            ),
            note="declined: processing_error",
        ),
    )
}

EXP_MONTH = 12
EXP_YEAR = 2034


def payment_method_object(pm_id: str, card: TestCard, created: int) -> dict[str, Any]:
    """The PaymentMethod object Stripe embeds in card errors (`error.payment_method`)."""
    return {
        "id": pm_id,
        "object": "payment_method",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": card.brand,
            "country": card.country,
            "exp_month": EXP_MONTH,
            "exp_year": EXP_YEAR,
            "funding": card.funding,
            "last4": card.last4,
        },
        "created": created,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }
