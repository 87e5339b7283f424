"""What an organizer sells besides entries, loaded from a catalog file: the gate's places per
day, pass types, VIP, the team competition, merchandise (`catalog_merch`), sponsor packages and
promo codes of an event, and series packages across events (`catalog_import` calls this inside
its transaction).

Each product is compared with what is stored, and only a difference is applied, through the
organizer's own use case (`passes`, `teams`, `series`, `merchandise`, `sponsorships`,
`promo_codes`) joined to the import's unit of work (`catalog_file.joined`): the same rules,
errors and audit rows as the API, and nothing committed until the whole file went through.
Products are matched by what the organizer names them: a pass type, sponsor package (with its
kind) or series by its name, a promo code by its code. What has no edit use case (pass types,
sponsor packages, promo codes, series) is created once; a file that describes one differently
afterwards is refused (409 `product_differs`, naming the fields) rather than silently ignored.
Products the file does not list are left as they are.

What must not live here: a rule about a product (the use cases and the domain decide), reading
the file (the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eventpay.domain import Event
from eventpay.domain.catalog_rules import Change
from eventpay.domain.errors import InvalidPromoCode
from eventpay.domain.passes import PassError, event_days, gate_stock_id, resolve_days, vip_stock_id
from eventpay.domain.promotions import normalize_code
from eventpay.domain.teams import team_stock_id
from eventpay.ports import Principal, UnitOfWork, UnitOfWorkFactory
from eventpay.services import passes, promo_codes, series, sponsorships, teams
from eventpay.services.catalog_file import ProductEdit, at, class_id, differs, joined, money
from eventpay.services.catalog_merch import put_products
from eventpay.services.errors import InvalidRequest
from eventpay.services.merchandise import ProductInput
from eventpay.services.passes import PassInput, PriceInput
from eventpay.services.promo_codes import PromoCodeInput
from eventpay.services.series import SeriesSetup
from eventpay.services.sponsorships import PackageInput
from eventpay.services.teams import TeamSetup

__all__ = [
    "EventProducts",
    "GateSetup",
    "ProductEdit",
    "VipSetup",
    "put_event_products",
    "put_series",
]


@dataclass(frozen=True, slots=True)
class GateSetup:
    capacity_per_day: int | None


@dataclass(frozen=True, slots=True)
class VipSetup:
    capacity: int | None
    prices: Mapping[str, PriceInput]  # by class id or code


@dataclass(frozen=True, slots=True)
class EventProducts:
    """An event's products as a file gives them; None or empty: the file says nothing of
    that kind (what is stored stays)."""

    gate: GateSetup | None = None
    pass_types: tuple[PassInput, ...] = ()
    vip: VipSetup | None = None
    teams: TeamSetup | None = None
    merchandise: tuple[ProductInput, ...] = ()
    sponsor_packages: tuple[PackageInput, ...] = ()
    promo_codes: tuple[PromoCodeInput, ...] = ()


@dataclass(slots=True)
class _Step:
    uow: UnitOfWork
    caller: Principal
    now: datetime
    event: Event
    path: str
    edits: list[ProductEdit] = field(default_factory=list)

    @property
    def factory(self) -> UnitOfWorkFactory:
        return joined(self.uow)

    def edit(
        self, kind: str, name: str, action: str, diff: Mapping[str, Change] | None = None
    ) -> None:
        self.edits.append(ProductEdit(kind, name, self.event.id, action, dict(diff or {})))

    # ------------------------------------------------------------------ gate and VIP

    def gate(self, asked: GateSetup) -> None:
        days = event_days(self.event)
        stock_ids = [gate_stock_id(self.event.id, day) for day in days]
        levels = self.uow.places.levels(stock_ids)
        now_caps = {levels[s].capacity if s in levels else None for s in stock_ids}
        if now_caps == {asked.capacity_per_day}:
            self.edit("gate", "capacity_per_day", "unchanged")
            return
        before = next(iter(now_caps)) if len(now_caps) == 1 else "varies"
        with at(f"{self.path}.gate"):
            passes.set_gate_capacity(
                uow_factory=self.factory,
                caller=self.caller,
                event_id=self.event.id,
                capacity=asked.capacity_per_day,
                now=self.now,
            )
        diff = {"capacity_per_day": (before, asked.capacity_per_day)}
        self.edit("gate", "capacity_per_day", "update", diff)

    def vip(self, asked: VipSetup) -> None:
        level = self.uow.places.levels([vip_stock_id(self.event.id)]).get(
            vip_stock_id(self.event.id)
        )
        stored = dict(self.uow.passes.vip_prices(self.event.id))
        prices = {class_id(self.event, key): price for key, price in asked.prices.items()}
        with at(f"{self.path}.vip"):
            wanted = {
                key: money(price.amount, price.currency, self.event)
                for key, price in prices.items()
            }
        diff: dict[str, Change] = {}
        if level is None or level.capacity != asked.capacity:
            diff["capacity"] = (None if level is None else level.capacity, asked.capacity)
        if stored != wanted:
            diff["prices"] = (
                {k: v.amount for k, v in stored.items()},
                {k: v.amount for k, v in wanted.items()},
            )
        if not diff:
            self.edit("vip", "vip", "unchanged")
            return
        with at(f"{self.path}.vip"):
            passes.set_vip(
                uow_factory=self.factory,
                caller=self.caller,
                event_id=self.event.id,
                capacity=asked.capacity,
                prices=prices,
                now=self.now,
            )
        self.edit("vip", "vip", "create" if level is None else "update", diff)

    # ------------------------------------------------------------------ pass types

    def pass_types(self, asked: Sequence[PassInput]) -> None:
        stored = {p.name: p for p in self.uow.passes.pass_types(self.event.id)}
        for index, wanted in enumerate(asked):
            path = f"{self.path}.pass_types[{index}]"
            name = wanted.name.strip()
            old = stored.get(name)
            if old is None:
                with at(path):
                    passes.create_pass_type(
                        uow_factory=self.factory,
                        caller=self.caller,
                        event_id=self.event.id,
                        asked=wanted,
                        now=self.now,
                    )
                self.edit("pass_type", name, "create")
                continue
            with at(path):
                try:
                    days = resolve_days(self.event, wanted.days)
                except PassError as exc:
                    raise InvalidRequest(exc.code, str(exc), exc.details) from None
                diff: dict[str, Change] = {}
                if old.price != money(wanted.price.amount, wanted.price.currency, self.event):
                    diff["price"] = (old.price.amount, wanted.price.amount)
                if old.days != days:
                    diff["days"] = (
                        [d.isoformat() for d in old.days],
                        [d.isoformat() for d in days],
                    )
                if diff:
                    raise differs("pass type", name, diff)
            self.edit("pass_type", name, "unchanged")

    # ------------------------------------------------------------------ teams

    def teams(self, asked: TeamSetup) -> None:
        asked = TeamSetup(
            class_id=class_id(self.event, asked.class_id),
            fee_mode=asked.fee_mode,
            fee=asked.fee,
            min_members=asked.min_members,
            max_members=asked.max_members,
            capacity=asked.capacity,
            fee_currency=asked.fee_currency,
        )
        stored = self.uow.teams.get_competition(self.event.id)
        level = self.uow.places.levels([team_stock_id(self.event.id)]).get(
            team_stock_id(self.event.id)
        )
        diff: dict[str, Change] = {}
        if stored is not None:
            before = {
                "class_id": stored.class_id,
                "fee_mode": stored.fee_mode,
                "fee": stored.fee,
                "min_members": stored.min_members,
                "max_members": stored.max_members,
                "capacity": None if level is None else level.capacity,
            }
            after = {
                "class_id": asked.class_id,
                "fee_mode": asked.fee_mode,
                "fee": asked.fee,
                "min_members": asked.min_members,
                "max_members": asked.max_members,
                "capacity": asked.capacity,
            }
            diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            currency = (asked.fee_currency or self.event.currency).lower()
            if not diff and currency == self.event.currency:
                self.edit("teams", "team competition", "unchanged")
                return
        with at(f"{self.path}.teams"):
            teams.configure_teams(
                uow_factory=self.factory,
                caller=self.caller,
                event_id=self.event.id,
                asked=asked,
                now=self.now,
            )
        action = "create" if stored is None else "update"
        self.edit("teams", "team competition", action, diff)

    # ------------------------------------------------------------------ merchandise

    # ------------------------------------------------------------------ sponsor packages

    def sponsor_packages(self, asked: Sequence[PackageInput]) -> None:
        stored = {
            (p.kind.value, p.name): p for p in self.uow.sponsorships.packages_for(self.event.id)
        }
        for index, wanted in enumerate(asked):
            path = f"{self.path}.sponsor_packages[{index}]"
            name = wanted.name.strip()
            old = stored.get((wanted.kind, name))
            with at(path):
                if old is None:
                    sponsorships.create_package(
                        uow_factory=self.factory,
                        caller=self.caller,
                        event_id=self.event.id,
                        asked=wanted,
                        clock=lambda: self.now,
                    )
                    self.edit("sponsor_package", name, "create")
                    continue
                price = money(wanted.price, wanted.currency, self.event)
                diff: dict[str, Change] = {}
                if old.price != price:
                    diff["price"] = (old.price.amount, price.amount)
                if old.quantity != wanted.quantity:
                    diff["quantity"] = (old.quantity, wanted.quantity)
                if diff:
                    raise differs("sponsor package", name, diff)
            self.edit("sponsor_package", name, "unchanged")

    # ------------------------------------------------------------------ promo codes

    def promo_codes(self, asked: Sequence[PromoCodeInput]) -> None:
        stored = {p.code: p for p in self.uow.promos.list_for_event(self.event.id)}
        for index, wanted in enumerate(asked):
            path = f"{self.path}.promo_codes[{index}]"
            with at(path):
                try:
                    code = normalize_code(wanted.code)
                except InvalidPromoCode:
                    code = wanted.code  # refused by `create_promo_code`, naming the field
                old = stored.get(code)
                if old is None:
                    promo_codes.create_promo_code(
                        uow_factory=self.factory,
                        caller=self.caller,
                        event_id=self.event.id,
                        asked=wanted,
                        now=self.now,
                    )
                    self.edit("promo_code", code, "create")
                    continue
                before = {
                    "percent_off": old.percent_off,
                    "amount_off": old.amount_off,
                    "applies_to": old.applies_to,
                    "max_uses": old.max_uses,
                    "max_uses_per_buyer": old.max_uses_per_buyer,
                    "valid_from": old.valid_from,
                    "valid_until": old.valid_until,
                }
                after = {
                    "percent_off": wanted.percent_off,
                    "amount_off": wanted.amount_off,
                    "applies_to": wanted.applies_to,
                    "max_uses": wanted.max_uses,
                    "max_uses_per_buyer": wanted.max_uses_per_buyer,
                    "valid_from": _utc(wanted.valid_from),
                    "valid_until": _utc(wanted.valid_until),
                }
                diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                if diff:
                    raise differs("promo code", code, diff)
            self.edit("promo_code", code, "unchanged")


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def put_event_products(
    uow: UnitOfWork,
    caller: Principal,
    now: datetime,
    *,
    event_id: str,
    products: EventProducts,
    path: str,
) -> list[ProductEdit]:
    """Bring one event's products to what the file says, inside `uow`; what each one did."""
    event = uow.catalog.get_event(event_id)
    assert event is not None  # the import created or updated it first
    step = _Step(uow, caller, now, event, path)
    if products.gate is not None:
        step.gate(products.gate)
    step.pass_types(products.pass_types)
    if products.vip is not None:
        step.vip(products.vip)
    if products.teams is not None:
        step.teams(products.teams)
    step.edits.extend(
        put_products(uow, caller, now, event=event, asked=products.merchandise, path=path)
    )
    step.sponsor_packages(products.sponsor_packages)
    step.promo_codes(products.promo_codes)
    return step.edits


def put_series(
    uow: UnitOfWork, caller: Principal, now: datetime, asked: Sequence[SeriesSetup]
) -> list[ProductEdit]:
    """Create the series packages the database does not hold yet (matched by name)."""
    stored = {s.name: s for s in uow.teams.list_series()}
    edits = []
    for index, wanted in enumerate(asked):
        path = f"series[{index}]"
        name = " ".join(wanted.name.split())
        old = stored.get(name)
        with at(path):
            if old is None:
                series.create_series(uow_factory=joined(uow), caller=caller, asked=wanted, now=now)
                edits.append(ProductEdit("series", name, None, "create"))
                continue
            diff: dict[str, Change] = {}
            if tuple(old.event_ids) != tuple(wanted.event_ids):
                diff["event_ids"] = (list(old.event_ids), list(wanted.event_ids))
            if dict(old.prices) != dict(wanted.prices):
                diff["prices"] = (dict(old.prices), dict(wanted.prices))
            if diff:
                raise differs("series", name, diff)
        edits.append(ProductEdit("series", name, None, "unchanged"))
    return edits
