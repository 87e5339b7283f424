"""Team registrations and series packages: their tables.

`team_competitions` holds an event's team terms (the class teams enter, the fee and how it is
charged, team sizes); the number of team slots is the stock item "team:<event_id>"
(`db.stock_models`), like every other capacity. `teams` and `team_members` are the rosters
orders stored: one row per member with the registration the order created for them. A team is
active while its order's places are (held or confirmed), which the places decide, not a flag
here.

`series`, `series_events` and `series_prices` are packages of events sold together: the events
in order and the package price per class code.

The terms refer to events and classes without foreign keys on purpose: an organizer may delete
an event or a class that has no orders, and a pricer answers 422 for terms whose event or class
is gone. Teams, which exist only with an order, refer to theirs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from eventpay.db.models import Base, UTCDateTime


class TeamCompetitionRow(Base):
    __tablename__ = "team_competitions"
    __table_args__ = (
        CheckConstraint("fee >= 0", name="fee_not_negative"),
        CheckConstraint("min_members >= 1 AND min_members <= max_members", name="sizes_ordered"),
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(64))
    fee_mode: Mapped[str] = mapped_column(String(16))
    fee: Mapped[int] = mapped_column(BigInteger)
    min_members: Mapped[int] = mapped_column(Integer)
    max_members: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(128))


class TeamRow(Base):
    __tablename__ = "teams"
    __table_args__ = (Index("ix_teams_event_id_name_key", "event_id", "name_key"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    class_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(128))
    captain_id: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamMemberRow(Base):
    __tablename__ = "team_members"
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    competitor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class SeriesRow(Base):
    __tablename__ = "series"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))


class SeriesEventRow(Base):
    __tablename__ = "series_events"
    series_id: Mapped[str] = mapped_column(ForeignKey("series.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class SeriesPriceRow(Base):
    __tablename__ = "series_prices"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)
    series_id: Mapped[str] = mapped_column(ForeignKey("series.id"), primary_key=True)
    class_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
