"""`eventpay catalog import FILE [--dry-run] [--database-url URL]`: load or update organizers
and events from a JSON or YAML file, the way a fresh deployment gets its catalog.

The file is `{"organizers": [{id, name, paypal_email?}], "events": [{...}], "series": [...]}`,
each event with the fields of `POST /v1/events` plus its `id` and `organizer_id`, and what it
sells, each as its API route takes it: `gate` (PUT .../gate), `pass_types`, `vip` (PUT
.../vip), `teams` (PUT .../teams), `merchandise`, `sponsor_packages`, `promo_codes`; a series
as `POST /v1/series` takes it (read through the same models, so an unknown field is refused
here too, naming its path). Everything goes through
`services.catalog_import.import_catalog` as the operator `cli:catalog-import` (an admin): the
same rules, the same 409s, audited, in one transaction. It is idempotent: classes are matched
by id, else by code, and a second run reports that nothing changed and writes nothing. Classes
an event no longer lists are removed (refused once ordered). `--dry-run` prints the same
report and writes nothing. Exit status 0 when done (or nothing to do), 2 when the file or a
rule refused it (nothing written then).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eventpay.config import Settings

if TYPE_CHECKING:
    from eventpay.services.catalog_import import ImportReport

OPERATOR = "cli:catalog-import"


def _file_model() -> type[BaseModel]:
    from eventpay.web.catalog_schemas import SLUG, EventIn
    from eventpay.web.routes.merchandise import ProductIn
    from eventpay.web.routes.passes import GateIn, PassIn, VipIn
    from eventpay.web.routes.promo_codes import PromoCodeIn
    from eventpay.web.routes.series import SeriesIn
    from eventpay.web.routes.sponsorships import PackageIn
    from eventpay.web.routes.teams import TeamSetupIn

    class OrganizerIn(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: str = Field(pattern=SLUG)
        name: str = Field(min_length=1, max_length=200)
        paypal_email: str | None = Field(default=None, max_length=254)

    class EventFileIn(EventIn):
        """An event with what it sells, each product as its API route takes it."""

        gate: GateIn | None = None
        pass_types: list[PassIn] = Field(default_factory=list)
        vip: VipIn | None = None
        teams: TeamSetupIn | None = None
        merchandise: list[ProductIn] = Field(default_factory=list)
        sponsor_packages: list[PackageIn] = Field(default_factory=list)
        promo_codes: list[PromoCodeIn] = Field(default_factory=list)

    class CatalogFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        organizers: list[OrganizerIn] = Field(default_factory=list)
        events: list[EventFileIn] = Field(default_factory=list)
        series: list[SeriesIn] = Field(default_factory=list)

    return CatalogFile


def _products(event: Any) -> Any:
    """An event's products of the file as the import takes them (`EventProducts`)."""
    from eventpay.services.catalog_products import EventProducts, GateSetup, VipSetup
    from eventpay.services.passes import PassInput, PriceInput
    from eventpay.services.sponsorships import PackageInput
    from eventpay.services.teams import TeamSetup
    from eventpay.web.schemas import MoneyIn

    def price(value: Any) -> PriceInput:
        if isinstance(value, MoneyIn):
            return PriceInput(value.amount, value.currency)
        return PriceInput(value)

    teams = None
    if event.teams is not None:
        fee = price(event.teams.fee)
        teams = TeamSetup(
            class_id=event.teams.class_id,
            fee_mode=event.teams.fee_mode,
            fee=fee.amount,
            fee_currency=fee.currency,
            min_members=event.teams.min_members,
            max_members=event.teams.max_members,
            capacity=event.teams.capacity,
        )
    return EventProducts(
        gate=None if event.gate is None else GateSetup(event.gate.capacity_per_day),
        pass_types=tuple(
            PassInput(name=p.name, price=price(p.price), days=p.days) for p in event.pass_types
        ),
        vip=None
        if event.vip is None
        else VipSetup(event.vip.capacity, {k: price(v) for k, v in event.vip.prices.items()}),
        teams=teams,
        merchandise=tuple(p.to_input() for p in event.merchandise),
        sponsor_packages=tuple(
            PackageInput(p.kind, p.name, p.price, p.quantity, p.currency)
            for p in event.sponsor_packages
        ),
        promo_codes=tuple(p.to_input() for p in event.promo_codes),
    )


class FileRefused(Exception):
    """The file cannot be imported; the message says where."""


