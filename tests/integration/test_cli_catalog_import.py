"""`eventpay catalog import` on SQLite and PostgreSQL: the documented example (one of each
product an organizer sets up) loads on a fresh database, a second run and a dry run write
nothing, a changed file changes only what differs, and a refused file writes nothing either,
naming where in the file."""

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
PRODUCT_TABLES = (
    "pass_types",
    "vip_prices",
    "team_competitions",
    "series",
    "series_prices",
    "merch_products",
    "merch_variants",
    "sponsor_packages",
    "promo_codes",
)


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
                    *PRODUCT_TABLES,
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

    for line in (
        f"pass_type 'Weekend' of event {EVENT}: create",
        f"vip 'vip' of event {EVENT}: create",
        f"teams 'team competition' of event {EVENT}: create",
        f"product 'Finals T-shirt' of event {EVENT}: create",
        f"sponsor_package 'Title sponsor' of event {EVENT}: create",
        f"promo_code 'EARLYBASS' of event {EVENT}: create",
        "series 'Gulf Coast Series 2027': create",
    ):
        assert line in dry

    assert run(database_url, EXAMPLE) == 0
    capsys.readouterr()
    loaded = counts(database_url)
    added = {table: loaded[table] - empty[table] for table in loaded}
    assert added == {
        "organizers": 1,
        "events": 2,
        "competition_classes": 3,
        # 3 classes, 2 gate days, VIP, team slots and names, 2 variants, the sponsor package
        "stock_items": 11,
        # organizer, 2 events, gate, 2 pass types, VIP, teams, product, package, code, series
        "payment_audit_log": 12,
        "pass_types": 2,
        "vip_prices": 1,
        "team_competitions": 1,
        "series": 1,
        "series_prices": 1,
        "merch_products": 1,
        "merch_variants": 2,
        "sponsor_packages": 1,
        "promo_codes": 1,
    }

    assert run(database_url, EXAMPLE) == 0
    again = capsys.readouterr().out
    assert "nothing to change" in again
    assert counts(database_url) == loaded


def test_a_changed_file_is_previewed_then_applied_field_by_field(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, EXAMPLE) == 0
    changed = example()
    event = changed["events"][0]
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
        (lambda e: e["pass_types"][1].update(days=["2027-09-25"]), "events[0].pass_types[1].days"),
        (lambda e: e["vip"]["prices"].update(NOPE=100), "field events[0].vip.prices.NOPE"),
        (
            lambda e: e["merchandise"][0]["variants"][1].update(price=-3),
            "field events[0].merchandise[0].variants[1].price",
        ),
        (lambda e: e["promo_codes"][0].update(amount_off=500), "events[0].promo_codes[0]"),
        (lambda e: e["teams"].update(class_id="nope"), "field events[0].teams.class_id"),
        (lambda e: e["sponsor_packages"][0].update(kind="banner"), "sponsor_packages.0.kind"),
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


def test_products_change_only_where_the_file_differs(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, EXAMPLE) == 0
    changed = example()
    event = changed["events"][0]
    event["gate"]["capacity_per_day"] = 900
    event["vip"]["capacity"] = 25
    shirt = event["merchandise"][0]
    shirt["variants"][0]["price"] = 2700
    shirt["variants"].append({"sku": "TEE-XL", "size": "XL", "price": 2600, "stock": None})
    edited = tmp_path / "catalog.yaml"
    edited.write_text(yaml.safe_dump(changed))
    capsys.readouterr()
    before = counts(database_url)

    assert run(database_url, edited, "--dry-run") == 0
    dry = capsys.readouterr().out
    assert f"gate 'capacity_per_day' of event {EVENT}: update (capacity_per_day: 800 -> 900)" in dry
    assert f"vip 'vip' of event {EVENT}: update (capacity: 20 -> 25)" in dry
    assert (
        f"product 'Finals T-shirt' of event {EVENT}: update "
        "(variants[0].price: 2500 -> 2700; variants[2]: null -> TEE-XL)"
    ) in dry
    assert f"pass_type 'Weekend' of event {EVENT}: unchanged" in dry
    assert "dry run: 3 organizers, events or products would change" in dry
    assert counts(database_url) == before

    assert run(database_url, edited) == 0
    after = counts(database_url)
    assert after["merch_variants"] == before["merch_variants"] + 1
    assert after["payment_audit_log"] == before["payment_audit_log"] + 3
    assert run(database_url, edited) == 0
    assert "nothing to change" in capsys.readouterr().out


def test_a_product_without_an_edit_is_not_silently_kept(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(database_url, EXAMPLE) == 0
    changed = example()
    changed["events"][0]["pass_types"][0]["price"] = 1700
    changed["events"][0]["gate"]["capacity_per_day"] = 5  # applied only if all of it is
    edited = tmp_path / "catalog.yaml"
    edited.write_text(yaml.safe_dump(changed))
    capsys.readouterr()
    before = counts(database_url)

    assert run(database_url, edited) == 2

    err = capsys.readouterr().err
    assert "product_differs; event_id gulf-coast-finals-2027, field events[0].pass_types[0]" in err
    assert "pass type 'Saturday' exists with another price" in err
    assert counts(database_url) == before
    assert run(database_url, EXAMPLE) == 0
    assert "nothing to change" in capsys.readouterr().out
