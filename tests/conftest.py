"""Fixtures shared by every test tier: databases, the localstripe server, free ports.

Only cheap imports here; servers start lazily, once per session, when a test asks for them.
Tier-specific fixtures live in that tier's conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from support.localstripe_server import localstripe_server
from support.net import free_port as _free_port
from support.postgres import throwaway_cluster

POSTGRES_URL_ENV = "EVENTPAY_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "EVENTPAY_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of an empty-at-start PostgreSQL database for this session.

    Uses $EVENTPAY_TEST_POSTGRES_URL (set by `eval "$(scripts/pg start)"`, as `make test` does).
    Without it, starts a throwaway cluster for the session, unless EVENTPAY_REQUIRE_POSTGRES=1
    says the caller promised one: then the missing URL is a failure, never a skip.
    """
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        yield url
        return
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
        pytest.fail(
            f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set: start a cluster with "
            f'`eval "$(scripts/pg start)"` (or run `make test`), or unset {REQUIRE_POSTGRES_ENV} '
            "to let the tests start their own.",
            pytrace=False,
        )
    with throwaway_cluster() as started_url:
        yield started_url


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """Base URL of a localstripe server shared by the session (its state is shared too)."""
    with localstripe_server() as url:
        yield url


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return _free_port()
