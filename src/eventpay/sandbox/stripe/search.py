"""`GET /v1/payment_intents/search`: Stripe's search query language over PaymentIntents.

The part of the language eventpay needs, as Stripe documents it: clauses `field:value` (exact,
case-insensitive), `field~value` (substring, at least 3 characters), `field>n`, `<`, `>=`, `<=`
(numbers), `-` before a clause to negate it, joined by `AND` or by `OR` (not both, at most 10
clauses). Fields of a PaymentIntent: `amount`, `created`, `currency`, `customer`, `status` and
`metadata['key']` (single or double quotes). String values are quoted, `null` matches a missing
value. The answer is Stripe's `search_result`: `{object, data, has_more, next_page, url}`, with
`page` as the cursor. Unlike Stripe, results are visible at once (Stripe's search index may lag
about a minute behind writes); callers must not rely on the lag either way.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ParameterError
from .gateway import Call
from .objects import JSON
from .resources import expand
from .store import Store

_FIELDS = frozenset({"amount", "created", "currency", "customer", "status"})
_NUMERIC = frozenset({"amount", "created"})
_CLAUSE = re.compile(
    r"""\s*(?P<negate>-)?
    (?:metadata\[(?P<mq>['"])(?P<meta>(?:\\.|(?!(?P=mq)).)*)(?P=mq)\]|(?P<field>[a-z_]+))
    (?P<op>>=|<=|:|~|>|<)
    (?:(?P<q>['"])(?P<text>(?:\\.|(?!(?P=q)).)*)(?P=q)|(?P<number>-?\d+)|(?P<null>null))
    \s*""",
    re.VERBOSE,
)
_JOINER = re.compile(r"\s+(AND|OR)\s+")
_MAX_CLAUSES = 10
_URL = "/v1/payment_intents/search"


def _invalid(query: str, why: str) -> ParameterError:
    return ParameterError(
        f"Invalid search query '{query}': {why}. See "
        "https://stripe.com/docs/search#search-query-language for the query syntax.",
        param="query",
    )


@dataclass(frozen=True)
class _Clause:
    negate: bool
    read: Callable[[JSON], Any]
    field: str
    op: str
    value: str | int | None

    def matches(self, intent: JSON) -> bool:
        actual = self.read(intent)
        return self._holds(actual) != self.negate

    def _holds(self, actual: Any) -> bool:
        if self.value is None:
            return actual is None and self.op == ":"
        if actual is None:
            return False
        if isinstance(self.value, int):
            if not isinstance(actual, int):
                return False
            return {
                ":": actual == self.value,
                ">": actual > self.value,
                "<": actual < self.value,
                ">=": actual >= self.value,
                "<=": actual <= self.value,
            }[self.op]
        text, wanted = str(actual).lower(), self.value.lower()
        return text == wanted if self.op == ":" else wanted in text


def _clause(query: str, piece: str) -> _Clause:
    match = _CLAUSE.fullmatch(piece)
    if match is None:
        raise _invalid(query, f"cannot read the clause {piece.strip()!r}")
    meta, field, op = match["meta"], match["field"], match["op"]
    value: str | int | None
    if match["null"]:
        value = None
    elif match["number"] is not None:
        value = int(match["number"])
    else:
        value = re.sub(r"\\(.)", r"\1", match["text"])
    if meta is not None:
        key = re.sub(r"\\(.)", r"\1", meta)
        name = f"metadata['{key}']"

        def read(intent: JSON) -> Any:
            return intent.get("metadata", {}).get(key)

    elif field in _FIELDS:
        name = field

        def read(intent: JSON) -> Any:
            return intent.get(field)

    else:
        raise _invalid(query, f"PaymentIntents cannot be searched by {field!r}")
    numeric_op = op in (">", "<", ">=", "<=")
    if numeric_op and (name not in _NUMERIC or not isinstance(value, int)):
        raise _invalid(query, f"{op} compares numbers, and only amount and created")
    if name in _NUMERIC and isinstance(value, str):
        raise _invalid(query, f"{name} takes a number")
    if op == "~" and (not isinstance(value, str) or len(value) < 3):
        raise _invalid(query, "~ needs a quoted value of at least 3 characters")
    return _Clause(bool(match["negate"]), read, name, op, value)


def parse(query: str) -> tuple[list[_Clause], str]:
    """The clauses of `query` and how they join ("AND" or "OR")."""
    joiners = set(_JOINER.findall(query))
    if len(joiners) > 1:
        raise _invalid(query, "AND and OR cannot be combined in one query")
    pieces = _JOINER.split(query)[::2]
    if len(pieces) > _MAX_CLAUSES:
        raise _invalid(query, f"at most {_MAX_CLAUSES} clauses are allowed")
    return [_clause(query, piece) for piece in pieces], (joiners.pop() if joiners else "AND")


def _offset(page: str | None) -> int:
    if page is None:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(page.removeprefix("page_").encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.isdigit():
        raise ParameterError(f"Invalid page: {page}", param="page")
    return int(decoded)


def _page_token(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(str(offset).encode()).decode()


def search_payment_intents(store: Store, call: Call) -> tuple[int, JSON]:
    params = call.params
    params.only(["query", "limit", "page", "expand"])
    query = str(params.string("query", required=True))
    limit = params.integer("limit", minimum=1) or 10
    if limit > 100:
        raise ParameterError(
            "This value must be less than or equal to 100.",
            code="parameter_invalid_integer",
            param="limit",
        )
    start = _offset(params.string("page"))
    clauses, joiner = parse(query)
    combine = all if joiner == "AND" else any
    found = [
        intent
        for intent in reversed(store.state.payment_intents.values())
        if combine(clause.matches(intent) for clause in clauses)
    ]
    data = found[start : start + limit]
    more = len(found) > start + limit
    result: JSON = {
        "object": "search_result",
        "data": data,
        "has_more": more,
        "next_page": _page_token(start + limit) if more else None,
        "url": _URL,
    }
    return 200, expand(store, result, params.strings("expand"))
