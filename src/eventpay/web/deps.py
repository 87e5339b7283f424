"""FastAPI dependencies as `Annotated` aliases (the full-stack template's `deps.py` style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from eventpay.bootstrap import Container
from eventpay.ports import Principal
from eventpay.web.auth import InvalidToken, decode_token
from eventpay.web.errors import ApiError


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def get_container(request: Request) -> Container:
    # async: FastAPI runs plain-function dependencies in the thread pool, a hop per request.
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def get_caller(request: Request, container: ContainerDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "A bearer token is required.", headers=challenge)
    settings = container.settings
    try:
        return decode_token(
            token.strip(),
            key=settings.jwt_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            audience=settings.jwt_audience,
            ip_address=client_ip(request),
        )
    except InvalidToken:
        raise ApiError(
            401, "invalid_token", "The bearer token is not valid.", headers=challenge
        ) from None


CallerDep = Annotated[Principal, Depends(get_caller)]


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBodyDep = Annotated[bytes, Depends(raw_body)]
