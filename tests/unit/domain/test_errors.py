"""The error tree and its codes: the web layer maps codes to HTTP, so they are a contract."""

from __future__ import annotations

import re

import pytest

from eventpay.domain import (
    CatalogError,
    CurrencyMismatch,
    DomainError,
    DuplicateClass,
    InvalidAmount,
    MoneyError,
    NoClassesSelected,
    PricingError,
    RegistrationClosed,
    UnknownClass,
    UnknownCurrency,
)

EXPECTED_CODES = {
    DomainError: "domain_error",
    MoneyError: "money_error",
    UnknownCurrency: "unknown_currency",
    CurrencyMismatch: "currency_mismatch",
    InvalidAmount: "invalid_amount",
    CatalogError: "catalog_error",
    UnknownClass: "unknown_class",
    DuplicateClass: "duplicate_class",
    NoClassesSelected: "no_classes_selected",
    RegistrationClosed: "registration_closed",
    PricingError: "pricing_error",
}

EXPECTED_PARENTS = {
    MoneyError: DomainError,
    UnknownCurrency: MoneyError,
    CurrencyMismatch: MoneyError,
    InvalidAmount: MoneyError,
    CatalogError: DomainError,
    UnknownClass: CatalogError,
    DuplicateClass: CatalogError,
    NoClassesSelected: CatalogError,
    RegistrationClosed: CatalogError,
    PricingError: DomainError,
}


@pytest.mark.parametrize(("error_class", "code"), EXPECTED_CODES.items())
def test_each_error_class_has_its_stable_code(error_class: type[DomainError], code: str) -> None:
    assert error_class.code == code
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code)


@pytest.mark.parametrize(("child", "parent"), EXPECTED_PARENTS.items())
def test_tree_matches_the_documented_hierarchy(
    child: type[DomainError], parent: type[DomainError]
) -> None:
    assert child.__bases__ == (parent,)


def test_domain_errors_are_exceptions_but_not_value_errors() -> None:
    # A business refusal must not be caught by a caller's "except ValueError" for bugs.
    assert issubclass(DomainError, Exception)
    assert not issubclass(DomainError, ValueError)


def test_errors_carry_their_subject_and_details() -> None:
    assert UnknownClass("sq").class_id == "sq"
    assert UnknownClass("sq").details == {"class_id": "sq"}
    assert DuplicateClass("spl").class_id == "spl"
    assert DuplicateClass("spl").details == {"class_id": "spl"}
    assert UnknownCurrency("xyz").details == {"currency": "xyz"}
    assert CurrencyMismatch("usd", "eur").details == {"expected": "usd", "actual": "eur"}
    assert "usd" in str(CurrencyMismatch("usd", "eur"))
    assert PricingError("no lines").details == {}
    assert "at least one" in str(NoClassesSelected())


@pytest.mark.parametrize(
    ("reason", "code", "words"),
    [
        ("not_yet_open", "registration_not_open", "not open yet"),
        ("closed", "registration_closed", "has closed"),
    ],
)
def test_registration_closed_code_depends_on_its_reason(reason: str, code: str, words: str) -> None:
    error = RegistrationClosed(reason, event_id="evt_1")  # type: ignore[arg-type]
    assert error.reason == reason
    assert error.code == code
    assert words in str(error)
    assert error.details == {"reason": reason, "event_id": "evt_1"}


def test_registration_closed_without_event_id_has_no_event_detail() -> None:
    assert RegistrationClosed("closed").details == {"reason": "closed"}


def test_registration_closed_refuses_an_unknown_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        RegistrationClosed("sold_out")  # type: ignore[arg-type]
