"""Sponsor packages invoiced through PayPal, black-box over HTTP.

- `sponsor-invoice-paid`: as the platform's admin, a fresh event gets a title sponsor package
  (one for sale); a PayPal invoice for it is issued to a sponsor; the sponsor pays it at the
  PayPal sandbox in two parts (its recipient-payment control, as the payer page would): the
  sponsorship shows partially paid with the first part, then paid, activated, with the whole
  price; a second invoice for the sold package is refused `sold_out`; the ledger is clean.
  The sandbox delivers its own signed INVOICING.INVOICE.PAID events to the service.
"""

from __future__ import annotations

from typing import Any

from eventpay.selftest.capacity_scenarios import SPL, fresh_event
from eventpay.selftest.checks import Scenario, ScenarioFailed, eventually, expect
from eventpay.selftest.client import ServiceUnderTest

Json = dict[str, Any]
PRICE = 75_000
FIRST_PART = 30_000
SPONSOR = {"name": "Self-test Subwoofers Ltd.", "email": "sponsor@selftest.example"}


def _sponsorship(sut: ServiceUnderTest, event_id: str, sponsorship_id: str) -> Json:
    listed: Json = expect(sut.as_admin("GET", f"/v1/events/{event_id}/sponsorships"), 200)
    for found in listed.get("sponsorships", []):
        if found.get("id") == sponsorship_id:
            return dict(found)
    raise ScenarioFailed(f"sponsorship {sponsorship_id} is not listed for its event")


def _wait(sut: ServiceUnderTest, event_id: str, sponsorship_id: str, status: str) -> Json:
    seen: list[Json] = [{}]

    def problem() -> str | None:
        seen[0] = _sponsorship(sut, event_id, sponsorship_id)
        if seen[0].get("status") == status:
            return None
        return f"expected a {status} sponsorship, but it is {seen[0]}"

    eventually(problem)
    return seen[0]


def _pay(sut: ServiceUnderTest, invoice_id: str, minor: int) -> None:
    answer = sut.paypal().client.post(
        f"/_sandbox/invoices/{invoice_id}/recipient-payments",
        json={"amount": {"currency_code": "USD", "value": f"{minor // 100}.{minor % 100:02d}"}},
    )
    if not answer.is_success:
        raise ScenarioFailed(f"the sandbox refused the sponsor's payment: {answer.text[:300]}")


def sponsor_invoice_paid(sut: ServiceUnderTest) -> str:
    event_id = str(fresh_event(sut, classes=[SPL])["id"])
    package: Json = expect(
        sut.as_admin(
            "POST",
            f"/v1/events/{event_id}/sponsor-packages",
            {"kind": "title", "name": "Title sponsor", "price": PRICE, "quantity": 1},
        ),
        201,
    )
    asked = {"package_id": package["id"], "sponsor": SPONSOR, "provider": "paypal", "net_days": 30}
    issued: Json = expect(sut.as_admin("POST", f"/v1/events/{event_id}/sponsorships", asked), 201)
    sponsorship_id, invoice_id = str(issued["id"]), issued.get("provider_invoice_id")
    if issued.get("status") != "invoiced" or not invoice_id:
        raise ScenarioFailed(f"a new sponsorship is {issued}")
    again = sut.as_admin("POST", f"/v1/events/{event_id}/sponsorships", asked)
    code = again.json().get("error", {}).get("code") if again.status_code == 409 else None
    if code != "sold_out":
        raise ScenarioFailed(f"a second invoice for the last package: {again.status_code}")

    _pay(sut, str(invoice_id), FIRST_PART)
    part = _wait(sut, event_id, sponsorship_id, "partially_paid")
    if part["paid"]["amount"] != FIRST_PART or part.get("activated_at") is not None:
        raise ScenarioFailed(f"after the first part the sponsorship is {part}")
    _pay(sut, str(invoice_id), PRICE - FIRST_PART)
    paid = _wait(sut, event_id, sponsorship_id, "paid")
    if paid["paid"]["amount"] != PRICE or not paid.get("activated_at"):
        raise ScenarioFailed(f"a paid sponsorship is {paid}")
    report: Json = expect(sut.ledger_verify(), 200)
    if not report.get("clean"):
        raise ScenarioFailed(f"ledger not clean: {report.get('problems')}")
    return (
        f"invoice {invoice_id} paid in two parts, sponsorship active since {paid['activated_at']}"
    )


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("sponsor-invoice-paid", sponsor_invoice_paid, needs_paypal=True),
)
