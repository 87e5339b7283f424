"""Stripe's form encoding: decoding `a[b][0]=x` bodies and reading typed parameters from them.

The SDK sends every v1 request as `application/x-www-form-urlencoded` (query string for GET)
with brackets for nesting: `metadata[event_id]=x`, `expand[0]=latest_charge`, `items[]=y`.
`decode` turns that into nested dicts and lists of strings; `Params` reads values out of it with
Stripe's validation messages. No HTTP framework and no sandbox state here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from .errors import ParameterError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _segments(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        return [key]
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _listify(value: Any) -> Any:
    # `expand[0]=a&expand[1]=b` arrives as a dict of digit keys; Stripe treats it as an array.
    if isinstance(value, dict):
        items = {k: _listify(v) for k, v in value.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value


def decode(raw: str | bytes) -> dict[str, Any]:
    """Nested parameters of a form body or query string (values stay strings)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = _segments(key)
        node: Any = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            shown = parts[0] + "".join(f"[{p}]" for p in parts[1:depth])
            if isinstance(node, list):
                # `a[]=x` appends; only scalar elements are supported after an empty bracket.
                if not last:
                    raise ParameterError(f"Invalid array: {shown}", param=shown)
                node.append(value)
                break
            if not isinstance(node, dict):
                raise ParameterError(f"Invalid hash: {shown}", param=shown)
            if last:
                if part in node and isinstance(node[part], dict | list):
                    raise ParameterError(f"Invalid hash: {key}", param=key)
                node[part] = value
            else:
                nxt: list[Any] | dict[str, Any] = [] if parts[depth + 1] == "" else {}
                node = node.setdefault(part, nxt)
    listified: dict[str, Any] = _listify(root)
    return listified


def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
    """What must be identical for an idempotency key to replay (order of keys does not matter)."""
    return json.dumps([method.upper(), path, params], sort_keys=True, separators=(",", ":"))


class Params:
    """Typed, validated access to decoded parameters, raising Stripe's parameter errors."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def only(self, allowed: Iterable[str]) -> None:
        """Reject the first parameter that is not in `allowed`, as Stripe does."""
        known = set(allowed)
        for name in self.data:
            if name not in known:
                raise ParameterError(
                    f"Received unknown parameter: {name}", code="parameter_unknown", param=name
                )

    def _raw(self, name: str, required: bool) -> Any:
        if name not in self.data:
            if required:
                raise ParameterError(
                    f"Missing required param: {name}.", code="parameter_missing", param=name
                )
            return None
        return self.data[name]

    def string(
        self, name: str, *, required: bool = False, choices: Iterable[str] = ()
    ) -> str | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ParameterError(f"Invalid string: {name}", param=name)
        if required and value == "":
            raise ParameterError(
                f"You passed an empty string for '{name}'. We assume empty values are an attempt "
                f"to unset a parameter; however '{name}' cannot be unset.",
                code="parameter_invalid_empty",
                param=name,
            )
        options = tuple(choices)
        if options and value not in options:
            raise ParameterError(f"Invalid {name}: must be one of {', '.join(options)}", param=name)
        return value

    def integer(
        self, name: str, *, required: bool = False, minimum: int | None = None
    ) -> int | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise ParameterError(
                f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise ParameterError(
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=name,
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._raw(name, False)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise ParameterError(f"Invalid boolean: {value}", param=name)
        return bool(value == "true")

    def mapping(self, name: str, *, allowed: Iterable[str] | None = None) -> dict[str, Any] | None:
        """A hash parameter; an empty string (Stripe's way to unset it) gives an empty dict."""
        value = self._raw(name, False)
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict):
            raise ParameterError(f"Invalid object: {name}", param=name)
        if allowed is not None:
            for key in value:
                if key not in set(allowed):
                    shown = f"{name}[{key}]"
                    raise ParameterError(
                        f"Received unknown parameter: {shown}",
                        code="parameter_unknown",
                        param=shown,
                    )
        return value

    def strings(self, name: str) -> list[str] | None:
        value = self._raw(name, False)
        if value is None:
            return None
        if isinstance(value, str):
            return [value] if value else []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParameterError(f"Invalid array: {name}", param=name)
        return list(value)

    def metadata(self) -> dict[str, str] | None:
        """`metadata`, with Stripe's limits (50 keys, 40-char keys, 500-char string values)."""
        value = self.mapping("metadata")
        if value is None:
            return None
        if len(value) > 50:
            raise ParameterError("Metadata can have at most 50 keys.", param="metadata")
        for key, item in value.items():
            if not isinstance(item, str):
                raise ParameterError(f"Invalid metadata[{key}]: must be a string", param="metadata")
            if len(key) > 40 or len(item) > 500:
                raise ParameterError(
                    "Metadata keys can be at most 40 characters and values at most 500.",
                    param=f"metadata[{key}]",
                )
        return {str(k): str(v) for k, v in value.items()}
