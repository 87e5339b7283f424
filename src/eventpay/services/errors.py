"""Errors a use case raises; the web layer maps each branch to one HTTP status.

ServiceError                 (code, message, details)
├── NotFound                 404: absent, or not the caller's (never 403: no existence leak)
├── InvalidRequest           422: well-formed but not acceptable (unknown class, bad provider)
├── Conflict                 409: valid, but not in the object's current state
└── Unavailable              503: a dependency did not answer; safe to retry later
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_hint = 500

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class NotFound(ServiceError):
    pass


class InvalidRequest(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Unavailable(ServiceError):
    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        retry_after_s: int = 5,
    ) -> None:
        super().__init__(code, message, details)
        self.retry_after_s = retry_after_s
