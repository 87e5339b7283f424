"""Who calls, and the names of things every port shares (providers, roles, the clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

Clock = Callable[[], datetime]


class ProviderName(StrEnum):
    STRIPE = "stripe"
    PAYPAL = "paypal"


class Role(StrEnum):
    COMPETITOR = "competitor"
    ORGANIZER = "organizer"
    ADMIN = "admin"
    SPONSOR = "sponsor"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the authenticated user, and where from (for the audit log)."""

    user_id: str
    role: Role
    organizer_id: str | None = None
    ip_address: str | None = None


SYSTEM_ACTOR = "system"
