"""The passes port: an event's pass types and its classes' VIP prices.

Capacities are not here: the gate's places per day and the VIP places are stock items of the
places port (`domain.passes.gate_stock_id`, `vip_stock_id`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from eventpay.domain import Money
from eventpay.domain.passes import PassType


class PassRepository(Protocol):
    def add_pass_type(
        self, pass_type: PassType, *, created_at: datetime, created_by: str
    ) -> None: ...

    def get_pass_type(self, pass_id: str) -> PassType | None: ...

    def pass_types(self, event_id: str) -> Sequence[PassType]:
        """The event's pass types, oldest first."""
        ...

    def vip_prices(self, event_id: str) -> Mapping[str, Money]:
        """Each class's VIP price, by class id; classes without one are absent."""
        ...

    def set_vip_prices(
        self, event_id: str, prices: Mapping[str, Money], *, at: datetime, by: str
    ) -> None:
        """Replace the event's VIP prices with `prices` (a class not named has none)."""
        ...

    def order_of_registration(self, registration_id: str) -> str | None:
        """The id of the order that holds the registration; None: no such registration."""
        ...
