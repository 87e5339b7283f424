"""PayPal Disputes v1: reading disputes and answering them (`DisputeProvider`).

A dispute names the payment by the seller's transaction id, which for Orders v2 is the
capture id: that is `Dispute.capture_id`. Answers are actions on the dispute
(`provide-evidence`, `accept-claim`); PayPal takes them as `multipart/form-data` whose `input`
part is the JSON request (files, which we do not send, would be further parts). Both answer
with a link only, so the dispute is read again and returned as it now stands.

Accepting a claim makes PayPal refund the buyer itself: the core records that refund from the
dispute's outcome; nothing here decides it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from eventpay.ports import Dispute
from eventpay.providers.paypal_http import Part, PayPalApi, reading
from eventpay.providers.paypal_money import from_paypal

__all__ = ["PayPalDisputes", "dispute_from"]

DISPUTES_PATH = "/v1/customer/disputes"
_PAGE_SIZE = "50"  # PayPal's maximum page for listing
_MAX_PAGES = 20
_NOTE_LIMIT = 2000


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def dispute_from(resource: Mapping[str, Any]) -> Dispute:
    transactions = resource.get("disputed_transactions") or ()
    capture_id = transactions[0].get("seller_transaction_id") if transactions else None
    outcome = resource.get("dispute_outcome") or {}
    return Dispute(
        dispute_id=str(resource["dispute_id"]),
        capture_id=str(capture_id) if capture_id else None,
        reason=str(resource.get("reason", "OTHER")),
        status=str(resource.get("status", "OTHER")),
        amount=from_paypal(resource["dispute_amount"]),
        created_at=_time(resource.get("create_time")),
        outcome=str(outcome["outcome_code"]) if outcome.get("outcome_code") else None,
    )


def _input(request: Mapping[str, Any]) -> dict[str, Part]:
    return {"input": ("input.json", json.dumps(request).encode(), "application/json")}


def _next_token(answer: Mapping[str, Any]) -> str | None:
    for link in answer.get("links") or ():
        if link.get("rel") == "next" and "next_page_token=" in str(link.get("href", "")):
            token = str(link["href"]).split("next_page_token=", 1)[1].split("&")[0]
            return token or None
    return None


class PayPalDisputes:
    def __init__(self, api: PayPalApi) -> None:
        self._api = api

    def list_disputes(self) -> Sequence[Dispute]:
        """Every dispute PayPal lists (summaries: no capture id; `get_dispute` has it)."""
        params = {"page_size": _PAGE_SIZE}
        found: list[Dispute] = []
        for _ in range(_MAX_PAGES):
            answer = self._api.call("GET", DISPUTES_PATH, params=params)
            with reading("dispute list"):
                found += [dispute_from(item) for item in answer.get("items") or ()]
            token = _next_token(answer)
            if token is None:
                break
            params = {"page_size": _PAGE_SIZE, "next_page_token": token}
        return found

    def get_dispute(self, dispute_id: str) -> Dispute:
        answer = self._api.call("GET", f"{DISPUTES_PATH}/{dispute_id}")
        with reading("dispute"):
            return dispute_from(answer)

    def provide_evidence(self, dispute_id: str, *, note: str, idempotency_key: str) -> Dispute:
        """A written statement as evidence (type OTHER); the seller answers while PayPal
        waits for it (WAITING_FOR_SELLER_RESPONSE)."""
        request = {"evidences": [{"evidence_type": "OTHER", "notes": note[:_NOTE_LIMIT]}]}
        self._api.call(
            "POST",
            f"{DISPUTES_PATH}/{dispute_id}/provide-evidence",
            files=_input(request),
            request_id=idempotency_key,
        )
        return self.get_dispute(dispute_id)

    def accept_claim(self, dispute_id: str, *, note: str, idempotency_key: str) -> Dispute:
        """Accept the buyer's claim: the dispute closes in the buyer's favour, PayPal refunds."""
        request = {"note": note[:_NOTE_LIMIT], "accept_claim_type": "REFUND"}
        self._api.call(
            "POST",
            f"{DISPUTES_PATH}/{dispute_id}/accept-claim",
            files=_input(request),
            request_id=idempotency_key,
        )
        return self.get_dispute(dispute_id)
