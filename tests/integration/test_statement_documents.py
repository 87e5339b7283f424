"""An organizer's statement as a PDF (`Accept: application/pdf`) and from `eventpay statement`.

On SQLite and PostgreSQL: a card payment paid at the Stripe sandbox posts the usd entry; a jpy
payment and a payout are posted through the ledger repository as the payout flow will post
them, so the document shows two currencies and a kind the renderer was never told about. The
PDF is read back with pypdf; the CLI's JSON is compared with the API's.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from eventpay.bootstrap import Container
from eventpay.cli import main
from eventpay.domain import Account, AccountKind, LedgerTransaction, Posting
from eventpay.ports import Role
from eventpay.sample_ids import ORGANIZER_ID
from eventpay.web.statement_pdf import format_amount
from support.api import bearer
from support.paid_orders import paid_order
from support.stack import WEBHOOK_SECRET

PDF = {"Accept": "application/pdf"}


def _post_jpy_money(container: Container, at: datetime) -> None:
    """A jpy payment of 10,000 (fee 550) and a payout of 5,000 of it, for the organizer."""
    payable = Account(AccountKind.ORGANIZER_PAYABLE, ORGANIZER_ID, "jpy")
    payment = LedgerTransaction(
        cause="test:jpy-payment:succeeded",
        kind="payment_succeeded",
        postings=(
            Posting(Account(AccountKind.PROVIDER_CLEARING, "stripe", "jpy"), 10000),
            Posting(payable, -9450),
            Posting(Account(AccountKind.PLATFORM_FEE_REVENUE, "", "jpy"), -550),
        ),
        order_id=None,
    )
    payout = LedgerTransaction(
        cause="payout:test-payout-1:sent",
        kind="payout_sent",
        postings=(
            Posting(payable, 5000),
            Posting(Account(AccountKind.PAYOUTS_IN_TRANSIT, ORGANIZER_ID, "jpy"), -5000),
        ),
        order_id=None,
    )
    with container.uow_factory() as uow:
        assert uow.ledger.post(payment, at=at)
        assert uow.ledger.post(payout, at=at + timedelta(seconds=1))
        uow.commit()


@pytest.fixture
def period(container: Container, stripe_sandbox: str) -> tuple[datetime, datetime, str]:
    """The period holding one paid usd order and the jpy money; the order's id."""
    start = datetime.now(UTC) - timedelta(minutes=1)
    order_id = paid_order(container, stripe_sandbox)
    _post_jpy_money(container, datetime.now(UTC))
    return start, datetime.now(UTC) + timedelta(minutes=1), order_id


def _text(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_the_statement_route_answers_a_pdf_when_asked(
    client: TestClient, container: Container, period: tuple[datetime, datetime, str]
) -> None:
    start, end, order_id = period
    own = bearer("org-user", Role.ORGANIZER, organizer_id=ORGANIZER_ID)
    url = f"/v1/organizers/{ORGANIZER_ID}/statement"
    params = {"from": start.isoformat(), "to": end.isoformat()}

    answer = client.get(url, params=params, headers={**own, **PDF})
    as_json = client.get(url, params=params, headers=own)

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].endswith(f'"statement-{ORGANIZER_ID}.pdf"')
    assert answer.content.startswith(b"%PDF-")
    text = _text(answer.content)
    with container.uow_factory() as uow:
        order = uow.orders.get(order_id)
        organizer = uow.catalog.get_organizer(ORGANIZER_ID)
    assert order is not None
    assert organizer is not None
    assert f"Organizer: {organizer.name} ({ORGANIZER_ID})" in text
    assert order_id in text
    gross = format_amount(order.organizer_net + order.platform_fee, "usd")
    fee = format_amount(order.platform_fee, "usd")
    net = format_amount(order.organizer_net, "usd")
    assert re.search(rf"payment_succeeded {order_id} .*{gross} {fee} {net}", text)
    assert f"Closing balance: {net} USD" in text
    assert re.search(r"payment_succeeded .*10,000 550 9,450", text)
    assert re.search(r"payout_sent .*payout:test-payout-1:sent -5,000 0 -5,000", text)
    assert "Closing balance: 4,450 JPY" in text
    # Then what holds the money back: the open event's reserve.
    assert re.search(rf"{net} USD of .* \(spring-sound-off\) held until ", text)
    closings = {c["currency"]: c["closing"]["amount"] for c in as_json.json()["currencies"]}
    assert closings == {"jpy": 4450, "usd": order.organizer_net}


