"""Building the real service for tests: migrated databases, settings, containers, apps.

Databases are real: a migrated SQLite file per test, and one migrated PostgreSQL database per
session whose tables are emptied before each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from eventpay.bootstrap import Container, build_container
from eventpay.config import Settings
from eventpay.db import migrate
from eventpay.sample_data import seed

WEBHOOK_SECRET = "whsec_test_primary"
OLD_WEBHOOK_SECRET = "whsec_test_rotated_out"

TABLES = (
    "membership_charges",
    "membership_claims",
    "membership_subscriptions",
    "pass_types",
    "vip_prices",
    "sponsorship_payments",
    "sponsorships",
    "sponsor_packages",
    "merch_deliveries",
    "merch_variants",
    "merch_products",
    "team_members",
    "teams",
    "team_competitions",
    "series_prices",
    "series_events",
    "series",
    "promo_buyer_uses",
    "promo_code_uses",
    "promo_codes",
    "places",
    "stock_items",
    "connect_transfer_reversals",
    "connect_transfers",
    "connect_charges",
    "connected_accounts",
    "reconciliation_mismatches",
    "reconciliation_runs",
    "ledger_order_sums",
    "ledger_postings",
    "ledger_transactions",
    "payment_audit_log",
    "refunds",
    "payments",
    "registrations",
    "order_lines",
    "orders",
    "memberships",
    "competition_classes",
    "events",
    "organizers",
    "webhook_events",
    "api_idempotency_keys",
)


def sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def fresh_sqlite(template: Path, folder: Path) -> str:
    target = folder / "eventpay.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def empty_postgres(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            # The audit log refuses TRUNCATE (migration 0003); the test superuser switches
            # ordinary triggers off for this one transaction to start each test empty.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    return url


def make_settings(database_url: str, stripe_api_base: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "stripe_api_base": stripe_api_base,
        "stripe_webhook_secrets": [WEBHOOK_SECRET, OLD_WEBHOOK_SECRET],
        "stripe_timeout_s": 5.0,
        "worker_poll_interval_s": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def seeded_container(settings: Settings, *, now: datetime | None = None) -> Iterator[Container]:
    container = build_container(settings, pool_size=5)
    try:
        seed(uow_factory=container.uow_factory, now=now or datetime.now(UTC))
        yield container
    finally:
        container.close()
