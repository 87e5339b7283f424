"""In-memory team competitions, teams and series: the same answers as `db.team_repository`,
on the fake unit of work's tables (`teams`: one `TeamTables`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventpay.ports.teams import SeriesRecord, TeamCompetitionRecord, TeamRecord


@dataclass
class TeamTables:
    competitions: dict[str, TeamCompetitionRecord] = field(default_factory=dict)
    teams: dict[str, TeamRecord] = field(default_factory=dict)
    series: dict[str, SeriesRecord] = field(default_factory=dict)


class FakeTeamRepository:
    def __init__(self, uow: Any) -> None:
        self._uow = uow

    @property
    def _t(self) -> TeamTables:
        tables: TeamTables = self._uow.tables.teams
        return tables

    def get_competition(self, event_id: str) -> TeamCompetitionRecord | None:
        return self._t.competitions.get(event_id)

    def put_competition(self, competition: TeamCompetitionRecord) -> None:
        self._t.competitions[competition.event_id] = competition

    def add_team(self, team: TeamRecord) -> None:
        if team.id in self._t.teams:
            raise KeyError(f"team {team.id} exists")
        if team.order_id not in self._uow.tables.orders:
            raise KeyError(f"team {team.id}: no order {team.order_id}")
        self._t.teams[team.id] = team

    def get_team(self, team_id: str) -> TeamRecord | None:
        return self._t.teams.get(team_id)

    def teams_for_order(self, order_id: str) -> Sequence[TeamRecord]:
        return sorted(
            (t for t in self._t.teams.values() if t.order_id == order_id),
            key=lambda t: t.created_at,
        )

    def teams_of_captain(self, captain_id: str) -> Sequence[TeamRecord]:
        mine = [t for t in self._t.teams.values() if t.captain_id == captain_id]
        mine.sort(key=lambda t: t.id)
        mine.sort(key=lambda t: t.created_at, reverse=True)
        return mine

    def add_series(self, series: SeriesRecord) -> None:
        if series.id in self._t.series:
            raise KeyError(f"series {series.id} exists")
        self._t.series[series.id] = series

    def get_series(self, series_id: str) -> SeriesRecord | None:
        return self._t.series.get(series_id)

    def list_series(self) -> Sequence[SeriesRecord]:
        return sorted(self._t.series.values(), key=lambda s: (s.created_at, s.id))
