"""`parse_json_object`: every body a verifier may pass on can be parsed and stored as text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpay.ports import WebhookRejected
from eventpay.providers.webhook_body import MAX_DEPTH, parse_json_object


def code_of(body: bytes) -> str:
    with pytest.raises(WebhookRejected) as refused:
        parse_json_object(body)
    return refused.value.code


def nested(depth: int, *, opener: str = "[", closer: str = "]") -> bytes:
    """An object (one level) holding `depth - 1` more levels."""
    return ('{"x": ' + opener * (depth - 1) + closer * (depth - 1) + "}").encode()


def test_nesting_up_to_the_limit_passes_and_one_more_is_refused() -> None:
    assert parse_json_object(nested(MAX_DEPTH))["x"] is not None
    assert code_of(nested(MAX_DEPTH + 1)) == "body_too_deep"
    objects = ('{"x": ' + '{"a": ' * MAX_DEPTH + "1" + "}" * MAX_DEPTH + "}").encode()
    assert code_of(objects) == "body_too_deep"  # 65 levels: far from Python's recursion limit


def test_a_hundred_thousand_levels_are_refused_not_crashed_on() -> None:
    assert code_of(b"[" * 100_000 + b"]" * 100_000) == "body_too_deep"
    assert code_of(b'{"a":' * 100_000) == "body_too_deep"  # unbalanced, deep all the same


def test_brackets_inside_strings_are_text_not_nesting() -> None:
    brackets = "[{" * 200
    body = json.dumps({"a": brackets, "b": f'quote " and backslash \\ then {brackets}'})
    assert parse_json_object(body.encode())["a"] == brackets


def test_an_unterminated_string_hides_no_nesting() -> None:
    # After an unclosed quote everything is one (bad) string: JSON fails there, not deeper.
    body = b'{"a": "open \\" ' + b"[" * 1000 + b"]" * 1000 + b"}"
    assert code_of(body) == "malformed_body"


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "x\\ud800"}',
        b'{"type": "x\\udfff"}',
        b'{"a": ["fine", {"b": "\\udc00 alone"}]}',
        b'{"\\ud800": 1}',
        b'{"a": "\\udfb6\\ud83c"}',  # a pair in the wrong order is two lone halves
        b'{"a": "nul \\u0000 inside"}',
        b'{"nul\\u0000key": true}',
    ],
)
def test_text_no_database_can_store_is_refused(body: bytes) -> None:
    assert code_of(body) == "body_not_storable"


def test_surrogate_pairs_and_escaped_backslashes_are_fine() -> None:
    payload = parse_json_object(b'{"a": "\\ud83c\\udfb6", "b": "\\\\ud800", "c": "\\\\u0000"}')
    assert payload == {"a": "\U0001f3b6", "b": "\\ud800", "c": "\\u0000"}


@pytest.mark.parametrize(
    "body",
    [
        '{"a": "é"}'.encode("latin-1"),
        '{"a": "é"}'.encode("utf-16"),
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8: not UTF-8
        b'{"a": "\xc0\xaf"}',  # an overlong encoding of "/"
    ],
)
def test_only_strict_utf8_is_accepted(body: bytes) -> None:
    assert code_of(body) == "body_not_utf8"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'["an", "array"]',
        b'"a string"',
        b"42",
        b'{"a": NaN}',
        b'{"a": -Infinity}',
        b'{"a": 1} trailing',
        b"\xef\xbb\xbf{}",  # a byte order mark
        b'{"a": ' + b"9" * 5000 + b"}",  # more digits than Python converts
    ],
)
def test_anything_but_a_json_object_is_malformed(body: bytes) -> None:
    assert code_of(body) == "malformed_body"


_storable_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | _storable_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_storable_text, children, max_size=4)
    ),
    max_leaves=30,
)


@given(payload=st.dictionaries(_storable_text, _json_values, max_size=5), ascii_only=st.booleans())
def test_every_storable_object_round_trips(payload: dict[str, Any], ascii_only: bool) -> None:
    body = json.dumps(payload, ensure_ascii=ascii_only).encode()
    assert parse_json_object(body) == payload
