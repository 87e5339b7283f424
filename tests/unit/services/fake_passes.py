"""In-memory pass types and VIP prices: the same answers as `db.pass_repository`, on the fake
unit of work's tables (`passes`: one `PassTables`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventpay.domain import Money
from eventpay.domain.passes import PassType


@dataclass
class PassTables:
    types: dict[str, PassType] = field(default_factory=dict)  # insertion order: oldest first
    vip: dict[str, dict[str, Money]] = field(default_factory=dict)  # event -> class -> price


class FakePassRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _t(self) -> PassTables:
        tables: PassTables = self._uow.tables.passes
        return tables

    def add_pass_type(self, pass_type: PassType, *, created_at: datetime, created_by: str) -> None:
        assert pass_type.id not in self._t.types
        assert pass_type.event_id in self._uow.tables.events
        self._t.types[pass_type.id] = pass_type

    def get_pass_type(self, pass_id: str) -> PassType | None:
        return self._t.types.get(pass_id)

    def pass_types(self, event_id: str) -> Sequence[PassType]:
        return [p for p in self._t.types.values() if p.event_id == event_id]

    def vip_prices(self, event_id: str) -> Mapping[str, Money]:
        return dict(self._t.vip.get(event_id, {}))

    def set_vip_prices(
        self, event_id: str, prices: Mapping[str, Money], *, at: datetime, by: str
    ) -> None:
        self._t.vip[event_id] = dict(prices)

    def order_of_registration(self, registration_id: str) -> str | None:
        for order in self._uow.tables.orders.values():
            if any(reg.id == registration_id for reg in order.registrations):
                return str(order.id)
        return None
