"""Sponsor packages through the services, on fakes: an invoice per package place (never one too
many), part payments recorded and posted once in any number of deliveries, paid activates,
overdue listed, cancel gives the place back, another organizer's event is 404."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.domain import Money
from eventpay.domain.sponsorships import fee_slice
from eventpay.ports import Principal, Role
from eventpay.ports.capabilities import Invoice, InvoiceDraft
from eventpay.ports.identity import ProviderName
from eventpay.ports.providers import ProviderOutcomeUnknown, ProviderRegistry
from eventpay.ports.sponsorships import SPONSOR_INVOICES, InvoicePayment, SponsorInvoiceEvent
from eventpay.sample_ids import ORGANIZER_ID, PAYOUT_ORGANIZER_ID
from eventpay.services import sponsor_fees, sponsorships
from eventpay.services.errors import Conflict, NotFound, Unavailable
from eventpay.services.settlement.sponsorships import apply_invoice_event
from eventpay.services.sponsorships import PackageInput

from .scenario import FEE_POLICY, SPRING, World

OWNER = Principal(user_id="o-1", role=Role.ORGANIZER, organizer_id=ORGANIZER_ID)
RIVAL = Principal(user_id="o-2", role=Role.ORGANIZER, organizer_id=PAYOUT_ORGANIZER_ID)


@dataclass
class FakeInvoices:
    issued: list[tuple[InvoiceDraft, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    fail: bool = False

    def issue_invoice(
        self, draft: InvoiceDraft, *, sponsorship_id: str, net_days: int, idempotency_key: str
    ) -> Invoice:
        if self.fail:
            raise ProviderOutcomeUnknown("timeout", "no answer")
        self.issued.append((draft, idempotency_key))
        return Invoice(
            invoice_id=f"INV-{len(self.issued)}",
            invoice_number=draft.invoice_number,
            status="SENT",
            amount=draft.lines[0].unit_amount,
            links={"payer-view": f"https://pay.example/{len(self.issued)}"},
        )

    def cancel_invoice(self, invoice_id: str, *, idempotency_key: str) -> None:
        self.cancelled.append(invoice_id)

    def parse_invoice_event(
        self, event_type: str, payload: Mapping[str, Any]
    ) -> SponsorInvoiceEvent | None:
        return None

    def is_invoice_payment(self, event_type: str, payload: Mapping[str, Any]) -> bool:
        return False


@pytest.fixture
def invoices() -> FakeInvoices:
    return FakeInvoices()


def _providers(invoices: FakeInvoices) -> ProviderRegistry:
    paypal = SimpleNamespace(**{SPONSOR_INVOICES: invoices})
    return {ProviderName.PAYPAL: paypal}  # type: ignore[dict-item]


def _package(world: World, quantity: int = 1, price: int = 50_000) -> str:
    made = sponsorships.create_package(
        uow_factory=world.uow_factory,
        caller=OWNER,
        event_id=SPRING,
        asked=PackageInput("title", "Title sponsor", price, quantity),
        clock=world.clock,
    )
    return made.id


def _issue(world: World, invoices: FakeInvoices, package_id: str, caller: Principal = OWNER) -> Any:
    return sponsorships.issue(
        uow_factory=world.uow_factory,
        providers=_providers(invoices),
        caller=caller,
        event_id=SPRING,
        package_id=package_id,
        sponsor_name="Bass Monsters",
        sponsor_email="s@bass.example",
        provider=ProviderName.PAYPAL,
        net_days=14,
        fee_policy=FEE_POLICY,
        clock=world.clock,
    )


def _pay(world: World, invoice_id: str, *payments: tuple[str, int]) -> bool:
    event = SponsorInvoiceEvent(
        provider_invoice_id=invoice_id,
        payments=tuple(InvoicePayment(ref, Money(amount, "usd")) for ref, amount in payments),
    )
    with world.uow_factory() as uow:
        applied = apply_invoice_event(
            uow, event, provider=ProviderName.PAYPAL, actor="test", now=world.clock()
        )
        uow.commit()
    return applied


def _listed(world: World, status: str | None = None) -> dict[str, Any]:
    found = sponsorships.sponsorships(
        uow_factory=world.uow_factory,
        caller=OWNER,
        event_id=SPRING,
        status=status,
        clock=world.clock,
    )
    return {v.sponsorship.id: v for v in found}


def _causes(world: World) -> list[str]:
    return sorted(c for c in world.store.tables.ledger if c.startswith("sponsorship:"))


def test_part_payments_record_once_and_paid_activates(world: World, invoices: FakeInvoices) -> None:
    issued = _issue(world, invoices, _package(world))
    assert invoices.issued[0][1] == f"sponsorship:{issued.id}"
    assert issued.provider_invoice_id == "INV-1"
    assert _pay(world, "INV-1", ("P1", 20_000))
    assert _pay(world, "INV-1", ("P1", 20_000))  # delivered again
    part = _listed(world)[issued.id].sponsorship
    assert (part.status.value, part.paid, part.activated_at) == ("partially_paid", 20_000, None)
    assert _pay(world, "INV-1", ("P1", 20_000), ("P2", 30_000))
    assert _pay(world, "INV-1", ("P1", 20_000), ("P2", 30_000))
    paid = _listed(world)[issued.id].sponsorship
    assert (paid.status.value, paid.paid) == ("paid", 50_000)
    assert paid.activated_at is not None
    assert _causes(world) == ["sponsorship:paypal:P1", "sponsorship:paypal:P2"]


def test_an_unknown_invoice_changes_nothing(world: World) -> None:
    assert _pay(world, "INV-unknown", ("P9", 100)) is False


def test_the_last_package_is_invoiced_once_and_cancel_gives_it_back(
    world: World, invoices: FakeInvoices
) -> None:
    package = _package(world, quantity=1)
    first = _issue(world, invoices, package)
    with pytest.raises(Conflict) as refused:
        _issue(world, invoices, package)
    assert refused.value.code == "sold_out"
    cancelled = sponsorships.cancel(
        uow_factory=world.uow_factory,
        providers=_providers(invoices),
        caller=OWNER,
        event_id=SPRING,
        sponsorship_id=first.id,
        clock=world.clock,
    )
    assert cancelled.status.value == "cancelled"
    assert invoices.cancelled == ["INV-1"]
    assert _issue(world, invoices, package).provider_invoice_id == "INV-2"


def test_a_provider_failure_gives_the_place_back(world: World, invoices: FakeInvoices) -> None:
    package = _package(world, quantity=1)
    invoices.fail = True
    with pytest.raises(Unavailable):
        _issue(world, invoices, package)
    invoices.fail = False
    assert _issue(world, invoices, package).provider_invoice_id == "INV-1"


def test_overdue_after_the_due_date(world: World, invoices: FakeInvoices) -> None:
    issued = _issue(world, invoices, _package(world, quantity=2))
    assert _listed(world, "overdue") == {}
    world.clock.advance(timedelta(days=15))
    assert list(_listed(world, "overdue")) == [issued.id]


def test_another_organizer_gets_404(world: World, invoices: FakeInvoices) -> None:
    package = _package(world)
    with pytest.raises(NotFound):
        _issue(world, invoices, package, caller=RIVAL)


@given(
    fee=st.integers(0, 10_000),
    amount=st.integers(1, 1_000_000),
    cuts=st.lists(st.integers(1, 1_000_000), max_size=6),
)
def test_fee_slices_add_up_to_the_fee(fee: int, amount: int, cuts: list[int]) -> None:
    points = sorted({min(c, amount) for c in cuts} | {amount})
    paid, total = 0, 0
    for point in points:
        piece = fee_slice(fee=fee, amount=amount, paid_before=paid, paid_after=point)
        assert piece >= 0
        total += piece
        paid = point
    assert total == fee


@dataclass
class FeeReporting(FakeInvoices):
    """A gateway that also says what the provider kept of each payment (as Stripe's does)."""

    fees: dict[str, Money | None] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def payment_fee(self, payment_ref: str) -> Money | None:
        self.asked.append(payment_ref)
        return self.fees.get(payment_ref)


def test_a_payments_fee_is_read_later_booked_once_and_retried_while_unknown(
    world: World,
) -> None:
    gateway = FeeReporting()
    _issue(world, gateway, _package(world, price=30_000))
    assert _pay(world, "INV-1", ("P1", 10_000), ("P2", 20_000))
    gateway.fees = {"P1": Money(320, "usd"), "P2": None}

    def read() -> int:
        return sponsor_fees.read_payment_fees(
            uow_factory=world.uow_factory, providers=_providers(gateway), clock=world.clock
        )

    assert read() == 1
    assert sorted(gateway.asked) == ["P1", "P2"]
    assert "sponsorship:paypal:P1:fee" in _causes(world)
    assert "sponsorship:paypal:P2:fee" not in _causes(world)

    gateway.asked.clear()
    assert read() == 0  # P1 is known, P2 is not due again yet
    assert gateway.asked == []

    gateway.fees["P2"] = Money(610, "usd")
    world.clock.advance(timedelta(minutes=5))
    assert read() == 1
    assert gateway.asked == ["P2"]
    assert [c for c in _causes(world) if c.endswith(":fee")] == [
        "sponsorship:paypal:P1:fee",
        "sponsorship:paypal:P2:fee",
    ]


def test_a_gateway_that_names_no_fee_is_not_asked(world: World, invoices: FakeInvoices) -> None:
    _issue(world, invoices, _package(world))
    assert _pay(world, "INV-1", ("P1", 50_000))
    assert (
        sponsor_fees.read_payment_fees(
            uow_factory=world.uow_factory, providers=_providers(invoices), clock=world.clock
        )
        == 0
    )
