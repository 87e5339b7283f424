"""The SQLAlchemy models and the Alembic migrations describe the same schema.

A database migrated from empty to head is compared with `eventpay.db.models` by Alembic's
autogenerate: any difference means a model changed without a migration, or the other way round.
On SQLite and on PostgreSQL, as the service runs on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, create_engine

from eventpay.db import migrate
from eventpay.db.models import Base


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database brought from empty to head by the migrations alone."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
        migrate(url)
        return url
    # Migrated once from an empty database per session; tests only empty its tables.
    postgres_url: str = request.getfixturevalue("migrated_postgres")
    return postgres_url


def _differences(url: str, metadata: MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_the_models_match_the_migrated_schema(migrated_url: str) -> None:
    assert Base.metadata.tables  # the models were imported: an empty diff means something

    assert _differences(migrated_url, Base.metadata) == []


def _named(differences: list[Any]) -> set[tuple[str, str, str]]:
    """(operation, table, column) of column-level differences; Alembic nests modify_* in lists."""
    named: set[tuple[str, str, str]] = set()
    for diff in differences:
        for op in diff if isinstance(diff, list) else [diff]:
            column = op[3] if isinstance(op[3], str) else op[3].name
            named.add((op[0], op[2], column))
    return named


def test_a_model_change_without_a_migration_is_found(migrated_url: str) -> None:
    """Guards the comparison above: an added column and a changed type do show up."""
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    orders = drifted.tables["orders"]
    orders.append_column(Column("not_migrated", Integer, nullable=True))
    orders.c.currency.type = String(4)

    assert _named(_differences(migrated_url, drifted)) == {
        ("add_column", "orders", "not_migrated"),
        ("modify_type", "orders", "currency"),
    }
