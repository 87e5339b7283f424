"""The domain's public surface and its purity: standard library only, no clock, env or I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import eventpay.domain as domain

DOMAIN_DIR = Path(domain.__file__).parent
MODULES = sorted(DOMAIN_DIR.glob("*.py"))

# The names other layers import; the brief fixes them.
CONTRACT = {
    "DomainError", "MoneyError", "UnknownCurrency", "CurrencyMismatch", "InvalidAmount",
    "CatalogError", "UnknownClass", "DuplicateClass", "NoClassesSelected", "RegistrationClosed",
    "PricingError", "CURRENCY_EXPONENTS", "Money", "Rounding", "sum_money", "Organizer",
    "CompetitionClass", "Event", "RegistrationWindow", "PriceRule", "QuoteLine",
    "price_registration", "FeePayer", "FeePolicy", "Quote", "quote_order", "PaymentStatus",
    "Transition", "transition", "is_terminal", "OrderStatus", "RefundStatus", "AttemptAmount",
    "RefundAmount", "PaymentSummary", "summarize", "derive_order_status", "RegistrationStatus",
    "registration_status_for",
}  # fmt: skip

FORBIDDEN_CALLS = {"now", "utcnow", "today", "getenv", "open", "time", "monotonic"}


def test_contract_names_are_exported() -> None:
    assert set(domain.__all__) >= CONTRACT
    assert len(domain.__all__) == len(set(domain.__all__))
    for name in domain.__all__:
        assert getattr(domain, name) is not None


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_imports_only_the_standard_library_and_the_domain(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("eventpay.domain"), name


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_reads_no_clock_environment_or_files(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}"
        if isinstance(node, ast.Attribute):
            assert node.attr != "environ", f"{path.name}:{node.lineno} reads os.environ"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_starts_with_a_docstring(path: Path) -> None:
    assert ast.get_docstring(ast.parse(path.read_text()))
