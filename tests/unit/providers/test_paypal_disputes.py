"""Disputes: listed and read as PayPal has them, answered with multipart `input` JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventpay.domain import Money
from eventpay.ports import ProviderRejected
from eventpay.providers.paypal import PayPalProvider

from .fake_paypal import FakePayPal
from .fake_paypal_business import multipart_parts


def test_disputes_are_listed_and_read(fake: FakePayPal, provider: PayPalProvider) -> None:
    first = fake.add_dispute("CAP00000000000001", "45.00")
    second = fake.add_dispute("CAP00000000000002", "4500", "JPY")
    listed = provider.list_disputes()
    assert [(d.dispute_id, d.amount, d.capture_id) for d in listed] == [
        (first, Money(4500, "usd"), None),  # summaries carry no transactions
        (second, Money(4500, "jpy"), None),
    ]
    dispute = provider.get_dispute(first)
    assert dispute.capture_id == "CAP00000000000001"
    assert dispute.reason == "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"
    assert dispute.status == "WAITING_FOR_SELLER_RESPONSE"
    assert dispute.created_at == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert dispute.outcome is None


def test_listing_follows_next_page_tokens(fake: FakePayPal, provider: PayPalProvider) -> None:
    dispute_id = fake.add_dispute("CAP00000000000001")
    item = {
        k: fake.disputes[dispute_id][k]
        for k in ("dispute_id", "create_time", "reason", "status", "dispute_amount")
    }
    next_link = {"href": "https://x/v1/customer/disputes?next_page_token=TOK2", "rel": "next"}
    fake.fail_next("GET", "/v1/customer/disputes", 200, {"items": [item], "links": [next_link]})
    assert len(provider.list_disputes()) == 2
    tokens = [r.url.params.get("next_page_token") for r in fake.api_requests("GET")]
    assert tokens == [None, "TOK2"]


def test_evidence_is_sent_as_multipart_input_json(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    dispute_id = fake.add_dispute("CAP00000000000001")
    dispute = provider.provide_evidence(
        dispute_id, note="Ticket used at the gate on 2026-03-01.", idempotency_key="ev-1"
    )
    (request,) = fake.api_requests("POST", f"/v1/customer/disputes/{dispute_id}/provide-evidence")
    assert request.headers["paypal-request-id"] == "ev-1"
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert list(multipart_parts(request)) == ["input"]
    assert fake.dispute_inputs == [
        {
            "evidences": [
                {"evidence_type": "OTHER", "notes": "Ticket used at the gate on 2026-03-01."}
            ]
        }
    ]
    assert dispute.status == "UNDER_REVIEW"


def test_accepting_a_claim_returns_the_resolved_dispute(
    fake: FakePayPal, provider: PayPalProvider
) -> None:
    dispute_id = fake.add_dispute("CAP00000000000001")
    dispute = provider.accept_claim(dispute_id, note="Refunding in full.", idempotency_key="ac-1")
    assert fake.dispute_inputs == [{"note": "Refunding in full.", "accept_claim_type": "REFUND"}]
    assert (dispute.status, dispute.outcome) == ("RESOLVED", "RESOLVED_BUYER_FAVOUR")


def test_an_unknown_dispute_is_rejected(provider: PayPalProvider) -> None:
    with pytest.raises(ProviderRejected) as refused:
        provider.get_dispute("PP-D-404")
    assert refused.value.code == "INVALID_RESOURCE_ID"
