"""How a self-test scenario decides: `ScenarioFailed`, response expectations, deadline polling.

A scenario is a function that returns a short detail for its PASS line or raises
`ScenarioFailed` with the reason for its FAIL line (`ScenarioSkipped` for a SKIP line: the
service under test does not offer what the scenario needs, such as PayPal switched off).
Asynchronous effects (webhooks applied by the worker) are awaited with `eventually`, which
polls until a deadline; "nothing happens" is checked with `throughout`, which polls for a
whole window and fails at the first sign of the effect. No fixed sleep is ever the check
itself. No HTTP routes or payloads live here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from eventpay.selftest.client import ServiceUnderTest

# Long enough for a webhook round trip on a slow CI machine, short enough to fail fast.
DEADLINE_S = 15.0
# The worker polls every 0.2 s by default: a window of several polls shows a wrongly
# accepted event being applied, if it ever would be.
SETTLE_S = 2.0
POLL_S = 0.1

# A check of the current state: None when it holds, otherwise what is wrong, for the report.
Problem = Callable[[], str | None]


class ScenarioFailed(Exception):
    """A scenario's expectation did not hold; the message is the FAIL line's reason."""


class ScenarioSkipped(Exception):
    """The service does not offer what the scenario needs; the message is the SKIP reason."""


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[ServiceUnderTest], str]
    """Drives the service and returns the PASS line's detail."""
    needs_paypal: bool = False
    """Skipped, not run, against a service whose payment config has PayPal switched off."""


def eventually(problem: Problem, *, timeout_s: float = DEADLINE_S) -> None:
    """Poll until `problem()` is None; fail with its last answer once the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = problem()
        if found is None:
            return
        if time.monotonic() >= deadline:
            raise ScenarioFailed(f"{found} (after {timeout_s:g}s)")
        time.sleep(POLL_S)


def throughout(problem: Problem, *, window_s: float = SETTLE_S) -> None:
    """Poll for the whole window; fail as soon as `problem()` reports something."""
    deadline = time.monotonic() + window_s
    while True:
        found = problem()
        if found is not None:
            raise ScenarioFailed(found)
        if time.monotonic() >= deadline:
            return
        time.sleep(POLL_S)


def error_code(response: httpx.Response) -> str | None:
    """The `error.code` of a body in the contract's error shape, if the response has one."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _shown(response: httpx.Response) -> str:
    request = response.request
    code = error_code(response)
    answer = f"{response.status_code} {code}" if code else str(response.status_code)
    return f"{request.method} {request.url.path} answered {answer}"


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON body of a response that must have `status`."""
    if response.status_code != status:
        raise ScenarioFailed(f"{_shown(response)}, expected {status}")
    try:
        return response.json()
    except ValueError:
        raise ScenarioFailed(f"{_shown(response)} with a body that is not JSON") from None


def expect_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """The error code of a contract error response with `status` (and `code`, when given)."""
    found = error_code(response)
    if response.status_code != status or (code is not None and found != code):
        wanted = f"{status} {code}" if code else str(status)
        raise ScenarioFailed(f"{_shown(response)}, expected {wanted}")
    if found is None:
        raise ScenarioFailed(f"{_shown(response)} without an error code in the contract's shape")
    return found
