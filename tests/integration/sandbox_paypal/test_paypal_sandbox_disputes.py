"""Disputes: opened by the buyer, listed, shown, evidence (multipart and JSON), claims, outcomes."""

from __future__ import annotations

import json
from typing import Any

from support.paypal_openapi import validate_response

DISPUTES = "customer_disputes_v1"
LIST = "/v1/customer/disputes"


def _open(paypal, capture_id: str, **extra: Any) -> dict[str, Any]:
    response = paypal.http.post("/_sandbox/disputes", json={"capture_id": capture_id, **extra})
    assert response.status_code == 201, response.text
    dispute: dict[str, Any] = response.json()
    return dispute


def test_opened_dispute_is_listed_and_shown(paypal) -> None:
    capture = paypal.paid_capture("40.00")

    opened = _open(paypal, capture["id"])
    listed = paypal.get(LIST)
    filtered = paypal.get(LIST, params={"disputed_transaction_id": "SOMETHINGELSE"})
    shown = paypal.get(f"{LIST}/{opened['dispute_id']}")

    assert opened["status"] == "WAITING_FOR_SELLER_RESPONSE"
    assert opened["reason"] == "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"
    assert opened["dispute_amount"] == {"currency_code": "USD", "value": "40.00"}
    validate_response(DISPUTES, LIST, "GET", 200, listed.json())
    assert [d["dispute_id"] for d in listed.json()["items"]] == [opened["dispute_id"]]
    assert listed.json()["items"][0]["dispute_state"] == "REQUIRED_ACTION"
    validate_response(DISPUTES, LIST, "GET", 200, filtered.json())
    assert "items" not in filtered.json()  # the specification requires at least one item
    validate_response(DISPUTES, f"{LIST}/{{id}}", "GET", 200, shown.json())
    transaction = shown.json()["disputed_transactions"][0]
    assert transaction["seller_transaction_id"] == capture["id"]
    assert transaction["invoice_number"] == "EVT-2024-0042"
    assert {link["rel"] for link in shown.json()["links"]} == {
        "self",
        "accept_claim",
        "provide_evidence",
    }
    created = paypal.events("CUSTOMER.DISPUTE.CREATED")[0]
    assert created["resource"]["dispute_id"] == opened["dispute_id"]


def test_evidence_as_multipart_puts_the_dispute_under_review(paypal) -> None:
    dispute = _open(
        paypal, paypal.paid_capture()["id"], reason="MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED"
    )
    evidence = {
        "evidences": [
            {
                "evidence_type": "PROOF_OF_FULFILLMENT",
                "evidence_info": {
                    "tracking_info": [{"carrier_name": "UPS", "tracking_number": "1Z999"}]
                },
                "notes": "Ticket scanned at the gate.",
            }
        ]
    }

    response = paypal.post(
        f"{LIST}/{dispute['dispute_id']}/provide-evidence",
        files={
            "input": (None, json.dumps(evidence), "application/json"),
            "evidence-file": ("gate scan.pdf", b"%PDF-1.4 sandbox", "application/pdf"),
        },
    )
    shown = paypal.get(f"{LIST}/{dispute['dispute_id']}").json()

    assert response.status_code == 200
    validate_response(DISPUTES, f"{LIST}/{{id}}/provide-evidence", "POST", 200, response.json())
    validate_response(DISPUTES, f"{LIST}/{{id}}", "GET", 200, shown)
    assert shown["status"] == "UNDER_REVIEW"
    stored = shown["evidences"][0]
    assert stored["evidence_type"] == "PROOF_OF_FULFILLMENT"
    assert stored["source"] == "SUBMITTED_BY_SELLER"
    assert stored["documents"] == [{"name": "gate scan.pdf"}]
    assert paypal.events("CUSTOMER.DISPUTE.UPDATED")[0]["resource"]["status"] == "UNDER_REVIEW"


def test_evidence_as_json_and_evidence_twice(paypal) -> None:
    dispute = _open(paypal, paypal.paid_capture()["id"])
    url = f"{LIST}/{dispute['dispute_id']}/provide-evidence"
    body = {"evidences": [{"evidence_type": "OTHER", "notes": "Buyer attended."}]}

    first = paypal.post(url, json=body)
    second = paypal.post(url, json=body)
    empty = paypal.post(
        f"{LIST}/{_open(paypal, paypal.paid_capture()['id'])['dispute_id']}/provide-evidence",
        json={},
    )

    assert first.status_code == 200
    assert second.status_code == 422
    assert second.json()["details"][0]["issue"] == "DISPUTE_ACTION_NOT_ALLOWED"
    assert empty.status_code == 400


def test_accepting_the_claim_resolves_in_the_buyers_favour(paypal) -> None:
    dispute = _open(
        paypal,
        paypal.paid_capture("40.00")["id"],
        amount={"currency_code": "USD", "value": "15.00"},
    )
    url = f"{LIST}/{dispute['dispute_id']}/accept-claim"

    accepted = paypal.post(url, json={"note": "Refunding the buyer."})
    again = paypal.post(url, json={})
    shown = paypal.get(f"{LIST}/{dispute['dispute_id']}").json()

    assert accepted.status_code == 200
    validate_response(DISPUTES, f"{LIST}/{{id}}/accept-claim", "POST", 200, accepted.json())
    assert again.status_code == 422
    validate_response(DISPUTES, f"{LIST}/{{id}}", "GET", 200, shown)
    assert shown["status"] == "RESOLVED"
    assert shown["dispute_outcome"] == {
        "outcome_code": "RESOLVED_BUYER_FAVOUR",
        "amount_refunded": {"currency_code": "USD", "value": "15.00"},
    }
    assert shown["messages"][0]["content"] == "Refunding the buyer."
    assert len(paypal.events("CUSTOMER.DISPUTE.RESOLVED")) == 1


def test_paypal_can_decide_for_the_seller(paypal) -> None:
    dispute = _open(paypal, paypal.paid_capture()["id"])

    resolved = paypal.http.post(
        f"/_sandbox/disputes/{dispute['dispute_id']}/resolve",
        json={"outcome": "RESOLVED_SELLER_FAVOUR"},
    )
    bad = paypal.http.post(
        f"/_sandbox/disputes/{dispute['dispute_id']}/resolve", json={"outcome": "MAYBE"}
    )

    assert resolved.status_code == 200
    assert resolved.json()["dispute_outcome"] == {"outcome_code": "RESOLVED_SELLER_FAVOUR"}
    assert bad.status_code == 400
    state = paypal.get(LIST, params={"dispute_state": "RESOLVED"}).json()
    assert [d["dispute_id"] for d in state["items"]] == [dispute["dispute_id"]]


def test_disputes_need_a_settled_capture(paypal) -> None:
    missing = paypal.http.post("/_sandbox/disputes", json={"capture_id": "NOPE"})
    no_id = paypal.http.post("/_sandbox/disputes", json={})
    unknown = paypal.get(f"{LIST}/PP-D-1")

    assert (missing.status_code, no_id.status_code, unknown.status_code) == (404, 400, 404)
