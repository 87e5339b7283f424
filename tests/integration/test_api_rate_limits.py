"""Rate limits over HTTP on SQLite and PostgreSQL: who is refused, how, and that it changes nothing.

The apps here run with small budgets (3 writes, 5 reads a minute) and a clock the test moves, so
every refusal and every `Retry-After` is exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from eventpay.bootstrap import Container
from eventpay.ports import Role
from eventpay.sample_data import MEMBER_ID, NON_MEMBER_ID
from eventpay.web import create_app
from eventpay.web.rate_limits import RateLimits
from support.api import bearer, create_order, registration
from support.events import payment_intent_event, signed_headers
from support.stack import WEBHOOK_SECRET, make_settings, seeded_container

WRITES, READS = 3, 5
# Everything a money-moving POST can write; a refused one must leave all of them as they were.
TABLES = (
    "orders",
    "order_lines",
    "registrations",
    "payments",
    "refunds",
    "payment_audit_log",
    "api_idempotency_keys",
)
MONEY_ROUTES = {
    ("POST", "/v1/events/{event_id}/sponsor-packages"),
    ("POST", "/v1/events/{event_id}/sponsorships"),
    ("POST", "/v1/events/{event_id}/sponsorships/{sponsorship_id}/cancel"),
    ("POST", "/v1/sandbox/orders/{order_id}/expire"),
    ("POST", "/v1/orders"),
    ("POST", "/v1/orders/{order_id}/payments"),
    ("POST", "/v1/orders/{order_id}/refunds"),
    ("POST", "/v1/payments/{payment_id}/capture"),
    # Organizers' money: payouts, holds, reserves, and where Stripe pays them.
    ("POST", "/v1/payouts/runs"),
    ("POST", "/v1/payouts/{payout_id}/resolution"),
    ("PUT", "/v1/organizers/{organizer_id}/payout-hold"),
    ("DELETE", "/v1/organizers/{organizer_id}/payout-hold"),
    ("POST", "/v1/events/{event_id}/reserve-release"),
    ("POST", "/v1/organizers/{organizer_id}/stripe-account"),
    # Promo codes change what buyers pay.
    ("POST", "/v1/events/{event_id}/promo-codes"),
    ("DELETE", "/v1/events/{event_id}/promo-codes/{code}"),
    # Spectator passes and VIP upgrades: capacities and prices.
    ("PUT", "/v1/events/{event_id}/gate"),
    ("POST", "/v1/events/{event_id}/passes"),
    ("PUT", "/v1/events/{event_id}/vip"),
    # Team competitions and series packages: their prices and team slots.
    ("PUT", "/v1/events/{event_id}/teams"),
    ("POST", "/v1/series"),
    # Merchandise: its prices and stock.
    ("POST", "/v1/events/{event_id}/products"),
    ("PATCH", "/v1/events/{event_id}/products/{product_id}"),
    # Memberships: subscriptions and their tier.
    ("POST", "/v1/me/membership"),
    ("POST", "/v1/me/membership/cancel"),
    ("POST", "/v1/me/membership/change"),
    # Catalog set-up: what every order is priced from.
    ("POST", "/v1/events"),
    ("PATCH", "/v1/events/{event_id}"),
    ("DELETE", "/v1/events/{event_id}"),
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(
    database_url: str, stripe_sandbox: str, paypal_sandbox: str, clock: FakeClock
) -> Callable[..., Any]:
    """`limited(**settings)`: a context manager yielding (client, container) for those limits."""

    @contextmanager
    def start(
        client_ip: str = "203.0.113.7", **overrides: Any
    ) -> Iterator[tuple[TestClient, Container]]:
        values: dict[str, Any] = {
            "rate_limit_writes_per_minute": WRITES,
            "rate_limit_per_minute": READS,
            **overrides,
        }
        settings = make_settings(
            database_url, stripe_sandbox, paypal_api_base=paypal_sandbox, **values
        )
        with seeded_container(settings) as container:
            app = create_app(
                container=container,
                rate_limits=RateLimits.from_settings(settings, clock=clock),
            )
            with TestClient(app, raise_server_exceptions=False, client=(client_ip, 40000)) as http:
                yield http, container

    return start


def _row_counts(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in TABLES
        }


def _assert_limited(response: Any, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.json() == {
        "error": {
            "code": "rate_limited",
            "message": f"Too many requests; retry in {retry_after} s.",
            "details": {"retry_after_s": retry_after},
        }
    }


def test_the_write_over_budget_is_429_with_retry_after_and_changes_nothing(
    limited: Callable[..., Any], clock: FakeClock
) -> None:
    with limited() as (http, container):
        orders = [create_order(http, MEMBER_ID) for _ in range(WRITES)]
        before = _row_counts(container)
        headers = bearer(MEMBER_ID) | {"Idempotency-Key": "order-over-budget"}

        refused = http.post("/v1/orders", json=registration(), headers=headers)
        _assert_limited(refused, retry_after=20)  # 3 a minute: a token every 20 s
        order_id = orders[0]["id"]
        payment = http.post(
            f"/v1/orders/{order_id}/payments", json={"provider": "stripe"}, headers=headers
        )
        refund = http.post(
            f"/v1/orders/{order_id}/refunds", json={"reason": "withdrawal"}, headers=headers
        )
        capture = http.post("/v1/payments/nope/capture", headers=bearer(MEMBER_ID))
        for response in (payment, refund, capture):
            _assert_limited(response, retry_after=20)
        assert _row_counts(container) == before

        clock.advance(19.5)
        _assert_limited(http.post("/v1/orders", json=registration(), headers=headers), 1)
        clock.advance(0.5)
        # The refused requests reserved nothing: the same idempotency key now runs afresh.
        accepted = http.post("/v1/orders", json=registration(), headers=headers)
        assert accepted.status_code == 201, accepted.text
        assert "Idempotent-Replayed" not in accepted.headers


def test_another_user_keeps_their_own_budget(limited: Callable[..., Any]) -> None:
    with limited() as (http, _):
        for _ in range(WRITES):
            create_order(http, MEMBER_ID)
        _assert_limited(http.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID)), 20)

        for _ in range(WRITES):
            create_order(http, NON_MEMBER_ID)


def test_reads_have_a_budget_of_their_own(limited: Callable[..., Any]) -> None:
    with limited() as (http, _):
        order_id = create_order(http, MEMBER_ID)["id"]
        for _ in range(WRITES - 1):
            create_order(http, MEMBER_ID)
        _assert_limited(http.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID)), 20)

        path = f"/v1/orders/{order_id}"
        for _ in range(READS):
            assert http.get(path, headers=bearer(MEMBER_ID)).status_code == 200
        _assert_limited(http.get(path, headers=bearer(MEMBER_ID)), 12)  # 5 a minute
        audit = http.get(f"/v1/orders/{order_id}/audit", headers=bearer("admin-1", Role.ADMIN))
        assert audit.status_code == 200


def test_public_routes_are_limited_per_client_ip_and_signed_in_users_per_user(
    limited: Callable[..., Any],
) -> None:
    with limited(client_ip="203.0.113.7") as (http, _):
        order_id = create_order(http, MEMBER_ID)["id"]
        public = ["/v1/events", "/v1/events/spring-sound-off", "/v1/payment-config"]
        for n in range(READS):
            assert http.get(public[n % 3]).status_code == 200
        for path in public:
            _assert_limited(http.get(path), 12)
        _assert_limited(http.get("/v1/payments/p1/paypal/return", params={"token": "x"}), 12)
        _assert_limited(http.get("/v1/payments/p1/paypal/cancel", params={"token": "x"}), 12)
        # The same address with a bearer token is counted by user, not by address.
        assert http.get(f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID)).status_code == 200

        app: Any = http.app
        elsewhere = TestClient(app, client=("198.51.100.9", 40000))  # no lifespan: shared app
        try:
            assert elsewhere.get("/v1/events").status_code == 200
        finally:
            elsewhere.close()


def test_webhooks_and_health_are_never_limited(limited: Callable[..., Any]) -> None:
    with limited(rate_limit_per_minute=1, rate_limit_writes_per_minute=1) as (http, container):
        assert http.get("/v1/events").status_code == 200
        _assert_limited(http.get("/v1/events"), 60)

        for n in range(25):
            body = payment_intent_event(
                "payment_intent.succeeded", intent_id=f"pi_burst_{n}", event_id=f"evt_burst_{n}"
            )
            delivered = http.post(
                "/v1/webhooks/stripe", content=body, headers=signed_headers(body, WEBHOOK_SECRET)
            )
            assert delivered.status_code == 200, delivered.text
        for path in ("/healthz", "/readyz", "/metrics"):
            for _ in range(10):
                assert http.get(path).status_code == 200, path
        with container.uow_factory() as uow:
            assert len(uow.webhooks.list(status=None, limit=100)) == 25


def test_refusals_are_counted_by_route_class_without_user_ids(
    limited: Callable[..., Any],
) -> None:
    with limited(rate_limit_per_minute=1, rate_limit_writes_per_minute=1) as (http, _):
        order_id = create_order(http, MEMBER_ID)["id"]
        for _ in range(2):
            http.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID))
        for _ in range(3):
            http.get(f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID))
        http.get("/v1/events")
        http.get("/v1/events")

        metrics = http.get("/metrics").text
        assert 'eventpay_rate_limited_total{route_class="write"} 2.0' in metrics
        assert 'eventpay_rate_limited_total{route_class="read"} 2.0' in metrics
        assert 'eventpay_rate_limited_total{route_class="public"} 1.0' in metrics
        assert MEMBER_ID not in metrics
        assert "203.0.113.7" not in metrics


def test_switched_off_means_unlimited(limited: Callable[..., Any]) -> None:
    tight = {"rate_limit_per_minute": 1, "rate_limit_writes_per_minute": 1}
    with limited(**tight) as (http, _):
        create_order(http, MEMBER_ID)
        _assert_limited(http.post("/v1/orders", json=registration(), headers=bearer(MEMBER_ID)), 60)

    with limited(rate_limit_enabled=False, **tight) as (http, _):
        order_id = ""
        for _ in range(10):
            order_id = create_order(http, MEMBER_ID)["id"]
        for _ in range(10):
            assert http.get(f"/v1/orders/{order_id}", headers=bearer(MEMBER_ID)).status_code == 200
            assert http.get("/v1/events").status_code == 200


def _passes_before_429(app: Any, method: str, path: str, *, ip: str, users: list[str]) -> int:
    """How many requests get through before a 429 (len(users) if none is refused)."""
    # No `with`: that would run the shared app's lifespan, which closes its container.
    http = TestClient(app, raise_server_exceptions=False, client=(ip, 40000))
    try:
        for passed, user in enumerate(users):
            response = http.request(method, path, json={}, headers=bearer(user))
            if response.status_code == 429:
                return passed
    finally:
        http.close()
    return len(users)


def _budget_of(app: Any, method: str, path: str, n: int) -> str | None:
    """Which budget a route spends, told apart by behaviour (1 write or 3 reads a minute)."""
    probes = 5
    same_caller = [f"probe-{n}"] * probes
    passed = _passes_before_429(
        app, method, path, ip=f"10.1.{n // 250}.{n % 250}", users=same_caller
    )
    if passed == probes:
        return None
    new_callers = [f"probe-{n}-{i}" for i in range(probes)]
    by_address = _passes_before_429(
        app, method, path, ip=f"10.2.{n // 250}.{n % 250}", users=new_callers
    )
    if by_address < probes:
        return "public"
    return {1: "write", 3: "read"}[passed]


def test_every_v1_route_but_the_webhooks_has_a_budget_and_money_routes_the_write_one(
    limited: Callable[..., Any],
) -> None:
    # Probed over HTTP from the OpenAPI paths, so a route added later must choose a budget too.
    with limited(rate_limit_writes_per_minute=1, rate_limit_per_minute=3) as (http, _):
        app: Any = http.app
        routes = [
            (method.upper(), template)
            for template, operations in sorted(app.openapi()["paths"].items())
            for method in operations
        ]
        budgets = {
            (method, template): _budget_of(
                app, method, re.sub(r"\{[^}]+\}", "x", template) + "?token=x", n
            )
            for n, (method, template) in enumerate(routes)
        }

    assert {route for route, budget in budgets.items() if budget == "write"} == MONEY_ROUTES
    for (method, template), budget in budgets.items():
        never_limited = template.startswith("/v1/webhooks/") or not template.startswith("/v1/")
        assert (budget is None) == never_limited, (method, template, budget)
    for unlimited in [("POST", "/v1/webhooks/stripe"), ("GET", "/healthz"), ("GET", "/metrics")]:
        assert budgets[unlimited] is None
    assert budgets[("GET", "/v1/events")] == budgets[("GET", "/v1/payment-config")] == "public"
    assert budgets[("GET", "/v1/payments/{payment_id}/paypal/return")] == "public"
    assert budgets[("GET", "/v1/orders/{order_id}")] == "read"
    assert budgets[("GET", "/v1/orders/{order_id}/refund-quote")] == "read"
