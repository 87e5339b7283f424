"""`eventpay catalog import` on SQLite and PostgreSQL: the documented example loads, a second run
and a dry run write nothing, and a refused file writes nothing either."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from eventpay.cli import main

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "catalog.yaml"
EVENT = "gulf-coast-finals-2027"


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in (
                    "organizers",
                    "events",
                    "competition_classes",
                    "stock_items",
                    "payment_audit_log",
                )
            }
    finally:
        engine.dispose()


def run(url: str, path: Path, *flags: str) -> int:
    return main(["catalog", "import", str(path), "--database-url", url, *flags])


def example() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return loaded


def test_the_example_imports_once_and_a_second_run_changes_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = counts(database_url)

    assert run(database_url, EXAMPLE, "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "organizer org-gulf-coast-db: create" in dry
    assert f"event {EVENT}: create" in dry
    assert "nothing written" in dry
    assert counts(database_url) == empty

    assert run(database_url, EXAMPLE) == 0
    capsys.readouterr()
    loaded = counts(database_url)
    assert loaded["events"] == empty["events"] + 1
    assert loaded["competition_classes"] == empty["competition_classes"] + 2
    assert loaded["stock_items"] == empty["stock_items"] + 2
    assert loaded["payment_audit_log"] == empty["payment_audit_log"] + 2

    assert run(database_url, EXAMPLE) == 0
    again = capsys.readouterr().out
    assert "nothing to change" in again
    assert counts(database_url) == loaded


def test_a_changed_file_is_previewed_then_applied_field_by_field(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, EXAMPLE) == 0
    changed = example()
    (event,) = changed["events"]
    spl = event["classes"][0]
    del spl["id"]  # matched by its code
    spl["member_price"] = 4700
    event["classes"] = [spl]
    edited = tmp_path / "catalog.json"
    edited.write_text(json.dumps(changed))
    capsys.readouterr()
    before = counts(database_url)

    assert run(database_url, edited, "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "class gulf-finals-spl: update (member_price: 45.00 USD -> 47.00 USD)" in dry
    assert "class gulf-finals-sq: remove" in dry
    assert counts(database_url) == before

    assert run(database_url, edited) == 0
    after = counts(database_url)
    assert after["competition_classes"] == before["competition_classes"] - 1
    assert after["payment_audit_log"] == before["payment_audit_log"] + 2
    assert run(database_url, edited) == 0
    assert "nothing to change" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda e: e.update(price_override=1), "events.0.price_override"),
        (lambda e: e["classes"][1].update(member_price=-5), "field classes[1].member_price"),
        (lambda e: e.update(currency="xyz"), "field currency"),
    ],
)
def test_a_refused_file_writes_nothing(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    breakage: Any,
    message: str,
) -> None:
    broken = example()
    breakage(broken["events"][0])
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(broken))
    before = counts(database_url)

    assert run(database_url, path) == 2

    err = capsys.readouterr().err
    assert message in err
    assert counts(database_url) == before
