"""Stripe's Reports API in the sandbox: a balance report run and the CSV file it produces.

Driven with the real `stripe` SDK (report runs, report types, files) and httpx (the file's
contents, which the SDK does not download). Shapes follow fixtures3.json; the CSV follows
Stripe's documented columns: decimal amounts in major units, UTC times, columns as asked.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx
import pytest
import stripe
from sandbox_shapes import load_examples, shape_problems

REPORT = "balance_change_from_activity.itemized.3"
SK = ("sk_test_reports", "")


def _paid(client: stripe.StripeClient, amount: int, currency: str) -> Any:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "description": "Ticket order",
        }
    )


def _run(client: stripe.StripeClient, **parameters: Any) -> Any:
    return client.v1.reporting.report_runs.create(
        params={"report_type": REPORT, "parameters": parameters},
        options={"idempotency_key": f"report-{time.monotonic_ns()}"},
    )


def _finished(client: stripe.StripeClient, run_id: str) -> Any:
    """The run once its file is written (the sandbox writes it in the background, as Stripe)."""
    deadline = time.monotonic() + 10
    while True:
        run = client.v1.reporting.report_runs.retrieve(run_id)
        if run.status != "pending" or time.monotonic() > deadline:
            return run
        time.sleep(0.02)


def _rows(http: httpx.Client, file_id: str) -> list[dict[str, str]]:
    answer = http.get(f"/v1/files/{file_id}/contents", auth=SK)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_a_report_run_lists_charges_and_refunds_in_major_units(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    start = int(time.time()) - 5
    usd = _paid(client, 4500, "usd")
    yen = _paid(client, 5000, "jpy")
    refund = client.v1.refunds.create(params={"payment_intent": usd.id, "amount": 1250})
    end = int(time.time())
    time.sleep(1.05)  # interval_end is exclusive and in whole seconds

    run = _run(
        client,
        interval_start=start,
        interval_end=end + 1,
        columns=[
            "balance_transaction_id",
            "reporting_category",
            "source_id",
            "currency",
            "gross",
            "fee",
            "net",
        ],
    )
    assert run.status == "pending"
    assert run.result is None
    done = _finished(client, run.id)
    assert done.status == "succeeded"
    assert done.result is not None
    assert done.result.purpose == "finance_report_run"
    assert done.result.type == "csv"
    assert client.v1.files.retrieve(done.result.id).size == done.result.size

    rows = _rows(http, done.result.id)
    assert list(rows[0]) == [
        "balance_transaction_id",
        "reporting_category",
        "source_id",
        "currency",
        "gross",
        "fee",
        "net",
    ]
    by_source = {r["source_id"]: r for r in rows}
    charge = by_source[usd.latest_charge]
    assert (charge["reporting_category"], charge["currency"], charge["gross"]) == (
        "charge",
        "usd",
        "45.00",
    )
    assert (charge["fee"], charge["net"]) == ("1.61", "43.39")
    assert by_source[yen.latest_charge]["gross"] == "5000"
    assert by_source[refund.id]["reporting_category"] == "refund"
    assert by_source[refund.id]["gross"] == "-12.50"
    assert len(rows) == 3


def test_filters_and_the_interval_edges(client: stripe.StripeClient, http: httpx.Client) -> None:
    start = int(time.time()) - 5
    _paid(client, 1000, "usd")
    _paid(client, 700, "eur")
    time.sleep(1.05)
    end = int(time.time())

    run = _run(client, interval_start=start, interval_end=end, currency="eur")
    done = _finished(client, run.id)
    rows = _rows(http, done.result.id)
    assert [r["currency"] for r in rows] == ["eur"]
    assert "balance_transaction_id" in rows[0]

    empty = _run(client, interval_start=start - 100, interval_end=start - 50)
    assert _rows(http, _finished(client, empty.id).result.id) == []


@pytest.mark.parametrize(
    ("parameters", "param"),
    [
        ({"interval_start": 10}, "parameters[interval_end]"),
        ({"interval_start": 20, "interval_end": 10}, "parameters[interval_start]"),
        ({"interval_start": 1, "interval_end": 4_000_000_000}, "parameters[interval_end]"),
        ({"interval_start": 1, "interval_end": 2, "columns": ["no_such"]}, "parameters[columns]"),
    ],
)
def test_bad_parameters_are_refused_like_stripe(
    client: stripe.StripeClient, parameters: dict[str, Any], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _run(client, **parameters)
    assert refused.value.param == param


def test_file_contents_need_the_secret_key_and_a_finished_run(
    client: stripe.StripeClient, http: httpx.Client
) -> None:
    run = _run(client, interval_start=1, interval_end=int(time.time()))
    done = _finished(client, run.id)
    assert http.get(f"/v1/files/{done.result.id}/contents").status_code == 401
    assert http.get("/v1/files/file_nothing/contents", auth=SK).status_code == 404
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.reporting.report_runs.create(
            params={"report_type": "balance.summary.1", "parameters": {"interval_start": 1}}
        )


def test_shapes_match_stripes_examples(client: stripe.StripeClient, http: httpx.Client) -> None:
    examples = load_examples()
    run = _run(client, interval_start=1, interval_end=int(time.time()))
    _finished(client, run.id)
    done = http.get(f"/v1/reporting/report_runs/{run.id}", auth=SK).json()
    file = http.get(f"/v1/files/{done['result']['id']}", auth=SK).json()
    kind = http.get(f"/v1/reporting/report_types/{REPORT}", auth=SK).json()

    for ours, name in (
        (done, "reporting.report_run"),
        (file, "file"),
        (kind, "reporting.report_type"),
    ):
        assert shape_problems(ours, examples[name], name, examples) == []
