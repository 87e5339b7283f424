"""Integration fixtures: every API test runs on SQLite and on PostgreSQL, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container
from eventpay.db import migrate
from eventpay.sandbox.stripe import BackgroundServer
from eventpay.sandbox.stripe import create_app as create_sandbox
from eventpay.web import create_app
from support.stack import (
    empty_postgres,
    fresh_sqlite,
    make_settings,
    seeded_container,
    sqlite_template,
)


@pytest.fixture(scope="session")
def sqlite_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def migrated_postgres(postgres_url: str) -> str:
    migrate(postgres_url)
    return postgres_url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return fresh_sqlite(request.getfixturevalue("sqlite_template_path"), tmp_path)
    return empty_postgres(request.getfixturevalue("migrated_postgres"))


@pytest.fixture(scope="session")
def stripe_sandbox() -> Iterator[str]:
    server = BackgroundServer(create_sandbox(environment="test"))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def paypal_sandbox() -> Iterator[str]:
    from eventpay.sandbox.paypal import BackgroundServer as PayPalServer
    from eventpay.sandbox.paypal import create_app as create_paypal

    with PayPalServer(create_paypal(environment="test")) as server:
        yield server.base_url


@pytest.fixture
def container(database_url: str, stripe_sandbox: str, paypal_sandbox: str) -> Iterator[Container]:
    settings = make_settings(database_url, stripe_sandbox, paypal_api_base=paypal_sandbox)
    with seeded_container(settings) as built:
        yield built


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container), raise_server_exceptions=False) as test_client:
        yield test_client
