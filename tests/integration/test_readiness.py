"""`/readyz` on SQLite and PostgreSQL: the database decides readiness, providers are reported.

Providers are the real sandboxes over HTTP: stopped (a port nobody listens on), silent (a
socket that accepts and never answers), or answering 401 to credentials they do not know.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eventpay.bootstrap import Container, build_container
from eventpay.ports import ProviderName
from eventpay.providers.probes import ProviderStatus
from eventpay.serving import free_port
from eventpay.web import create_app
from support.events import payment_intent_event, signed_headers
from support.stack import WEBHOOK_SECRET, make_settings, seeded_container


@contextmanager
def app_for(database_url: str, stripe_api_base: str, **overrides: Any) -> Iterator[TestClient]:
    settings = make_settings(database_url, stripe_api_base, **overrides)
    with seeded_container(settings) as container, TestClient(create_app(container=container)) as c:
        yield c


def dead_base() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_ready_when_the_database_and_every_provider_answer(client: TestClient) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": True, "stripe": True, "paypal": True},
        "providers": {"stripe": "ok", "paypal": "ok"},
    }


@pytest.mark.parametrize("down", ["stripe", "paypal"])
def test_a_provider_that_is_down_degrades_but_leaves_the_api_ready(
    database_url: str, stripe_sandbox: str, paypal_sandbox: str, down: str
) -> None:
    stripe = dead_base() if down == "stripe" else stripe_sandbox
    paypal = dead_base() if down == "paypal" else paypal_sandbox
    with app_for(database_url, stripe, paypal_api_base=paypal) as c:
        ready = c.get("/readyz")
        body = payment_intent_event("payment_intent.succeeded", intent_id="pi_r", event_id="evt_r")
        webhook = c.post(
            "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
        )
    assert ready.status_code == 200
    assert "retry-after" not in ready.headers
    up = "paypal" if down == "stripe" else "stripe"
    assert ready.json() == {
        "status": "degraded",
        "checks": {"database": True, down: False, up: True},
        "providers": {down: "unreachable", up: "ok"},
    }
    assert webhook.status_code == 200  # a provider blip never stops ingestion


def test_credentials_a_provider_refuses_are_misconfigured(
    database_url: str, stripe_sandbox: str
) -> None:
    from eventpay.sandbox.paypal import BackgroundServer as PayPalServer
    from eventpay.sandbox.paypal import create_app as create_paypal

    paypal = create_paypal(environment="test", client_id="eventpay-ci", client_secret="right")
    with (
        PayPalServer(paypal) as server,
        app_for(
            database_url,
            stripe_sandbox,
            stripe_secret_key="sk_rotated_away_0000",  # not a key the sandbox knows: 401
            paypal_api_base=server.base_url,
            paypal_client_id="eventpay-ci",
            paypal_client_secret="wrong",
        ) as c,
    ):
        ready = c.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["providers"] == {"stripe": "misconfigured", "paypal": "misconfigured"}


def test_a_provider_that_never_answers_is_unreachable_within_its_timeout(
    database_url: str, stripe_sandbox: str
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections complete in the backlog; nothing is ever read or sent
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with app_for(database_url, stripe_sandbox, paypal_api_base=base, paypal_timeout_s=0.2) as c:
            ready = c.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["providers"] == {"stripe": "ok", "paypal": "unreachable"}


def test_paypal_switched_off_is_not_probed(database_url: str, stripe_sandbox: str) -> None:
    with app_for(database_url, stripe_sandbox, paypal_enabled=False) as c:
        ready = c.get("/readyz")
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": True, "stripe": True},
        "providers": {"stripe": "ok"},
    }


def _unanswering_database(database_url: str, folder: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{folder}"  # a folder: SQLite cannot open it as a database
    return f"postgresql+psycopg://eventpay@127.0.0.1:{free_port()}/eventpay"


def test_not_ready_only_when_the_database_does_not_answer(
    database_url: str, stripe_sandbox: str, paypal_sandbox: str, tmp_path: Path
) -> None:
    settings = make_settings(
        _unanswering_database(database_url, tmp_path),
        stripe_sandbox,
        paypal_api_base=paypal_sandbox,
    )
    container = build_container(settings, pool_size=1)
    with TestClient(create_app(container=container)) as c:
        ready = c.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"]
    assert ready.json() == {
        "status": "not_ready",
        "checks": {"database": False, "stripe": True, "paypal": True},
        "providers": {"stripe": "ok", "paypal": "ok"},
    }


def test_a_probe_answer_is_reused_for_a_while(container: Container) -> None:
    asked: list[ProviderName] = []

    def probe() -> ProviderStatus:
        asked.append(ProviderName.STRIPE)
        return ProviderStatus.UNREACHABLE

    container.probes[ProviderName.STRIPE] = probe
    first = container.provider_status(ProviderName.STRIPE)
    again = container.provider_status(ProviderName.STRIPE)
    assert first is again is ProviderStatus.UNREACHABLE
    assert asked == [ProviderName.STRIPE]  # load balancers' probes do not reach the provider
