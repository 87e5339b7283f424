"""`/v1/sandbox/...`: controls that exist only while the service is not in production.

The equivalent of Stripe's test clocks for what eventpay itself times: an admin brings an
order's reservation expiry forward to now. In production every route here answers 404, as if
it did not exist.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from eventpay.services import reservations
from eventpay.services.errors import NotFound
from eventpay.web.deps import CallerDep, ContainerDep
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, WRITE_BUDGET

router = APIRouter(prefix="/v1/sandbox", tags=["sandbox"], responses=RATE_LIMITED_RESPONSE)


class ExpiredOut(BaseModel):
    order_id: str
    places_released: int


@router.post("/orders/{order_id}/expire", response_model=ExpiredOut, dependencies=[WRITE_BUDGET])
def expire_order(order_id: str, container: ContainerDep, caller: CallerDep) -> ExpiredOut:
    """Expire the order now and release its reserved places (admins; never in production)."""
    if container.settings.is_production:
        raise NotFound("not_found", "No such route.", {})
    released = reservations.expire_order(
        uow_factory=container.uow_factory,
        caller=caller,
        order_id=order_id,
        clock=container.clock,
    )
    return ExpiredOut(order_id=order_id, places_released=released)
