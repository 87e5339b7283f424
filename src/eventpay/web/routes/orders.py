"""`/v1/orders`, its payments, refund quote and refunds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eventpay.ports import ProviderName
from eventpay.services import orders, payments, withdrawals
from eventpay.services.errors import ServiceError
from eventpay.web.deps import CallerDep, ContainerDep, RawBodyDep
from eventpay.web.idempotency import respond_idempotently
from eventpay.web.rate_limits import RATE_LIMITED_RESPONSE, READ_BUDGET, WRITE_BUDGET
from eventpay.web.schemas import (
    AuditOut,
    MoneyIn,
    MoneyOut,
    OrderCreate,
    OrderOut,
    PaymentCreate,
    PaymentStartOut,
    RefundCreate,
    RefundQuoteOut,
    RefundRequestOut,
    audit_out,
    order_out,
    refund_quote_out,
    refund_request_out,
)

router = APIRouter(prefix="/v1/orders", tags=["orders"], responses=RATE_LIMITED_RESPONSE)


@router.post("", status_code=201, response_model=OrderOut, dependencies=[WRITE_BUDGET])
async def create_order(
    body: OrderCreate, request: Request, container: ContainerDep, caller: CallerDep, raw: RawBodyDep
) -> Response:
    def handler() -> tuple[int, OrderOut]:
        view = orders.create_order(
            uow=container.uow_factory(),
            buyer=caller,
            items=[item.to_item() for item in body.items],
            promo_code=body.promo_code,
            fee_policy=container.fee_policy,
            now=container.clock(),
            expires_in=container.order_expiry,
            providers=container.providers,
        )
        return 201, order_out(view)

    def sold_out(key: str | None) -> ServiceError | None:
        return orders.sold_out_early(
            uow=container.read_uow_factory(),
            buyer=caller,
            items=[item.to_item() for item in body.items],
            now=container.clock(),
            idempotency_key=key,
        )

    return await respond_idempotently(
        request, container, caller, raw, handler, refuse_early=sold_out
    )


@router.get("/{order_id}", response_model=OrderOut, dependencies=[READ_BUDGET])
def get_order(order_id: str, container: ContainerDep, caller: CallerDep) -> OrderOut:
    view = orders.get_order(
        uow=container.uow_factory(), caller=caller, order_id=order_id, now=container.clock()
    )
    return order_out(view)


@router.get("/{order_id}/audit", response_model=list[AuditOut], dependencies=[READ_BUDGET])
def get_order_audit(order_id: str, container: ContainerDep, caller: CallerDep) -> list[AuditOut]:
    """The order's audit trail (admins only; anyone else gets 404)."""
    entries = orders.audit_trail(uow=container.uow_factory(), caller=caller, order_id=order_id)
    return [audit_out(e) for e in entries]


@router.post(
    "/{order_id}/payments",
    status_code=201,
    response_model=PaymentStartOut,
    dependencies=[WRITE_BUDGET],
)
async def start_payment(
    order_id: str,
    body: PaymentCreate,
    request: Request,
    container: ContainerDep,
    caller: CallerDep,
    raw: RawBodyDep,
) -> Response:
    def handler() -> tuple[int, PaymentStartOut]:
        started = payments.start_payment(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            order_id=order_id,
            provider=ProviderName(body.provider),
            return_url=body.return_url,
            clock=container.clock,
            urls=container.return_urls,
        )
        p = started.payment
        container.metrics.payments_started.labels(p.provider.value, p.status.value).inc()
        return 201, PaymentStartOut(
            id=p.id,
            provider=p.provider.value,
            status=p.status.value,
            amount=MoneyOut(amount=p.amount, currency=p.currency),
            client_secret=started.client_secret,
            approve_url=started.approve_url,
        )

    return await respond_idempotently(request, container, caller, raw, handler)


@router.get("/{order_id}/refund-quote", response_model=RefundQuoteOut, dependencies=[READ_BUDGET])
def get_refund_quote(order_id: str, container: ContainerDep, caller: CallerDep) -> RefundQuoteOut:
    """What a refund requested now would return, under which published rule, and the options."""
    now = container.clock()
    quoted = withdrawals.quote(
        uow=container.uow_factory(),
        caller=caller,
        order_id=order_id,
        now=now,
        providers=container.providers,
    )
    return refund_quote_out(quoted, now=now)


@router.post(
    "/{order_id}/refunds",
    status_code=201,
    response_model=RefundRequestOut,
    dependencies=[WRITE_BUDGET],
)
async def request_refund(
    order_id: str,
    body: RefundCreate,
    request: Request,
    container: ContainerDep,
    caller: CallerDep,
    raw: RawBodyDep,
) -> Response:
    """Withdraw (the buyer, under the refund terms) or refund (an admin, any part held)."""
    amount, currency = (
        (body.amount.amount, body.amount.currency)
        if isinstance(body.amount, MoneyIn)
        else (body.amount, None)
    )

    key = request.headers.get("idempotency-key")
    # The key also reaches the service, so a retry after a lost first answer refunds nothing new.
    request_key = None if key is None else f"{caller.user_id}:{key}"

    def handler() -> tuple[int, RefundRequestOut]:
        parts = withdrawals.request(
            uow_factory=container.uow_factory,
            providers=container.providers,
            caller=caller,
            order_id=order_id,
            amount=amount,
            currency=currency,
            reason=body.reason,
            method=withdrawals.RefundMethod(body.method),
            clock=container.clock,
            request_key=request_key,
        )
        return 201, refund_request_out(parts, method=body.method)

    return await respond_idempotently(request, container, caller, raw, handler)