def _read(path: Path) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileRefused(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FileRefused(f"{path}: not JSON ({exc})") from None
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise FileRefused(f"{path}: not YAML ({exc})") from None


@dataclass(frozen=True)
class CatalogFile:
    organizers: list[Any]
    events: list[Any]  # EventDraft
    products: dict[str, Any]  # EventProducts, by event id
    series: list[Any]  # SeriesSetup


def load(path: Path) -> CatalogFile:
    """What a catalog file holds, as the import takes it; FileRefused naming the field."""
    from eventpay.domain import Organizer
    from eventpay.services.series import SeriesSetup
    from eventpay.web.catalog_schemas import event_draft

    try:
        parsed: Any = _file_model().model_validate(_read(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise FileRefused(f"{path}: {where}: {first['msg']}") from None
    organizers = []
    for index, o in enumerate(parsed.organizers):
        try:
            organizers.append(Organizer(id=o.id, name=o.name, paypal_email=o.paypal_email))
        except ValueError as exc:
            raise FileRefused(f"{path}: organizers.{index}: {exc}") from None
    return CatalogFile(
        organizers,
        [event_draft(e) for e in parsed.events],
        {e.id: _products(e) for e in parsed.events if e.id is not None},
        [
            SeriesSetup(
                name=s.name,
                event_ids=tuple(s.event_ids),
                prices=dict(s.prices),
                currency=s.currency,
            )
            for s in parsed.series
        ],
    )


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return "null" if value is None else str(value)


def _diff(changes: Mapping[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k}: {_shown(a)} -> {_shown(b)}" for k, (a, b) in changes.items())


def _line(what: str, action: str, changes: Mapping[str, tuple[Any, Any]]) -> str:
    return f"{what}: {action}" + (f" ({_diff(changes)})" if changes else "")


def print_report(report: ImportReport) -> int:
    """Print one line per organizer, event, class and product; returns how many of them
    (classes aside) changed."""
    changed = 0
    for o in report.organizers:
        changed += o.action != "unchanged"
        print(_line(f"organizer {o.organizer_id}", o.action, o.changes))
    for e in report.events:
        changed += e.action != "unchanged"
        print(_line(f"event {e.event_id}", e.action, e.changes))
        for c in e.classes.added:
            print(f"  class {c.id}: create")
        for class_id, fields in e.classes.updated.items():
            print(f"  class {class_id}: update ({_diff(fields)})")
        for c in e.classes.removed:
            print(f"  class {c.id}: remove")
    for p in report.products:
        changed += p.action != "unchanged"
        where = "" if p.event_id is None else f" of event {p.event_id}"
        print(_line(f"{p.kind} {p.name!r}{where}", p.action, p.changes))
    return changed


def cmd_catalog_import(args: argparse.Namespace, settings: Settings) -> int:
    from eventpay.bootstrap import utc_now
    from eventpay.db.engine import make_engine
    from eventpay.db.uow import SqlUnitOfWorkFactory
    from eventpay.ports import Principal, Role
    from eventpay.services import catalog_import
    from eventpay.services.errors import ServiceError

    try:
        loaded = load(Path(args.file))
    except FileRefused as exc:
        print(f"catalog import refused: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        report = catalog_import.import_catalog(
            uow_factory=SqlUnitOfWorkFactory(engine),
            caller=Principal(user_id=OPERATOR, role=Role.ADMIN),
            now=utc_now(),
            organizers=loaded.organizers,
            events=loaded.events,
            products=loaded.products,
            series=loaded.series,
            dry_run=args.dry_run,
        )
    except ServiceError as exc:
        where = ", ".join(
            f"{key} {exc.details[key]}"
            for key in ("event_id", "class_id", "field")
            if key in exc.details
        )
        print(f"catalog import refused ({exc.code}; {where}): {exc.message}", file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    changed = print_report(report)
    if not changed:
        print("nothing to change: the database already holds this catalog")
    elif report.dry_run:
        print(f"dry run: {changed} organizers, events or products would change, nothing written")
    else:
        print(f"{changed} organizers, events or products changed")
    return 0


def add_catalog_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    settings: Callable[[], Settings],
    require_migrated: Callable[[Settings], None],
) -> None:
    """Add `catalog import` to the `eventpay` parser's subcommands (`sub`)."""
    parser = sub.add_parser("catalog", help="load or update organizers and events from a file")
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser(
        "import", help="create or update the organizers and events of a JSON or YAML file"
    )
    run.add_argument("file", help="the catalog file (.json, or YAML otherwise)")
    run.add_argument(
        "--dry-run", action="store_true", help="print what would change, write nothing"
    )
    run.add_argument("--database-url", help="default: EVENTPAY_DATABASE_URL")

    def go(args: argparse.Namespace) -> int:
        chosen = settings()
        if args.database_url:
            chosen = chosen.model_copy(update={"database_url": args.database_url})
        require_migrated(chosen)
        return cmd_catalog_import(args, chosen)

    run.set_defaults(func=go)
