"""Customer disputes v1: opened by the test buyer, answered by the merchant through the API.

`POST /_sandbox/disputes` opens a dispute on a capture (WAITING_FOR_SELLER_RESPONSE,
CUSTOMER.DISPUTE.CREATED). The merchant lists and shows disputes, provides evidence
(multipart/form-data with an `input` JSON part and files, as PayPal takes it, or plain JSON
`{"evidences": [...]}`; → UNDER_REVIEW, CUSTOMER.DISPUTE.UPDATED) or accepts the claim
(→ RESOLVED / RESOLVED_BUYER_FAVOUR, CUSTOMER.DISPUTE.RESOLVED). PayPal's decision is
`POST /_sandbox/disputes/{id}/resolve`. Accepting a claim does not touch the capture here
(PayPal moves the money itself); actions in the wrong status are refused with 422
`DISPUTE_ACTION_NOT_ALLOWED`, the sandbox's own issue name. Lists omit `items` when empty,
because the specification requires at least one item in the array.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import accounts, identifiers, money
from .errors import Issue, UnprocessableEntity, invalid, link, missing
from .gateway import Call, Reply, Upload
from .records import JSON, DisputeRecord
from .store import Store

REASONS = (
    "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
    "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED",
    "UNAUTHORISED",
    "CREDIT_NOT_PROCESSED",
    "DUPLICATE_TRANSACTION",
    "INCORRECT_AMOUNT",
    "PAYMENT_BY_OTHER_MEANS",
    "CANCELED_RECURRING_BILLING",
    "PROBLEM_WITH_REMITTANCE",
    "OTHER",
)
OUTCOMES = (
    "RESOLVED_BUYER_FAVOUR",
    "RESOLVED_SELLER_FAVOUR",
    "RESOLVED_WITH_PAYOUT",
    "CANCELED_BY_BUYER",
)
_STATES = {
    "OPEN": "OPEN_INQUIRIES",
    "WAITING_FOR_SELLER_RESPONSE": "REQUIRED_ACTION",
    "WAITING_FOR_BUYER_RESPONSE": "REQUIRED_OTHER_PARTY_ACTION",
    "UNDER_REVIEW": "UNDER_PAYPAL_REVIEW",
    "RESOLVED": "RESOLVED",
}
_INVOICE_NUMBER = re.compile(r"^[A-Za-z0-9:\-|]+$")
_SUMMARY_FIELDS = (
    "dispute_id",
    "create_time",
    "update_time",
    "reason",
    "status",
    "dispute_amount",
    "dispute_life_cycle_stage",
    "dispute_channel",
    "seller_response_due_date",
)


def dispute_url(base_url: str, dispute_id: str) -> str:
    return f"{base_url}/v1/customer/disputes/{dispute_id}"


def open_dispute(store: Store, body: JSON, base_url: str) -> JSON:
    """The buyer opens a dispute: `{"capture_id", "reason"?, "amount"?}`."""
    capture_id = body.get("capture_id")
    if not isinstance(capture_id, str):
        raise missing("/capture_id")
    capture = store.capture(capture_id)
    if capture.capture["status"] in ("PENDING", "DECLINED"):
        raise _not_allowed("capture_id")
    reason = body.get("reason", "MERCHANDISE_OR_SERVICE_NOT_RECEIVED")
    if reason not in REASONS:
        raise invalid("/reason", reason)
    amount = capture.amount_minor
    if body.get("amount") is not None:
        raw = body["amount"]
        if not isinstance(raw, dict) or raw.get("currency_code") != capture.currency:
            raise invalid("/amount/currency_code", None)
        try:
            amount = money.parse(raw.get("value"), capture.currency)
        except money.MoneyProblem as problem:
            raise invalid("/amount/value", raw.get("value"), problem.issue) from problem
        if not 0 < amount <= capture.amount_minor:
            raise invalid("/amount/value", raw.get("value"))
    transaction: JSON = {
        "seller_transaction_id": capture_id,
        "create_time": capture.capture["create_time"],
        "transaction_status": capture.capture["status"],
        "gross_amount": money.amount(capture.amount_minor, capture.currency),
        "buyer": accounts.dispute_buyer(),
        "seller": accounts.dispute_seller(),
    }
    invoice = capture.capture.get("invoice_id")
    if isinstance(invoice, str) and _INVOICE_NUMBER.match(invoice):
        transaction["invoice_number"] = invoice
    if "custom_id" in capture.capture:
        transaction["custom"] = capture.capture["custom_id"]
    now = identifiers.timestamp()
    dispute: JSON = {
        "dispute_id": identifiers.dispute_id(),
        "create_time": now,
        "update_time": now,
        "disputed_transactions": [transaction],
        "reason": reason,
        "status": "WAITING_FOR_SELLER_RESPONSE",
        "dispute_amount": money.amount(amount, capture.currency),
        "dispute_life_cycle_stage": "INQUIRY",
        "dispute_channel": "INTERNAL",
        "seller_response_due_date": identifiers.timestamp(days_from_now=20),
    }
    record = DisputeRecord(dispute, capture_id)
    store.state.disputes[dispute["dispute_id"]] = record
    return _emit(store, record, "CREATED", "A new dispute opened", base_url)


def render(record: DisputeRecord, base_url: str) -> JSON:
    out = copy.deepcopy(record.dispute)
    url = dispute_url(base_url, out["dispute_id"])
    out["links"] = [link(url, "self")]
    if out["status"] == "WAITING_FOR_SELLER_RESPONSE":
        out["links"].append(link(f"{url}/accept-claim", "accept_claim", "POST"))
        out["links"].append(link(f"{url}/provide-evidence", "provide_evidence", "POST"))
    return out


def list_disputes(store: Store, call: Call) -> Reply:
    wanted_capture = call.query.get("disputed_transaction_id")
    wanted_state = call.query.get("dispute_state")
    items = []
    for record in reversed(store.state.disputes.values()):
        dispute = record.dispute
        state = _STATES[dispute["status"]]
        if wanted_capture not in (None, record.capture_id) or wanted_state not in (None, state):
            continue
        summary = {key: copy.deepcopy(dispute[key]) for key in _SUMMARY_FIELDS}
        summary["dispute_state"] = state
        summary["links"] = [link(dispute_url(call.base_url, dispute["dispute_id"]), "self")]
        items.append(summary)
    raw_size = call.query.get("page_size", "")
    page_size = min(int(raw_size), 50) if raw_size.isdigit() and int(raw_size) > 0 else 10
    body: JSON = {"items": items[:page_size]} if items else {}
    body["links"] = [link(f"{call.base_url}/v1/customer/disputes", "self")]
    return Reply(200, body)


def retrieve(store: Store, call: Call) -> Reply:
    return Reply(200, render(store.dispute(call.path("id")), call.base_url))


def provide_evidence(store: Store, call: Call) -> Reply:
    record = store.dispute(call.path("id"))
    if record.dispute["status"] != "WAITING_FOR_SELLER_RESPONSE":
        raise _not_allowed("status")
    evidences = _evidences(call.body.get("evidences"), call.uploads)
    record.dispute.setdefault("evidences", []).extend(evidences)
    record.dispute["status"] = "UNDER_REVIEW"
    _emit(store, record, "UPDATED", "A dispute was updated", call.base_url)
    return Reply(200, _subsequent(record, call.base_url))


def accept_claim(store: Store, call: Call) -> Reply:
    record = store.dispute(call.path("id"))
    if record.dispute["status"] == "RESOLVED":
        raise _not_allowed("status")
    note = call.body.get("note")
    if note is not None:
        record.dispute.setdefault("messages", []).append(
            {"posted_by": "SELLER", "time_posted": identifiers.timestamp(), "content": str(note)}
        )
    resolve(store, record.dispute["dispute_id"], "RESOLVED_BUYER_FAVOUR", call.base_url)
    return Reply(200, _subsequent(record, call.base_url))


def resolve(store: Store, dispute_id: str, outcome: Any, base_url: str) -> JSON:
    """PayPal decides: RESOLVED with `outcome`, CUSTOMER.DISPUTE.RESOLVED."""
    record = store.dispute(dispute_id)
    if outcome not in OUTCOMES:
        raise invalid("/outcome", outcome)
    if record.dispute["status"] == "RESOLVED":
        raise _not_allowed("status")
    result: JSON = {"outcome_code": outcome}
    if outcome == "RESOLVED_BUYER_FAVOUR":
        result["amount_refunded"] = copy.deepcopy(record.dispute["dispute_amount"])
    record.dispute["status"] = "RESOLVED"
    record.dispute["dispute_outcome"] = result
    return _emit(store, record, "RESOLVED", "A dispute was resolved", base_url)


def _evidences(raw: Any, uploads: tuple[Upload, ...]) -> list[JSON]:
    if not isinstance(raw, list) or not raw:
        raise missing("/evidences")
    out: list[JSON] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("evidence_type"), str):
            raise missing(f"/evidences/{index}/evidence_type")
        kept = {
            k: copy.deepcopy(entry[k])
            for k in ("evidence_type", "evidence_info", "notes")
            if k in entry
        }
        out.append({**kept, "source": "SUBMITTED_BY_SELLER", "date": identifiers.timestamp()})
    if uploads:
        out[-1]["documents"] = [{"name": _document_name(u.filename)} for u in uploads]
    return out


def _document_name(filename: str) -> str:
    stem, _, extension = filename.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_, -]", "_", stem).strip() or "document"
    extension = re.sub(r"[^A-Za-z]", "", extension) or "pdf"
    return f"{stem}.{extension}"


def _subsequent(record: DisputeRecord, base_url: str) -> JSON:
    return {"links": [link(dispute_url(base_url, record.dispute["dispute_id"]), "self")]}


def _not_allowed(field: str) -> UnprocessableEntity:
    return UnprocessableEntity(Issue("DISPUTE_ACTION_NOT_ALLOWED", field=field))


def _emit(store: Store, record: DisputeRecord, what: str, summary: str, base_url: str) -> JSON:
    record.dispute["update_time"] = identifiers.timestamp()
    rendered = render(record, base_url)
    store.emit(f"CUSTOMER.DISPUTE.{what}", rendered, summary=summary, base_url=base_url)
    return rendered
