"""Comparing the sandbox's objects with Stripe's own examples (fixtures3.json), key for key.

Rule per key: the example's value is null, or ours is null (nullable in Stripe), or both have
the same JSON type. Nested objects: where the example has two or more keys ours must have the
same keys; where it has fewer, ours must at least contain them. `event.data.object` is checked
against the example of its own resource. Shared by the shape tests; no fixtures here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


def load_examples() -> dict[str, Any]:
    """Stripe's example object of each resource, by `object` name; fails if the file is missing."""
    facts = Path(
        # A copy of the shared provider facts is kept in the repository so a fresh clone has
        # them; EVENTPAY_PROVIDER_FACTS points elsewhere to check against a newer copy.
        os.environ.get("EVENTPAY_PROVIDER_FACTS", str(REPO / "tests" / "fixtures" / "providers"))
    )
    path = facts / "stripe" / "fixtures3.json"
    if not path.is_file():
        pytest.fail(
            f"Stripe's example objects are missing: {path} does not exist. Set "
            "EVENTPAY_PROVIDER_FACTS to the provider facts directory (the one holding "
            "stripe/fixtures3.json).",
            pytrace=False,
        )
    resources: dict[str, Any] = json.loads(path.read_text())["resources"]
    return resources


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_problems(ours: Any, example: Any, where: str, examples: dict[str, Any]) -> list[str]:
    """Differences between our value and Stripe's example under the rule in the docstring."""
    if example is None or ours is None:
        return []
    if _json_type(ours) != _json_type(example):
        return [f"{where}: {_json_type(ours)} where Stripe has {_json_type(example)}"]
    if not isinstance(ours, dict):
        return []
    problems = []
    if len(example) >= 2 and set(ours) != set(example):
        missing, extra = sorted(set(example) - set(ours)), sorted(set(ours) - set(example))
        problems.append(f"{where}: missing {missing}, unexpected {extra}")
    elif not set(example) <= set(ours):
        problems.append(f"{where}: missing {sorted(set(example) - set(ours))}")
    for key in set(ours) & set(example):
        nested_ours, nested_example = ours[key], example[key]
        if key == "object" and where.endswith(".data") and isinstance(nested_ours, dict):
            nested_example = examples.get(nested_ours.get("object", ""), nested_example)
        problems += shape_problems(nested_ours, nested_example, f"{where}.{key}", examples)
    return problems


def _is_reference_stub(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"id", "object"}


def collapse_references(example: Any) -> Any:
    """Stripe's example with each expandable-reference stub `{"id", "object"}` made its id.

    The examples show some expandable fields (a charge's `transfer_data.destination`) expanded
    to such a stub; the API returns the id unless asked to expand, as the sandbox does.
    """
    if _is_reference_stub(example):
        return example["id"]
    if isinstance(example, dict):
        return {key: collapse_references(value) for key, value in example.items()}
    return example
