"""The audit log cannot be edited or emptied, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from eventpay.bootstrap import Container
from eventpay.sample_data import MEMBER_ID
from support.api import create_order


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payment_audit_log SET action = 'order.paid'",
        "DELETE FROM payment_audit_log",
    ],
)
def test_audit_rows_cannot_be_changed(
    client: TestClient, container: Container, statement: str
) -> None:
    create_order(client, MEMBER_ID)
    rows = text("SELECT id, action FROM payment_audit_log ORDER BY id")
    with container.engine.connect() as conn:
        before = [tuple(row) for row in conn.execute(rows)]
    # The sample data audits what it seeds (promo codes), so the order's rows come last.
    assert [action for _, action in before][-2:] == ["order.created", "registration.created"]
    with pytest.raises(DBAPIError, match="append-only"), container.engine.begin() as conn:
        conn.execute(text(statement))
    with container.engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(rows)] == before


def test_truncate_is_refused_on_postgres(postgres_url: str, migrated_postgres: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(migrated_postgres)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE payment_audit_log CASCADE"))
    finally:
        engine.dispose()
