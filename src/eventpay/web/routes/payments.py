"""`/v1/payments/{id}/...`: the buyer's way back from a provider's hosted page, and capture.

PayPal sends the buyer's browser to these URLs (no bearer token: it is a redirect). They are
safe to call by anyone who has the link: the provider's order id in `token` must match the
attempt, capturing only takes money the buyer approved at PayPal, and cancelling only ends an
attempt that took no money. The browser is then sent on to the client's own `return_url`.
Having no bearer token, the two ways back count against the client IP's public rate-limit budget;
capture counts against its caller's write budget.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from eventpay.ports import PaymentRecord
from eventpay.services import buyer_returns
from eventpay.web.deps import CallerDep, ContainerDep, RawBodyDep
from eventpay.web.idempotency import respond_idempotently
from eventpay.web.rate_limits import PUBLIC_BUDGET, RATE_LIMITED_RESPONSE, WRITE_BUDGET
from eventpay.web.schemas import PaymentOut, payment_out

router = APIRouter(prefix="/v1/payments", tags=["payments"], responses=RATE_LIMITED_RESPONSE)


def _back_to_client(payment: PaymentRecord, outcome: str) -> Response:
    body = payment_out(payment)
    if not payment.return_url:
        return JSONResponse({"outcome": outcome, "payment": body.model_dump(mode="json")})
    parts = urlsplit(payment.return_url)
    extra = urlencode(
        {"payment_id": payment.id, "order_id": payment.order_id, "status": payment.status.value}
    )
    query = f"{parts.query}&{extra}" if parts.query else extra
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=303)


@router.get("/{payment_id}/paypal/return", include_in_schema=True, dependencies=[PUBLIC_BUDGET])
async def paypal_return(
    payment_id: str, container: ContainerDep, token: str = Query(min_length=1, max_length=64)
) -> Response:
    """PayPal's `return_url`: capture now (once, whoever else is capturing) and go back."""
    payment = await run_in_threadpool(
        lambda: buyer_returns.return_from_provider(
            uow_factory=container.uow_factory,
            providers=container.providers,
            payment_id=payment_id,
            provider_ref=token,
            clock=container.clock,
        )
    )
    return _back_to_client(payment, "returned")


@router.get("/{payment_id}/paypal/cancel", dependencies=[PUBLIC_BUDGET])
async def paypal_cancel(
    payment_id: str, container: ContainerDep, token: str = Query(min_length=1, max_length=64)
) -> Response:
    """PayPal's `cancel_url`: the buyer cancelled at PayPal; the order keeps waiting."""
    payment = await run_in_threadpool(
        lambda: buyer_returns.cancel_by_buyer(
            uow_factory=container.uow_factory,
            providers=container.providers,
            payment_id=payment_id,
            provider_ref=token,
            clock=container.clock,
        )
    )
    return _back_to_client(payment, "cancelled")


@router.post("/{payment_id}/capture", response_model=PaymentOut, dependencies=[WRITE_BUDGET])
async def capture(
    payment_id: str, request: Request, container: ContainerDep, caller: CallerDep, raw: RawBodyDep
) -> Response:
    """For API clients that handle the return themselves: capture an approved payment.

    Safe to repeat (the provider capture key is fixed per attempt); an `Idempotency-Key` also
    replays the first answer exactly, as on every money-moving POST.
    """

    def handler() -> tuple[int, PaymentOut]:
        captured = buyer_returns.capture_for_buyer(
            uow_factory=container.uow_factory,
            providers=container.providers,
            payment_id=payment_id,
            caller=caller,
            clock=container.clock,
        )
        return 200, payment_out(captured)

    return await respond_idempotently(request, container, caller, raw, handler)
