"""Team competitions, teams and series packages in SQL (`db.team_models`).

Plain rows: counting team slots and refusing a team name already taken are the places'
conditional statements (`db.place_repository`), done before a team is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventpay.db.team_models import (
    SeriesEventRow,
    SeriesPriceRow,
    SeriesRow,
    TeamCompetitionRow,
    TeamMemberRow,
    TeamRow,
)
from eventpay.ports.teams import (
    SeriesRecord,
    TeamCompetitionRecord,
    TeamMemberRecord,
    TeamRecord,
)


def _competition(row: TeamCompetitionRow) -> TeamCompetitionRecord:
    return TeamCompetitionRecord(
        event_id=row.event_id,
        class_id=row.class_id,
        fee_mode=row.fee_mode,
        fee=row.fee,
        min_members=row.min_members,
        max_members=row.max_members,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


class SqlTeamRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get_competition(self, event_id: str) -> TeamCompetitionRecord | None:
        row = self._s.get(TeamCompetitionRow, event_id)
        return None if row is None else _competition(row)

    def put_competition(self, competition: TeamCompetitionRecord) -> None:
        row = self._s.get(TeamCompetitionRow, competition.event_id)
        if row is None:
            row = TeamCompetitionRow(event_id=competition.event_id)
            self._s.add(row)
        row.class_id = competition.class_id
        row.fee_mode = competition.fee_mode
        row.fee = competition.fee
        row.min_members = competition.min_members
        row.max_members = competition.max_members
        row.updated_at = competition.updated_at
        row.updated_by = competition.updated_by
        self._s.flush()

    def add_team(self, team: TeamRecord) -> None:
        self._s.add(
            TeamRow(
                id=team.id,
                order_id=team.order_id,
                event_id=team.event_id,
                class_id=team.class_id,
                name=team.name,
                name_key=team.name_key,
                captain_id=team.captain_id,
                created_at=team.created_at,
            )
        )
        self._s.flush()
        self._s.add_all(
            TeamMemberRow(
                team_id=team.id,
                competitor_id=member.competitor_id,
                registration_id=member.registration_id,
                position=member.position,
            )
            for member in team.members
        )
        self._s.flush()

    def _teams(self, rows: Sequence[TeamRow]) -> list[TeamRecord]:
        if not rows:
            return []
        members: dict[str, list[TeamMemberRecord]] = {}
        for member in self._s.scalars(
            select(TeamMemberRow)
            .where(TeamMemberRow.team_id.in_([row.id for row in rows]))
            .order_by(TeamMemberRow.team_id, TeamMemberRow.position)
        ):
            members.setdefault(member.team_id, []).append(
                TeamMemberRecord(member.competitor_id, member.registration_id, member.position)
            )
        return [
            TeamRecord(
                id=row.id,
                order_id=row.order_id,
                event_id=row.event_id,
                class_id=row.class_id,
                name=row.name,
                name_key=row.name_key,
                captain_id=row.captain_id,
                created_at=row.created_at,
                members=tuple(members.get(row.id, ())),
            )
            for row in rows
        ]

    def get_team(self, team_id: str) -> TeamRecord | None:
        row = self._s.get(TeamRow, team_id)
        return None if row is None else self._teams([row])[0]

    def teams_for_order(self, order_id: str) -> Sequence[TeamRecord]:
        rows = self._s.scalars(
            select(TeamRow).where(TeamRow.order_id == order_id).order_by(TeamRow.created_at)
        ).all()
        return self._teams(rows)

    def teams_of_captain(self, captain_id: str) -> Sequence[TeamRecord]:
        rows = self._s.scalars(
            select(TeamRow)
            .where(TeamRow.captain_id == captain_id)
            .order_by(TeamRow.created_at.desc(), TeamRow.id)
        ).all()
        return self._teams(rows)

    def add_series(self, series: SeriesRecord) -> None:
        self._s.add(
            SeriesRow(
                id=series.id,
                name=series.name,
                currency=series.currency,
                created_at=series.created_at,
                created_by=series.created_by,
            )
        )
        self._s.flush()
        self._s.add_all(
            SeriesEventRow(series_id=series.id, event_id=event_id, position=position)
            for position, event_id in enumerate(series.event_ids)
        )
        self._s.add_all(
            SeriesPriceRow(series_id=series.id, class_code=code, amount=amount)
            for code, amount in series.prices.items()
        )
        self._s.flush()

    def _series(self, rows: Sequence[SeriesRow]) -> list[SeriesRecord]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        events: dict[str, list[str]] = {}
        for event in self._s.scalars(
            select(SeriesEventRow)
            .where(SeriesEventRow.series_id.in_(ids))
            .order_by(SeriesEventRow.series_id, SeriesEventRow.position)
        ):
            events.setdefault(event.series_id, []).append(event.event_id)
        prices: dict[str, dict[str, int]] = {}
        for price in self._s.scalars(
            select(SeriesPriceRow)
            .where(SeriesPriceRow.series_id.in_(ids))
            .order_by(SeriesPriceRow.series_id, SeriesPriceRow.class_code)
        ):
            prices.setdefault(price.series_id, {})[price.class_code] = price.amount
        return [
            SeriesRecord(
                id=row.id,
                name=row.name,
                currency=row.currency,
                event_ids=tuple(events.get(row.id, ())),
                prices=prices.get(row.id, {}),
                created_at=row.created_at,
                created_by=row.created_by,
            )
            for row in rows
        ]

    def get_series(self, series_id: str) -> SeriesRecord | None:
        row = self._s.get(SeriesRow, series_id)
        return None if row is None else self._series([row])[0]

    def list_series(self) -> Sequence[SeriesRecord]:
        rows = self._s.scalars(select(SeriesRow).order_by(SeriesRow.created_at, SeriesRow.id))
        return self._series(rows.all())
