"""Stripe's Reports API for the balance: report runs and the CSV file each one produces.

Listing a million balance transactions 100 per page is 10,000 requests; Stripe's answer for
bulk reading is the Reports API, which this module emulates for one report type,
`balance_change_from_activity.itemized.3` (every balance transaction of the platform, payouts
included, one CSV row each):

- `POST /v1/reporting/report_runs` with `report_type` and `parameters[interval_start]`,
  `parameters[interval_end]` (exclusive; at most `data_available_end`), optionally
  `parameters[columns][]`, `parameters[currency]`, `parameters[reporting_category]` and
  `parameters[timezone]` (only `Etc/UTC` here). The run answers `status: pending`; its rows are
  taken when it is created and its file is written by a thread meanwhile; once written, the run
  reads `succeeded` with a `result` file (Stripe takes seconds to minutes).
- `GET /v1/reporting/report_runs/{id}`, `GET /v1/reporting/report_types/{id}`.
- `GET /v1/files/{id}` (purpose `finance_report_run`, type `csv`) and
  `GET /v1/files/{id}/contents`, which Stripe serves from files.stripe.com (the SDK's "files"
  base address points here in the sandbox) with the same secret key.

As in Stripe's CSV, `gross`, `fee` and `net` are decimal amounts in the currency's major unit
(`12.50` usd, `1250` jpy), `created_utc` is `YYYY-MM-DD HH:MM:SS`, and columns come in the order
asked for. The sandbox knows a subset of the report's columns (`COLUMNS`); its default set is
that subset. Runs and files are kept for the life of the app, not cleared by a store reset
(Stripe keeps them too). Callers hold `store.lock`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import objects
from .currencies import decimals
from .errors import ParameterError, ResourceMissing, StripeError
from .gateway import Call, authenticate
from .objects import JSON
from .store import Store

REPORT_TYPE = "balance_change_from_activity.itemized.3"
COLUMNS = (
    "balance_transaction_id",
    "created_utc",
    "created",
    "available_on_utc",
    "available_on",
    "currency",
    "gross",
    "fee",
    "net",
    "reporting_category",
    "source_id",
    "description",
)
_TIMEZONES = frozenset({"Etc/UTC", "UTC"})

Result = tuple[int, JSON]
StoreOperation = Callable[[Store, Call], Result]


@dataclass
class _Run:
    obj: JSON
    file: JSON
    contents: bytes | None = None  # written by the run's thread; None while pending


@dataclass
class ReportBook:
    """Report runs and their files, by id."""

    runs: dict[str, _Run] = field(default_factory=dict)
    files: dict[str, _Run] = field(default_factory=dict)


@cache
def _scale(currency: str) -> tuple[int, int]:
    places = decimals(currency)
    return places, 10**places


def _major(amount: int, currency: str) -> str:
    places, scale = _scale(currency)
    units, fraction = divmod(abs(amount), scale)
    sign = "-" if amount < 0 else ""
    return f"{sign}{units}.{fraction:0{places}d}" if places else f"{sign}{units}"


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _csv_text(value: object) -> str:
    text = "" if value is None else str(value)
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _source_id(txn: JSON) -> str:
    source = txn.get("source")
    return _csv_text(source.get("id") if isinstance(source, dict) else source)


_CELLS: dict[str, Callable[[JSON], str]] = {
    "balance_transaction_id": lambda t: str(t["id"]),
    "created_utc": lambda t: _when(int(t["created"])),
    "created": lambda t: _when(int(t["created"])),
    "available_on_utc": lambda t: _when(int(t["available_on"])),
    "available_on": lambda t: _when(int(t["available_on"])),
    "currency": lambda t: str(t["currency"]),
    "gross": lambda t: _major(int(t["amount"]), str(t["currency"])),
    "fee": lambda t: _major(int(t["fee"]), str(t["currency"])),
    "net": lambda t: _major(int(t["net"]), str(t["currency"])),
    "reporting_category": lambda t: _csv_text(t.get("reporting_category")),
    "source_id": _source_id,
    "description": lambda t: _csv_text(t.get("description")),
}
assert set(_CELLS) == set(COLUMNS)


def _render(columns: list[str], rows: list[JSON]) -> bytes:
    # Column by column: a million rows are a few seconds this way, several times that per cell.
    cells = [list(map(_CELLS[c], rows)) for c in columns]
    lines = [",".join(columns), *map(",".join, zip(*cells, strict=True))]
    return ("\n".join(lines) + "\n").encode()


def _data_end(store: Store) -> int:
    del store
    return int(time.time())


def _report_type(store: Store) -> JSON:
    found = [int(t["created"]) for t in store.state.balance_transactions.values()]
    return {
        "id": REPORT_TYPE,
        "object": "reporting.report_type",
        "data_available_end": _data_end(store),
        "data_available_start": min(found, default=_data_end(store)),
        "default_columns": list(COLUMNS),
        "livemode": False,
        "name": "Balance change from activity (itemized)",
        "updated": _data_end(store),
        "version": 3,
    }


def _parameters(store: Store, call: Call) -> dict[str, Any]:
    given = call.params.mapping(
        "parameters",
        allowed=[
            "interval_start",
            "interval_end",
            "columns",
            "currency",
            "reporting_category",
            "timezone",
        ],
    )
    if given is None:
        raise ParameterError("Missing required param: parameters.", param="parameters")
    chosen: dict[str, Any] = {}
    for name in ("interval_start", "interval_end"):
        value = given.get(name)
        if value is None or not str(value).lstrip("-").isdigit():
            raise ParameterError(
                f"Missing or invalid required param: parameters[{name}].",
                param=f"parameters[{name}]",
            )
        chosen[name] = int(value)
    if chosen["interval_start"] >= chosen["interval_end"]:
        raise ParameterError(
            "parameters[interval_start] must be before parameters[interval_end].",
            param="parameters[interval_start]",
        )
    if chosen["interval_end"] > _data_end(store):
        raise ParameterError(
            f"parameters[interval_end] must be at most the report type's data_available_end "
            f"({_data_end(store)}).",
            param="parameters[interval_end]",
        )
    columns = given.get("columns")
    if columns is not None:
        listed = list(columns.values()) if isinstance(columns, dict) else columns
        if not isinstance(listed, list) or not listed:
            raise ParameterError("Invalid array: parameters[columns].", param="parameters[columns]")
        unknown = [c for c in listed if c not in COLUMNS]
        if unknown:
            raise ParameterError(
                f"Invalid column(s) for {REPORT_TYPE}: {', '.join(map(str, unknown))}. The "
                f"Stripe sandbox knows: {', '.join(COLUMNS)}.",
                param="parameters[columns]",
            )
        chosen["columns"] = [str(c) for c in listed]
    for name in ("currency", "reporting_category"):
        if given.get(name) is not None:
            chosen[name] = str(given[name]).lower() if name == "currency" else str(given[name])
    timezone = given.get("timezone")
    if timezone is not None:
        if timezone not in _TIMEZONES:
            raise ParameterError(
                "The Stripe sandbox writes reports in Etc/UTC only.", param="parameters[timezone]"
            )
        chosen["timezone"] = str(timezone)
    return chosen


def _selected(
    balance: list[tuple[str, JSON]], owners: dict[str, str | None], chosen: dict[str, Any]
) -> list[JSON]:
    start, end = chosen["interval_start"], chosen["interval_end"]
    currency, category = chosen.get("currency"), chosen.get("reporting_category")
    rows = [
        txn
        for txn_id, txn in balance
        if owners.get(txn_id) is None
        and start <= int(txn["created"]) < end
        and (currency is None or txn["currency"] == currency)
        and (category is None or txn["reporting_category"] == category)
    ]
    rows.sort(key=lambda t: (int(t["created"]), str(t["id"])))
    return rows


def create_run(book: ReportBook, store: Store, call: Call) -> Result:
    call.params.only(["report_type", "parameters", "expand"])
    report_type = call.params.string("report_type")
    if report_type is None:
        raise ParameterError("Missing required param: report_type.", param="report_type")
    if report_type != REPORT_TYPE:
        raise ParameterError(
            f"The Stripe sandbox runs only {REPORT_TYPE}; not {report_type}.",
            param="report_type",
        )
    chosen = _parameters(store, call)
    columns = chosen.get("columns", list(COLUMNS))
    now = int(time.time())
    run_id, file_id = objects.new_id("frr_"), objects.new_id("file_")
    file = {
        "id": file_id,
        "object": "file",
        "created": now,
        "expires_at": now + 365 * 86_400,
        "filename": f"{run_id}.csv",
        "links": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/file_links?file={file_id}",
        },
        "purpose": "finance_report_run",
        "size": 0,
        "title": f"FinanceReportRun {run_id}",
        "type": "csv",
        "url": f"{call.base_url}/v1/files/{file_id}/contents",
    }
    obj: JSON = {
        "id": run_id,
        "object": "reporting.report_run",
        "created": now,
        "error": None,
        "livemode": False,
        "parameters": chosen,
        "report_type": REPORT_TYPE,
        "result": None,
        "status": "pending",
        "succeeded_at": None,
    }
    run = _Run(obj=obj, file=file)
    book.runs[run_id] = run
    book.files[file_id] = run
    # The balance as it is now, taken under the store's lock; read and written meanwhile.
    balance = list(store.state.balance_transactions.items())
    owners = dict(store.state.owners)

    def write() -> None:
        contents = _render(columns, _selected(balance, owners, chosen))
        run.file["size"] = len(contents)
        run.contents = contents

    # As at Stripe, the run answers at once and its file is written meanwhile: a moment later,
    # so that this answer is not held up by the writing thread taking the GIL.
    writer = threading.Timer(0.05, write)
    writer.name, writer.daemon = f"report-{run_id}", True
    writer.start()
    return 200, dict(obj)


def retrieve_run(book: ReportBook, store: Store, call: Call) -> Result:
    del store
    call.params.only(["expand"])
    run = book.runs.get(call.path("id"))
    if run is None:
        raise ResourceMissing("reporting.report_run", call.path("id"))
    if run.contents is not None and run.obj["status"] == "pending":
        # Stripe's run shows its file without the file's links.
        result = {k: v for k, v in run.file.items() if k != "links"}
        run.obj.update(status="succeeded", succeeded_at=int(time.time()), result=result)
    return 200, dict(run.obj)


def retrieve_type(book: ReportBook, store: Store, call: Call) -> Result:
    del book
    call.params.only(["expand"])
    if call.path("id") != REPORT_TYPE:
        raise ResourceMissing("reporting.report_type", call.path("id"))
    return 200, _report_type(store)


def retrieve_file(book: ReportBook, store: Store, call: Call) -> Result:
    del store
    call.params.only(["expand"])
    run = book.files.get(call.path("id"))
    if run is None or run.contents is None:
        raise ResourceMissing("file", call.path("id"))
    return 200, dict(run.file)


def reporting_routes(
    store: Store, api: Callable[[StoreOperation], Callable[[Request], Any]]
) -> list[Route]:
    """The routes above, sharing one `ReportBook`; place them before the catch-all."""
    book = ReportBook()

    def bound(operation: Callable[[ReportBook, Store, Call], Result]) -> StoreOperation:
        return lambda s, call: operation(book, s, call)

    async def contents(request: Request) -> Response:
        try:
            authenticate(request, publishable_ok=False)
        except StripeError as exc:
            return JSONResponse(exc.body(), exc.status)
        with store.lock:
            run = book.files.get(str(request.path_params["id"]))
        if run is None or run.contents is None:
            missing = ResourceMissing("file", str(request.path_params["id"]))
            return JSONResponse(missing.body(), missing.status)
        return Response(run.contents, 200, media_type="text/csv")

    return [
        Route("/v1/reporting/report_runs", api(bound(create_run)), methods=["POST"]),
        Route("/v1/reporting/report_runs/{id}", api(bound(retrieve_run)), methods=["GET"]),
        Route("/v1/reporting/report_types/{id}", api(bound(retrieve_type)), methods=["GET"]),
        Route("/v1/files/{id}/contents", contents, methods=["GET"]),
        Route("/v1/files/{id}", api(bound(retrieve_file)), methods=["GET"]),
    ]
