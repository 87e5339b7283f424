"""Builders for the money-movement objects: balance transactions, transfers, fees, payouts.

Connect accounts and account links, transfers and their reversals, application fees and their
refunds, balance transactions, payouts and the balance, each with exactly the keys of Stripe's
example object (fixtures3.json; a test checks them key for key). Pure like objects.py: ids and
timestamps come in as arguments; nothing here reads or writes sandbox state.
"""

from __future__ import annotations

from typing import Any

from .objects import JSON, list_object

# The Connect application the sandbox platform is, as Stripe names it on application fees.
APPLICATION = "ca_sandboxplatform0000000000000000"


def balance_transaction(
    *,
    txn_id: str,
    created: int,
    amount: int,
    currency: str,
    fee: int,
    fee_details: list[dict[str, Any]],
    txn_type: str,
    reporting_category: str,
    source: str | None,
    description: str | None,
) -> JSON:
    """A balance transaction; the sandbox makes funds available at once (`status: available`)."""
    return {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created,
        "balance_type": "payments",
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "available",
        "type": txn_type,
    }


def transfer(
    *,
    tr_id: str,
    created: int,
    amount: int,
    currency: str,
    destination: str,
    destination_payment: str,
    balance_transaction: str,
    description: str | None,
    metadata: dict[str, str],
    source_transaction: str | None,
    transfer_group: str | None,
) -> JSON:
    return {
        "id": tr_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": balance_transaction,
        "created": created,
        "currency": currency,
        "description": description,
        "destination": destination,
        "destination_payment": destination_payment,
        "livemode": False,
        "metadata": metadata,
        "reversals": list_object([], has_more=False, url=f"/v1/transfers/{tr_id}/reversals"),
        "reversed": False,
        "source_transaction": source_transaction,
        "source_type": "card",
        "transfer_group": transfer_group,
    }


def transfer_reversal(
    *,
    trr_id: str,
    created: int,
    amount: int,
    currency: str,
    transfer_id: str,
    balance_transaction: str,
    destination_payment_refund: str | None,
    source_refund: str | None,
    metadata: dict[str, str],
) -> JSON:
    return {
        "id": trr_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": balance_transaction,
        "created": created,
        "currency": currency,
        "destination_payment_refund": destination_payment_refund,
        "metadata": metadata,
        "source_refund": source_refund,
        "transfer": transfer_id,
    }


def application_fee(
    *,
    fee_id: str,
    created: int,
    amount: int,
    currency: str,
    account: str,
    charge: str,
    balance_transaction: str,
) -> JSON:
    return {
        "id": fee_id,
        "object": "application_fee",
        "account": account,
        "amount": amount,
        "amount_refunded": 0,
        "application": APPLICATION,
        "balance_transaction": balance_transaction,
        "charge": charge,
        "created": created,
        "currency": currency,
        "fee_source": {"charge": charge, "type": "charge"},
        "livemode": False,
        "originating_transaction": None,
        "refunded": False,
        "refunds": list_object([], has_more=False, url=f"/v1/application_fees/{fee_id}/refunds"),
    }


def fee_refund(
    *,
    fr_id: str,
    created: int,
    amount: int,
    currency: str,
    fee_id: str,
    balance_transaction: str,
    metadata: dict[str, str],
) -> JSON:
    return {
        "id": fr_id,
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": balance_transaction,
        "created": created,
        "currency": currency,
        "fee": fee_id,
        "metadata": metadata,
    }


def payout(
    *,
    po_id: str,
    created: int,
    arrival_date: int,
    amount: int,
    currency: str,
    destination: str | None,
    balance_transaction: str,
    description: str | None,
    metadata: dict[str, str],
    method: str,
    statement_descriptor: str | None,
) -> JSON:
    """A new manual payout, `pending` until the sandbox pays it (or a test fails it)."""
    return {
        "id": po_id,
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": arrival_date,
        "automatic": False,
        "balance_transaction": balance_transaction,
        "created": created,
        "currency": currency,
        "description": description,
        "destination": destination,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": metadata,
        "method": method,
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "not_applicable",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": statement_descriptor,
        "status": "pending",
        "trace_id": {"status": "pending", "value": None},
        "type": "bank_account",
    }


def balance(available: dict[str, int], pending: dict[str, int]) -> JSON:
    """The Balance object: one entry per currency (a usd entry of 0 when there is none)."""

    def entries(amounts: dict[str, int]) -> list[JSON]:
        shown = amounts or {"usd": 0}
        return [
            {"amount": amount, "currency": currency, "source_types": {"card": amount}}
            for currency, amount in sorted(shown.items())
        ]

    return {
        "object": "balance",
        "available": entries(available),
        "connect_reserved": [
            {"amount": 0, "currency": currency} for currency in sorted(available or {"usd": 0})
        ],
        "livemode": False,
        "pending": entries(pending),
    }
