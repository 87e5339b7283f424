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
    with container.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM payment_audit_log")).scalar_one()
    assert before == 2
    with pytest.raises(DBAPIError, match="append-only"), container.engine.begin() as conn:
        conn.execute(text(statement))
    with container.engine.connect() as conn:
        actions = conn.execute(text("SELECT action FROM payment_audit_log ORDER BY id")).scalars()
        assert list(actions) == ["order.created", "registration.created"]


def test_truncate_is_refused_on_postgres(postgres_url: str, migrated_postgres: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(migrated_postgres)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE payment_audit_log CASCADE"))
    finally:
        engine.dispose()
