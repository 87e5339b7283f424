"""Defensive parsing of a verified webhook body: what both providers' verifiers share.

A correct signature proves who sent the bytes, not that they are safe to parse or to store. A
body is accepted only as a JSON object that the database can hold as text, so that one odd
event is refused with a 400 (the provider keeps it, and a person can look) instead of failing
with a 500 here or, worse, failing the group commit it would be stored with:

    body_not_utf8      not strict UTF-8 (JSON on the wire is UTF-8; the payload is stored as
                       text decoded from these bytes)
    body_too_deep      arrays and objects nested deeper than `MAX_DEPTH`, measured before any
                       parser recurses into them
    body_not_storable  a string or key holding U+0000 or a lone surrogate (a `\\ud800` escape
                       with no partner): neither SQLite nor PostgreSQL text can store them
    malformed_body     not JSON (NaN and Infinity included), or not an object at the top

Which fields an event must have is the caller's business (each provider's verifier).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from eventpay.ports import WebhookRejected

__all__ = ["MAX_DEPTH", "parse_json_object"]

# Stripe's and PayPal's events nest about six levels; expanded objects a few more.
MAX_DEPTH = 64

# One token per match, scanned left to right in linear time: a string (an unterminated one runs
# to the end, so no bracket after an unclosed quote is ever counted twice), or a bracket.
# Brackets inside strings are text, not nesting.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.?[^"\\]*)*"?|[\[{]|[\]}]', re.DOTALL)
# After `json.loads`, a surrogate left in a string had no partner: valid pairs were joined.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _nesting_exceeds(text: str, limit: int) -> bool:
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case, at the speed of C: too few brackets to nest that deep
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _holds_unstorable_text(payload: Any) -> bool:
    # A loop with its own stack: the depth is bounded already, but nothing here needs to recurse.
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return True
        elif isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    return True
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return False


def parse_json_object(body: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The body as a JSON object, or `WebhookRejected` with one of the codes above."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("body_not_utf8", "body is not UTF-8") from None
    if _nesting_exceeds(text, max_depth):
        raise WebhookRejected("body_too_deep", f"body nests deeper than {max_depth} levels")
    try:
        payload: Any = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        # Also a number too long to convert (Python's digit limit) and a leading BOM.
        raise WebhookRejected("malformed_body", "body is not JSON") from None
    except RecursionError:
        # Unreachable after the depth check; kept so a gap there is a 400, never a 500.
        raise WebhookRejected("body_too_deep", "body nests too deeply") from None
    if not isinstance(payload, dict):
        raise WebhookRejected("malformed_body", "body is not a JSON object")
    if _holds_unstorable_text(payload):
        raise WebhookRejected(
            "body_not_storable", "body holds U+0000 or an unpaired surrogate in a string"
        )
    return payload
