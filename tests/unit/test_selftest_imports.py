"""The self-test is a black-box HTTP client: it imports nothing of the service it tests.

Allowed: the standard library, httpx, PyJWT (tokens as an identity provider mints them),
cryptography (a forger's own certificate), the self-test's own modules, and `eventpay.sample_ids`
(plain strings, importing nothing). Checked twice: statically, every import statement in the
package, including those inside functions; and at run time, what importing it actually loads.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import eventpay.selftest

PACKAGE = Path(eventpay.selftest.__file__).parent
OWN = ("eventpay.selftest", "eventpay.sample_ids")
THIRD_PARTY = {"httpx", "jwt", "cryptography"}
# What the service is built from: none of it may load with the self-test.
SERVICE_SIDE = {
    "fastapi", "starlette", "sqlalchemy", "alembic", "stripe", "pydantic", "pydantic_settings",
    "structlog", "uvicorn", "prometheus_client",
}  # fmt: skip


def _imported_names(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom):
            names.append("eventpay.selftest")  # relative: inside the package
    return names


def _allowed(name: str) -> bool:
    top = name.split(".")[0]
    if top == "eventpay":
        return any(name == own or name.startswith(f"{own}.") for own in OWN)
    return top == "__future__" or top in sys.stdlib_module_names or top in THIRD_PARTY


def test_no_module_of_the_selftest_imports_the_service() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 10
    offending = [
        f"{path.name}: import {name}"
        for path in modules
        for name in _imported_names(ast.parse(path.read_text(), filename=str(path)))
        if not _allowed(name)
    ]
    assert offending == []


def test_the_sample_ids_module_imports_nothing() -> None:
    import eventpay.sample_ids

    tree = ast.parse(Path(eventpay.sample_ids.__file__).read_text())
    assert _imported_names(tree) == []


def test_importing_the_selftest_loads_nothing_of_the_service() -> None:
    modules = [f"eventpay.selftest.{path.stem}" for path in PACKAGE.glob("*.py")]
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )

    eventpay_modules = {m for m in loaded if m.split(".")[0] == "eventpay"}
    assert {m for m in eventpay_modules if m != "eventpay" and not _allowed(m)} == set()
    assert {m.split(".")[0] for m in loaded} & SERVICE_SIDE == set()