def test_another_organizers_pdf_is_not_found(
    client: TestClient, period: tuple[datetime, datetime, str]
) -> None:
    start, end, _ = period
    params = {"from": start.isoformat(), "to": end.isoformat()}
    rival = bearer("r", Role.ORGANIZER, organizer_id="org-rival")
    admin = bearer("ops", Role.ADMIN)

    theirs = client.get(
        f"/v1/organizers/{ORGANIZER_ID}/statement", params=params, headers={**rival, **PDF}
    )
    unknown = client.get("/v1/organizers/nobody/statement", params=params, headers={**admin, **PDF})
    admins = client.get(
        f"/v1/organizers/{ORGANIZER_ID}/statement", params=params, headers={**admin, **PDF}
    )

    for refused in (theirs, unknown):
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "organizer_not_found"
    assert admins.status_code == 200
    assert admins.headers["content-type"] == "application/pdf"


def test_the_openapi_schema_names_the_statements_media_types(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    answer = schema["paths"]["/v1/organizers/{organizer_id}/statement"]["get"]["responses"]["200"]

    assert set(answer["content"]) == {"application/json", "text/csv", "application/pdf"}
    assert answer["content"]["application/pdf"]["schema"]["format"] == "binary"


def test_the_cli_writes_the_statement_in_each_format(
    client: TestClient,
    container: Container,
    database_url: str,
    stripe_sandbox: str,
    period: tuple[datetime, datetime, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start, end, order_id = period
    for name, value in {
        "EVENTPAY_ENVIRONMENT": "test",
        "EVENTPAY_DATABASE_URL": database_url,
        "EVENTPAY_STRIPE_API_BASE": stripe_sandbox,
        "EVENTPAY_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    common = ["statement", "--organizer", ORGANIZER_ID]
    common += ["--from", start.isoformat(), "--to", end.isoformat()]

    for fmt in ("pdf", "csv", "json"):
        target = tmp_path / f"statement.{fmt}"
        assert main([*common, "--format", fmt, "--output", str(target)]) == 0
        assert f"3 entries written to {target}" in capsys.readouterr().out

    pdf_text = _text((tmp_path / "statement.pdf").read_bytes())
    assert order_id in pdf_text
    assert "Closing balance: 4,450 JPY" in pdf_text
    csv_rows = (tmp_path / "statement.csv").read_text().splitlines()
    assert csv_rows[0].startswith("at,kind,order_id")
    assert any(row.startswith(",closing,,jpy,") and row.endswith(",4450") for row in csv_rows)
    api = client.get(
        f"/v1/organizers/{ORGANIZER_ID}/statement",
        params={"from": start.isoformat(), "to": end.isoformat()},
        headers=bearer("ops", Role.ADMIN),
    )
    assert json.loads((tmp_path / "statement.json").read_text()) == api.json()


def test_the_cli_refuses_an_unknown_organizer_and_a_backwards_period(
    container: Container,
    database_url: str,
    stripe_sandbox: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EVENTPAY_ENVIRONMENT", "test")
    monkeypatch.setenv("EVENTPAY_DATABASE_URL", database_url)
    monkeypatch.setenv("EVENTPAY_STRIPE_API_BASE", stripe_sandbox)
    target = tmp_path / "never.pdf"

    unknown = ["statement", "--organizer", "nobody", "--from", "2026-11-01", "--to", "2026-12-01"]
    assert main([*unknown, "--format", "pdf", "--output", str(target)]) == 1
    assert "No such organizer" in capsys.readouterr().err
    backwards = ["statement", "--organizer", ORGANIZER_ID, "--from", "2026-12-01"]
    assert main([*backwards, "--to", "2026-11-01", "--output", str(target)]) == 2
    assert "`from` must be before `to`" in capsys.readouterr().err
    assert not target.exists()
