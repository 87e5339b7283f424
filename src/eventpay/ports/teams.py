"""The teams port: events' team competitions, the teams registered, and series packages.

A team competition's slots and its teams' names are counted as places (`ports.places`, stock
items "team:<event_id>" and "teamname:<event_id>"), so nothing here counts anything: these are
the terms organizers set and the rosters orders stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TeamCompetitionRecord:
    """An event's team terms (`domain.teams.TeamTerms`); `fee` in the event's minor units."""

    event_id: str
    class_id: str
    fee_mode: str
    fee: int
    min_members: int
    max_members: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class TeamMemberRecord:
    competitor_id: str
    registration_id: str
    position: int  # 0: the captain


@dataclass(frozen=True, slots=True)
class TeamRecord:
    id: str
    order_id: str
    event_id: str
    class_id: str
    name: str
    name_key: str
    captain_id: str
    created_at: datetime
    members: tuple[TeamMemberRecord, ...]


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    """A series package: its events in order and the package price (minor units) by code."""

    id: str
    name: str
    currency: str
    event_ids: tuple[str, ...]
    prices: Mapping[str, int]
    created_at: datetime
    created_by: str


class TeamRepository(Protocol):
    def get_competition(self, event_id: str) -> TeamCompetitionRecord | None: ...

    def put_competition(self, competition: TeamCompetitionRecord) -> None:
        """Store the event's terms, replacing any it had."""
        ...

    def add_team(self, team: TeamRecord) -> None: ...

    def get_team(self, team_id: str) -> TeamRecord | None: ...

    def teams_for_order(self, order_id: str) -> Sequence[TeamRecord]: ...

    def teams_of_captain(self, captain_id: str) -> Sequence[TeamRecord]:
        """The captain's teams, newest first."""
        ...

    def add_series(self, series: SeriesRecord) -> None: ...

    def get_series(self, series_id: str) -> SeriesRecord | None: ...

    def list_series(self) -> Sequence[SeriesRecord]:
        """Every series, oldest first."""
        ...
